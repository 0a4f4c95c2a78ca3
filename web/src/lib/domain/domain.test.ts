import { describe, expect, it } from 'vitest';
import {
  ageAt,
  ageInMonths,
  estimateBirthDate,
  formatAge,
  matchesQuery,
  parsePatientForm,
  patientToForm,
  searchTokens,
  type PatientFormInput,
} from './patient';
import { EMPTY_VITALS, type PatientFields } from './records';
import { foldText, words } from './text';
import { dangerSentence, dangerSigns, flagVitals, implausibleVitals } from './vitals';

const today = new Date('2026-11-26T10:00:00Z');

const form = (over: Partial<PatientFormInput> = {}): PatientFormInput => ({
  givenName: 'Émile',
  familyName: "N'Diaye",
  sex: 'male',
  birthDate: '',
  ageYears: '34',
  ageMonths: '',
  village: 'Kédougou',
  phone: '+221 77 123 45 67',
  identifiers: [{ kind: 'National ID', value: 'SN-1234-567' }],
  ...over,
});

describe('text folding', () => {
  it('drops accents and case', () => {
    expect(foldText('  ÉMILE Ñandú ')).toBe('emile nandu');
    expect(words("N'Diaye-Sow  Émile")).toEqual(['n', 'diaye', 'sow', 'emile']);
  });
});

describe('ages', () => {
  it('estimates a birth date from years and months', () => {
    expect(estimateBirthDate(34, 0, today)).toBe('1992-11-26');
    expect(estimateBirthDate(0, 3, today)).toBe('2026-08-26');
    // 31 March minus one month does not overflow into March.
    expect(estimateBirthDate(0, 1, new Date('2026-03-31T00:00:00Z'))).toBe('2026-02-28');
  });

  it('counts completed months', () => {
    expect(ageInMonths('2026-08-27', today)).toBe(2);
    expect(ageInMonths('2026-08-26', today)).toBe(3);
    expect(ageInMonths(null, today)).toBeNull();
    expect(ageAt('1992-11-27', today)).toEqual({ years: 33, months: 11 });
  });

  it('shows infants in months and estimates with a tilde', () => {
    expect(formatAge('2025-11-26', false, today)).toBe('12 mo');
    expect(formatAge('1992-11-26', true, today)).toBe('~34 y');
    expect(formatAge(null, false, today)).toBe('age unknown');
  });
});

describe('patient form', () => {
  it('turns an estimated age into an estimated birth date', () => {
    const result = parsePatientForm(form(), today);
    expect(result).toMatchObject({
      ok: true,
      value: { birthDate: '1992-11-26', birthDateEstimated: true, givenName: 'Émile' },
    });
  });

  it('keeps an exact birth date', () => {
    const result = parsePatientForm(form({ birthDate: '2020-02-29', ageYears: '' }), today);
    expect(result).toMatchObject({
      ok: true,
      value: { birthDate: '2020-02-29', birthDateEstimated: false },
    });
  });

  it('names each bad field', () => {
    expect(parsePatientForm(form({ givenName: '  ' }), today)).toEqual({
      ok: false,
      errors: { givenName: 'is required' },
    });
    expect(
      parsePatientForm(form({ birthDate: '', ageYears: '', ageMonths: '' }), today),
    ).toMatchObject({
      ok: false,
      errors: { birthDate: expect.stringMatching(/date of birth or an estimated age/) },
    });
    expect(parsePatientForm(form({ birthDate: '2027-01-01' }), today)).toMatchObject({
      ok: false,
      errors: { birthDate: 'is in the future' },
    });
    expect(parsePatientForm(form({ birthDate: '2026-02-30' }), today)).toMatchObject({ ok: false });
    expect(parsePatientForm(form({ ageYears: '-1' }), today)).toMatchObject({
      ok: false,
      errors: { ageYears: expect.any(String) },
    });
    expect(parsePatientForm(form({ ageMonths: '12' }), today)).toMatchObject({
      ok: false,
      errors: { ageMonths: expect.any(String) },
    });
    expect(parsePatientForm(form({ phone: 'call me' }), today)).toMatchObject({
      ok: false,
      errors: { phone: expect.any(String) },
    });
    expect(parsePatientForm(form({ sex: 'x' as never }), today)).toMatchObject({
      ok: false,
      errors: { sex: expect.any(String) },
    });
  });

  it('edits an estimated age without moving the birth date', () => {
    const first = parsePatientForm(form({ ageYears: '34' }), today);
    if (!first.ok) throw new Error('invalid');
    const later = new Date('2027-03-10T00:00:00Z');
    const edit = patientToForm(first.value, later);
    expect(edit).toMatchObject({ birthDate: '', ageYears: '34', ageMonths: '3' });
    expect(parsePatientForm(edit, later)).toMatchObject({
      ok: true,
      value: { birthDate: '1992-11-26' },
    });
    expect(parsePatientForm({ ...edit, ageYears: '40' }, later)).toMatchObject({
      ok: true,
      value: { birthDate: '1986-12-10', birthDateEstimated: true },
    });
  });

  it('drops empty identifiers', () => {
    const result = parsePatientForm(form({ identifiers: [{ kind: 'Clinic', value: ' ' }] }), today);
    expect(result).toMatchObject({ ok: true, value: { identifiers: [] } });
  });
});

