import { describe, expect, it } from 'vitest';
import { assessmentPhrase } from './assessment';

describe('assessmentPhrase', () => {
  it('is a phrase for every verdict, and says when none is given', () => {
    expect(assessmentPhrase({ verdict: 'agree' })).toBe('clinician agrees');
    expect(assessmentPhrase({ verdict: 'disagree' })).toBe('clinician disagrees');
    expect(assessmentPhrase({ verdict: 'unsure' })).toBe('clinician is unsure');
    expect(assessmentPhrase(null)).toBe('awaiting your assessment');
  });
});
