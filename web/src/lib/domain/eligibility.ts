// Is this patient someone the model was made for? The manifest's `eligibility` says which ages and
// sexes its training data covered; a run outside them is the clinician's call, so these are
// warnings to confirm and keep with the result, never a block. Pure.
import type { Eligibility } from 'sync-server/protocol';
import { ageAt } from './patient';
import type { PatientFields } from './records';

const SEX_WORDS: Record<string, string> = {
  female: 'women and girls',
  male: 'men and boys',
  other: 'patients of another sex',
  unknown: 'patients of unknown sex',
};

function ageRange({ min, max }: { min?: number; max?: number }): string {
  if (min !== undefined && max !== undefined) return `aged ${min} to ${max} years`;
  if (min !== undefined) return `aged ${min} years or more`;
  return `aged up to ${max} years`;
}

/** Sentences for the clinician: why this patient is outside what the model was made for. */
export function eligibilityWarnings(
  eligibility: Eligibility | undefined,
  patient: Pick<PatientFields, 'sex' | 'birthDate'> | null | undefined,
  today: Date,
): string[] {
  if (!eligibility || !patient) return [];
  const warnings: string[] = [];
  const ages = eligibility.ageYears;
  if (ages && (ages.min !== undefined || ages.max !== undefined)) {
    if (!patient.birthDate) {
      warnings.push(
        `This model was made for patients ${ageRange(ages)}; this patient's age is not recorded.`,
      );
    } else {
      const { years, months } = ageAt(patient.birthDate, today);
      const age = years + months / 12;
      if (
        (ages.min !== undefined && age < ages.min) ||
        (ages.max !== undefined && age >= ages.max + 1)
      ) {
        const shown = years >= 1 ? `${years} years old` : `${months} months old`;
        warnings.push(
          `This model was made for patients ${ageRange(ages)}; this patient is ${shown}.`,
        );
      }
    }
  }
  if (eligibility.sex && !eligibility.sex.includes(patient.sex)) {
    const who = eligibility.sex.map((s) => SEX_WORDS[s] ?? s).join(' and ');
    warnings.push(`This model was made for ${who} only; its result for this patient is uncertain.`);
  }
  return warnings;
}
