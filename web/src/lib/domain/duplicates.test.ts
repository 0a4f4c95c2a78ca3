import { describe, expect, it } from 'vitest';
import { agesAgree, editDistance, findDuplicates, nameSimilarity } from './duplicates';
import { estimateBirthDate } from './patient';
import type { Patient, PatientFields } from './records';

const today = new Date('2026-11-26T10:00:00Z');

function fields(over: Partial<PatientFields> = {}): PatientFields {
  return {
    givenName: 'Joseph',
    familyName: 'Kamau',
    sex: 'male',
    birthDate: estimateBirthDate(65, 0, today),
    birthDateEstimated: true,
    village: '',
    phone: '',
    identifiers: [],
    ...over,
  };
}

function patient(over: Partial<PatientFields>, id: string, deleted = false): Patient {
  return {
    ...fields(over),
    id,
    teamId: 't',
    version: 1,
    updatedAt: '2026-01-01T00:00:00Z',
    updatedBy: 'u',
    deleted,
  };
}

const ids = (list: { patient: Patient }[]) => list.map((c) => c.patient.id);

describe('name similarity', () => {
  it('ignores accents, case and separators', () => {
    expect(nameSimilarity('Aminata Traoré', 'AMINATA TRAORE')).toBe(1);
    expect(nameSimilarity("N'Diaye", 'Ndiaye')).toBe(1);
    expect(nameSimilarity('Kéniéba', 'Keniéba')).toBe(1);
  });

  it('takes one typo in a name, and a second given name', () => {
    expect(editDistance('kamau', 'kamua')).toBe(1);
    expect(editDistance('kamau', 'kamal')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(nameSimilarity('Mohamed', 'Mohammed')).toBeGreaterThanOrEqual(0.8);
    expect(nameSimilarity('Joseph', 'Joseph Mwangi')).toBe(0.9);
    expect(nameSimilarity('Joseph', 'Josephine')).toBeLessThan(0.8);
    expect(nameSimilarity('Ali', 'Ada')).toBeLessThan(0.8);
  });
});

describe('ages', () => {
  it('lets an estimated age be off by a few years, more for the old', () => {
    const at = (years: number, estimated = true) =>
      fields({ birthDate: estimateBirthDate(years, 0, today), birthDateEstimated: estimated });
    expect(agesAgree(at(65), at(60), today)).toBe(true);
    expect(agesAgree(at(65), at(45), today)).toBe(false);
    expect(agesAgree(at(8), at(10), today)).toBe(true);
    expect(agesAgree(at(8), at(30), today)).toBe(false);
    expect(agesAgree(fields({ birthDate: null }), at(30), today)).toBe(true);
  });

  it('needs the same year for two exact birth dates', () => {
    const exact = (birthDate: string) => fields({ birthDate, birthDateEstimated: false });
    expect(agesAgree(exact('1990-05-01'), exact('1990-12-31'), today)).toBe(true);
    expect(agesAgree(exact('1990-12-31'), exact('1991-01-01'), today)).toBe(false);
  });
});

describe('findDuplicates', () => {
  it('finds the same man without a village (the village does not decide)', () => {
    const existing = [patient({ village: 'Nyeri' }, 'a')];
    expect(ids(findDuplicates(fields(), existing, today))).toEqual(['a']);
  });

  it('finds names entered the other way round, and says so', () => {
    const [found] = findDuplicates(
      fields({ givenName: 'Kamau', familyName: 'Joseph' }),
      [patient({}, 'a')],
      today,
    );
    expect(found).toMatchObject({ swapped: true });
    expect(found?.patient.id).toBe('a');
  });

  it('finds accents and a typo, and ranks the same village first', () => {
    const existing = [
      patient({ givenName: 'Josèph', familyName: 'Kamau', village: 'Other' }, 'a'),
      patient({ givenName: 'Joseph', familyName: 'Kamua', village: 'Nyeri' }, 'b'),
    ];
    expect(ids(findDuplicates(fields({ village: 'nyeri' }), existing, today))).toEqual(['b', 'a']);
  });

  it('leaves out another sex, another age, other names, deleted and the one edited', () => {
    const existing = [
      patient({ sex: 'female' }, 'sex'),
      patient({ birthDate: estimateBirthDate(30, 0, today) }, 'age'),
      patient({ givenName: 'Peter' }, 'name'),
      patient({}, 'deleted', true),
      patient({}, 'self'),
      patient({ sex: 'unknown' }, 'unknown-sex'),
    ];
    expect(ids(findDuplicates(fields(), existing, today, 'self'))).toEqual(['unknown-sex']);
  });
});
