import { m } from '$lib/paraglide/messages';
import type { Assessment, Verdict } from './records';

const PHRASES: Record<Verdict, () => string> = {
  agree: m.assessment_agree,
  disagree: m.assessment_disagree,
  unsure: m.assessment_unsure,
};

/** The assessment as a reader sees it in a list: "clinician disagrees", or that it is awaited. */
export function assessmentPhrase(assessment: Pick<Assessment, 'verdict'> | null): string {
  return assessment ? PHRASES[assessment.verdict]() : m.assessment_awaited();
}
