import { describe, expect, it } from 'vitest';
import { adjustToPrevalence, inTen, predictiveSentence, predictiveValues } from './prevalence';

describe('adjusting a probability to the local prevalence (prior shift)', () => {
  it('leaves it unchanged at the training prevalence', () => {
    expect(adjustToPrevalence(0.8, 0.74, 0.74)).toBeCloseTo(0.8, 12);
  });

  it('matches a hand computation', () => {
    // p = 0.8 (odds 4) trained at 74 % (odds 0.74/0.26 = 2.84615…), used where 20 % have it
    // (odds 0.25): posterior odds 4 × 0.25 / 2.84615 = 0.351351…; probability 0.26.
    expect(adjustToPrevalence(0.8, 0.74, 0.2)).toBeCloseTo(0.26, 10);
    // p = 0.5 at 50 % trained, 10 % local: odds 1 × (1/9) / 1 → 0.1.
    expect(adjustToPrevalence(0.5, 0.5, 0.1)).toBeCloseTo(0.1, 12);
  });

  it('keeps certain answers and refuses impossible prevalences', () => {
    expect(adjustToPrevalence(1, 0.5, 0.1)).toBe(1);
    expect(adjustToPrevalence(0, 0.5, 0.1)).toBe(0);
    expect(() => adjustToPrevalence(0.5, 0, 0.1)).toThrow(/training prevalence/);
    expect(() => adjustToPrevalence(0.5, 0.5, 1)).toThrow(/local prevalence/);
    expect(() => adjustToPrevalence(Number.NaN, 0.5, 0.1)).toThrow(/probability/);
  });
});

describe('predictive values at the threshold', () => {
  it('matches a hand computation', () => {
    // sens 0.95, spec 0.90, prevalence 20 %: TP 0.19, FP 0.08, TN 0.72, FN 0.01.
    const v = predictiveValues(0.95, 0.9, 0.2);
    expect(v.ppv).toBeCloseTo(0.19 / 0.27, 12); // 0.7037
    expect(v.npv).toBeCloseTo(0.72 / 0.73, 12); // 0.9863
  });

  it('falls with prevalence, as a rare disease makes most positives false', () => {
    const rare = predictiveValues(0.95, 0.9, 0.01);
    expect(rare.ppv).toBeCloseTo(0.0095 / (0.0095 + 0.099), 12); // 0.0876
    expect(rare.ppv).toBeLessThan(predictiveValues(0.95, 0.9, 0.2).ppv);
  });

  it('refuses values that are not probabilities', () => {
    expect(() => predictiveValues(1.2, 0.9, 0.2)).toThrow(/sensitivity/);
    expect(() => predictiveValues(0.9, -0.1, 0.2)).toThrow(/specificity/);
    expect(() => predictiveValues(0.9, 0.9, 0)).toThrow(/prevalence/);
  });
});

describe('the sentence a clinician reads', () => {
  it('says shares in tenths', () => {
    expect(inTen(0.7037)).toBe('about 7 in 10');
    expect(inTen(0.03)).toBe('fewer than 1 in 10');
    expect(inTen(0.97)).toBe('more than 9 in 10');
    expect(inTen(0.25)).toBe('about 3 in 10');
  });

  it('speaks of flagged patients for a positive result and of missed ones for a negative', () => {
    const v = predictiveValues(0.95, 0.9, 0.2);
    expect(predictiveSentence(true, 'pneumonia', v)).toBe(
      'About 7 in 10 patients flagged like this have pneumonia here.',
    );
    expect(predictiveSentence(false, 'pneumonia', v)).toBe(
      'Fewer than 1 in 10 patients not flagged like this have pneumonia here.',
    );
  });
});
