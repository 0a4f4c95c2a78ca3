import { describe, expect, it } from 'vitest';
import { eligibilityWarnings } from './eligibility';

const today = new Date('2026-11-26T10:00:00Z');
const child = { ageYears: { min: 1, max: 5 }, imageKind: 'frontal chest X-ray of a child' };
const women = { ageYears: { min: 21, max: 81 }, sex: ['female' as const] };

describe('eligibility warnings', () => {
  it('says nothing for a patient the model was made for, or without a patient', () => {
    expect(eligibilityWarnings(child, { sex: 'male', birthDate: '2023-05-01' }, today)).toEqual([]);
    expect(eligibilityWarnings(child, null, today)).toEqual([]);
    expect(eligibilityWarnings(undefined, { sex: 'male', birthDate: null }, today)).toEqual([]);
  });

  it('counts a child of 5 years and 11 months as 5, and a 38-year-old as outside', () => {
    expect(eligibilityWarnings(child, { sex: 'female', birthDate: '2021-01-01' }, today)).toEqual(
      [],
    );
    expect(eligibilityWarnings(child, { sex: 'female', birthDate: '1988-03-02' }, today)).toEqual([
      'This model was made for patients aged 1 to 5 years; this patient is 38 years old.',
    ]);
    expect(eligibilityWarnings(child, { sex: 'male', birthDate: '2026-06-01' }, today)).toEqual([
      'This model was made for patients aged 1 to 5 years; this patient is 5 months old.',
    ]);
  });

  it('warns about sex and a missing age', () => {
    expect(eligibilityWarnings(women, { sex: 'male', birthDate: '1961-01-01' }, today)).toEqual([
      'This model was made for women and girls only; its result for this patient is uncertain.',
    ]);
    expect(eligibilityWarnings(women, { sex: 'female', birthDate: null }, today)).toEqual([
      "This model was made for patients aged 21 to 81 years; this patient's age is not recorded.",
    ]);
  });
});
