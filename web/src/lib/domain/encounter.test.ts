import { describe, expect, it } from 'vitest';
import {
  encounterToForm,
  isBlankForm,
  parseDecimal,
  parseEncounterForm,
  sameValues,
  validPart,
} from './encounter';
import { EMPTY_VITALS } from './records';

const today = new Date('2026-11-26T10:00:00Z');
const blank = encounterToForm({
  date: '2026-11-26',
  complaint: '',
  vitals: EMPTY_VITALS,
  symptoms: [],
  notes: '',
});

describe('encounter form', () => {
  it('reads decimals with a comma or a point', () => {
    expect(parseDecimal('37,5')).toBe(37.5);
    expect(parseDecimal(' 37.5 ')).toBe(37.5);
    expect(parseDecimal('')).toBeNull();
    expect(parseDecimal('abc')).toBeNaN();
  });

  it('accepts a visit with some vitals missing', () => {
    const form = {
      ...blank,
      complaint: ' Cough ',
      vitals: { ...blank.vitals, temperatureC: '38,2' },
    };
    expect(parseEncounterForm(form, today)).toMatchObject({
      ok: true,
      value: { complaint: 'Cough', vitals: { temperatureC: 38.2, pulseBpm: null } },
    });
  });

  it('names every bad field', () => {
    const form = {
      ...blank,
      date: '2026-12-01',
      vitals: { ...blank.vitals, temperatureC: '375', pulseBpm: 'fast' },
    };
    const result = parseEncounterForm(form, today);
    expect(result).toEqual({
      ok: false,
      errors: {
        date: 'Visit date is in the future',
        temperatureC: 'Temperature must be between 30 and 45 °C',
        pulseBpm: 'Pulse must be a number',
      },
    });
  });

  it('round-trips a saved encounter', () => {
    const vitals = { ...EMPTY_VITALS, spo2: 97 };
    const form = encounterToForm({
      date: '2026-11-20',
      complaint: 'x',
      vitals,
      symptoms: ['Fever'],
      notes: 'n',
    });
    expect(parseEncounterForm(form, today)).toMatchObject({
      ok: true,
      value: { vitals: { spo2: 97 }, symptoms: ['Fever'] },
    });
  });
});

describe('validPart: what saves while a field is wrong', () => {
  const saved = {
    date: '2026-11-25',
    complaint: '',
    vitals: { ...EMPTY_VITALS, temperatureC: 37, systolicBp: 120, diastolicBp: 80 },
    symptoms: [],
    notes: '',
  };

  it('saves the complaint and the valid vitals; the wrong one keeps its last saved value', () => {
    const form = {
      ...encounterToForm(saved),
      complaint: ' Headache ',
      vitals: { ...encounterToForm(saved).vitals, temperatureC: '80', pulseBpm: '130' },
    };
    const { value, errors } = validPart(form, saved, today);
    expect(errors).toEqual({ temperatureC: 'Temperature must be between 30 and 45 °C' });
    expect(value.complaint).toBe('Headache');
    expect(value.vitals).toMatchObject({ temperatureC: 37, pulseBpm: 130 });
  });

  it('keeps an invalid date as last saved and a contradicting blood pressure pair together', () => {
    const form = {
      ...encounterToForm(saved),
      date: '2027-01-01',
      vitals: { ...encounterToForm(saved).vitals, systolicBp: '75', spo2: '91' },
    };
    const { value, errors } = validPart(form, saved, today);
    expect(Object.keys(errors).sort()).toEqual(['date', 'diastolicBp']);
    expect(value.date).toBe('2026-11-25');
    expect(value.vitals).toMatchObject({ systolicBp: 120, diastolicBp: 80, spo2: 91 });
  });

  it('is the whole form when nothing is wrong', () => {
    const form = { ...encounterToForm(saved), notes: 'ok' };
    expect(validPart(form, saved, today)).toEqual({
      errors: {},
      value: { ...saved, notes: 'ok' },
    });
  });
});

describe('sameValues', () => {
  const visit = {
    date: '2026-11-25',
    complaint: 'x',
    vitals: EMPTY_VITALS,
    symptoms: [],
    notes: '',
  };
  it('tells an unchanged visit from an edited one', () => {
    expect(sameValues(visit, { ...visit, vitals: { ...EMPTY_VITALS } })).toBe(true);
    expect(sameValues(visit, { ...visit, vitals: { ...EMPTY_VITALS, spo2: 97 } })).toBe(false);
    expect(sameValues(visit, { ...visit, symptoms: ['Fever'] })).toBe(false);
  });
});

describe('isBlankForm', () => {
  it('is blank with only the date, and not with any typed value', () => {
    expect(isBlankForm(blank)).toBe(true);
    expect(isBlankForm({ ...blank, complaint: '  ' })).toBe(true);
    expect(isBlankForm({ ...blank, notes: 'seen' })).toBe(false);
    expect(isBlankForm({ ...blank, symptoms: ['Cough'] })).toBe(false);
    // An invalid value is still input: it must not be discarded.
    expect(isBlankForm({ ...blank, vitals: { ...blank.vitals, temperatureC: '375' } })).toBe(false);
  });
});
