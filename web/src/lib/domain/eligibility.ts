// Is this patient someone the model was made for? The manifest's `eligibility` says which ages and
// sexes its training data covered; a run outside them is the clinician's call, so these are
// warnings to confirm and keep with the result, never a block. Pure.
import { m } from '$lib/paraglide/messages';
import { getLocale } from '$lib/paraglide/runtime';
import type { Eligibility } from 'sync-server/protocol';
import { ageAt } from './patient';
import type { PatientFields } from './records';

const SEX_WORDS: Record<string, () => string> = {
  female: m.elig_sex_female,
  male: m.elig_sex_male,
  other: m.elig_sex_other,
  unknown: m.elig_sex_unknown,
};

function ageRange({ min, max }: { min?: number; max?: number }): string {
  if (min !== undefined && max !== undefined) return m.elig_aged_range({ min, max });
  if (min !== undefined) return m.elig_aged_min({ min });
  return m.elig_aged_max({ max: max ?? '' });
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
      warnings.push(m.elig_age_unrecorded({ range: ageRange(ages) }));
    } else {
      const { years, months } = ageAt(patient.birthDate, today);
      const age = years + months / 12;
      if (
        (ages.min !== undefined && age < ages.min) ||
        (ages.max !== undefined && age >= ages.max + 1)
      ) {
        const shown =
          years >= 1 ? m.elig_years_old({ count: years }) : m.elig_months_old({ count: months });
        warnings.push(m.elig_age_outside({ range: ageRange(ages), age: shown }));
      }
    }
  }
  if (eligibility.sex && !eligibility.sex.includes(patient.sex)) {
    const who = new Intl.ListFormat(getLocale(), { type: 'conjunction' }).format(
      eligibility.sex.map((s) => SEX_WORDS[s]?.() ?? s),
    );
    warnings.push(m.elig_sex_outside({ who }));
  }
  return warnings;
}
