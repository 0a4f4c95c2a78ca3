import { m } from '$lib/paraglide/messages';
/**
 * What a model's result means where the clinician works. A model's calibrated probability holds at
 * the prevalence of its training data; sensitivity and specificity do not say how likely a flagged
 * patient is to be ill. Both follow from Bayes' rule once the local prevalence is known.
 * Pure functions; the maths is pinned by hand-computed cases in prevalence.test.ts.
 */

const odds = (p: number) => p / (1 - p);
const fromOdds = (o: number) => o / (1 + o);

function checkProbability(name: string, p: number, open = false): void {
  const ok = open ? p > 0 && p < 1 : p >= 0 && p <= 1;
  if (!Number.isFinite(p) || !ok) {
    throw new RangeError(`${name} must be ${open ? 'between 0 and 1 (exclusive)' : 'from 0 to 1'}`);
  }
}

/**
 * The probability adjusted from the training prevalence to the local one (prior shift): the
 * posterior odds are multiplied by the ratio of the local prior odds to the training prior odds.
 * Assumes the disease looks the same in both places (only how common it is differs).
 */
export function adjustToPrevalence(
  probability: number,
  trainingPrevalence: number,
  localPrevalence: number,
): number {
  checkProbability('probability', probability);
  checkProbability('training prevalence', trainingPrevalence, true);
  checkProbability('local prevalence', localPrevalence, true);
  if (probability === 0 || probability === 1) return probability;
  return fromOdds((odds(probability) * odds(localPrevalence)) / odds(trainingPrevalence));
}

export interface PredictiveValues {
  /** Of the patients flagged positive, the share who have the condition. */
  ppv: number;
  /** Of the patients not flagged, the share who do not have it. */
  npv: number;
}

/** Positive and negative predictive values at the model's threshold, for a prevalence. */
export function predictiveValues(
  sensitivity: number,
  specificity: number,
  prevalence: number,
): PredictiveValues {
  checkProbability('sensitivity', sensitivity);
  checkProbability('specificity', specificity);
  checkProbability('prevalence', prevalence, true);
  const truePositive = sensitivity * prevalence;
  const falsePositive = (1 - specificity) * (1 - prevalence);
  const trueNegative = specificity * (1 - prevalence);
  const falseNegative = (1 - sensitivity) * prevalence;
  return {
    ppv: truePositive + falsePositive === 0 ? 0 : truePositive / (truePositive + falsePositive),
    npv: trueNegative + falseNegative === 0 ? 0 : trueNegative / (trueNegative + falseNegative),
  };
}

/** "about 7 in 10", "fewer than 1 in 10", "more than 9 in 10": a share as a clinician says it. */
export function inTen(share: number): string {
  checkProbability('share', share);
  const tenths = Math.round(share * 10);
  if (share < 0.05) return m.prev_fewer_than_1();
  if (share > 0.95) return m.prev_more_than_9();
  return m.prev_about({ tenths });
}

/**
 * The sentence a clinician needs about a result: how many patients flagged (or not flagged) like
 * this one have (or do not have) the condition at the local prevalence.
 */
export function predictiveSentence(
  positive: boolean,
  condition: string,
  values: PredictiveValues,
): string {
  return positive
    ? capitalise(m.prev_flagged({ share: inTen(values.ppv), condition }))
    : capitalise(m.prev_not_flagged({ share: inTen(1 - values.npv), condition }));
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
