import { describe, expect, it } from 'vitest';
import { visitValues } from './prefill';
import { EMPTY_VITALS } from './records';

describe('visitValues', () => {
  it('gives age at the visit, vitals under manifest keys and BMI from weight and height', () => {
    const values = visitValues(
      { birthDate: '1979-04-12' },
      {
        date: '2026-11-26',
        vitals: { ...EMPTY_VITALS, weightKg: 81, heightCm: 165, diastolicBp: 88 },
      },
    );
    expect(values).toEqual({ age: 47, weight: 81, height: 165, diastolic_bp: 88, bmi: 29.8 });
  });

  it('leaves out what was not measured', () => {
    expect(visitValues({ birthDate: null }, { date: '2026-11-26', vitals: EMPTY_VITALS })).toEqual(
      {},
    );
    expect(visitValues(undefined, undefined)).toEqual({});
  });
});
