import type { Assessment, Verdict } from './records';

const PHRASES: Record<Verdict, string> = {
  agree: 'clinician agrees',
  disagree: 'clinician disagrees',
  unsure: 'clinician is unsure',
};

/** The assessment as a reader sees it in a list: "clinician disagrees", or that it is awaited. */
export function assessmentPhrase(assessment: Pick<Assessment, 'verdict'> | null): string {
  return assessment ? PHRASES[assessment.verdict] : 'awaiting your assessment';
}