describe('search', () => {
  const fields = (parsePatientForm(form(), today) as { ok: true; value: PatientFields }).value;
  const tokens = searchTokens(fields);

  it('finds by name, village or identifier prefix, ignoring accents and case', () => {
    for (const query of [
      'emile',
      'EMI',
      'diaye',
      'kedou',
      'Kédougou',
      'sn1234',
      '1234',
      'emile ndiaye'.replace('ndiaye', 'diaye'),
    ]) {
      expect(matchesQuery(tokens, query), query).toBe(true);
    }
  });

  it('needs every word to match', () => {
    expect(matchesQuery(tokens, 'emile sow')).toBe(false);
    expect(matchesQuery(tokens, 'mile')).toBe(false);
  });
});

describe('vitals', () => {
  it('refuses implausible values', () => {
    expect(implausibleVitals({ ...EMPTY_VITALS, temperatureC: 375 })).toHaveProperty(
      'temperatureC',
    );
    expect(implausibleVitals({ ...EMPTY_VITALS, systolicBp: 80, diastolicBp: 90 })).toHaveProperty(
      'diastolicBp',
    );
    expect(implausibleVitals({ ...EMPTY_VITALS, temperatureC: 37 })).toEqual({});
  });

  it('flags fast breathing by age (IMCI)', () => {
    const vitals = { ...EMPTY_VITALS, respiratoryRate: 45 };
    expect(flagVitals(vitals, 1)).toEqual({});
    expect(flagVitals(vitals, 30).respiratoryRate?.level).toBe('warning');
    expect(flagVitals({ ...EMPTY_VITALS, respiratoryRate: 52 }, 6).respiratoryRate).toBeDefined();
  });

  it('flags fever, low SpO2 and malnutrition', () => {
    const flags = flagVitals({ ...EMPTY_VITALS, temperatureC: 39.2, spo2: 88, muacMm: 110 }, 24);
    expect(flags.temperatureC?.level).toBe('danger');
    expect(flags.spo2?.level).toBe('danger');
    expect(flags.muacMm?.message).toMatch(/Severe acute malnutrition/);
    // MUAC cut-offs are for 6–59 months only.
    expect(flagVitals({ ...EMPTY_VITALS, muacMm: 110 }, 300).muacMm).toBeUndefined();
  });

  it('does not guess age-dependent flags without an age', () => {
    expect(flagVitals({ ...EMPTY_VITALS, pulseBpm: 150, temperatureC: 38 }, null)).toEqual({
      temperatureC: { level: 'warning', message: 'Fever' },
    });
  });
});

describe('general danger signs', () => {
  it('picks them out of the symptoms and says them in one sentence', () => {
    expect(dangerSigns(['Cough', 'Convulsions', 'Unable to drink or feed'])).toEqual([
      'Unable to drink or feed',
      'Convulsions',
    ]);
    expect(dangerSentence(['Unable to drink or feed'])).toBe(
      'Danger sign: unable to drink or feed. Treat or refer urgently.',
    );
    expect(dangerSentence(['Cough', 'Fever'])).toBeNull();
  });
});
