import { m } from '$lib/paraglide/messages';
import { z } from 'zod';
import type { PatientFields } from './records';
import { foldText, words } from './text';

const MAX_AGE_YEARS = 130;

/** ISO date (YYYY-MM-DD) of a Date, in UTC. */
export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A birth date from an estimated age, counted back from today (day of month kept). */
export function estimateBirthDate(years: number, months: number, today: Date): string {
  const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  date.setUTCMonth(date.getUTCMonth() - (years * 12 + months));
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(today.getUTCDate(), lastDay));
  return isoDate(date);
}

/** Completed months between a birth date and a day; null when the birth date is unknown. */
export function ageInMonths(birthDate: string | null, day: Date): number | null {
  if (!birthDate) return null;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let months = (day.getUTCFullYear() - y) * 12 + (day.getUTCMonth() + 1 - m);
  if (day.getUTCDate() < d) months -= 1;
  return Math.max(0, months);
}

/** Completed years and months between a birth date and a day. */
export function ageAt(birthDate: string, day: Date): { years: number; months: number } {
  const months = ageInMonths(birthDate, day) ?? 0;
  return { years: Math.floor(months / 12), months: months % 12 };
}

export function formatAge(birthDate: string | null, estimated: boolean, day: Date): string {
  if (!birthDate) return m.age_unknown();
  const { years, months } = ageAt(birthDate, day);
  const text =
    years >= 2 ? m.age_years_short({ years }) : m.age_months_short({ months: years * 12 + months });
  return estimated ? `~${text}` : text;
}

const SEX_LABELS: Record<string, () => string> = {
  female: m.sex_female,
  male: m.sex_male,
  other: m.sex_other,
  unknown: m.sex_unknown,
};

/** A patient's recorded sex in the reader's language. */
export function sexLabel(sex: string): string {
  return SEX_LABELS[sex]?.() ?? sex;
}

/** A number field: number inputs bind numbers (null when empty), text inputs bind strings. */
const numberText = z
  .union([z.string(), z.number(), z.null(), z.undefined()])
  .transform((v) => (v === null || v === undefined ? '' : String(v).trim()));

const trimmed = (max: number) => z.string().trim().max(max, m.v_at_most_chars({ max }));

/** What the registration form gives: either a birth date or an estimated age. */
export const PatientForm = z
  .object({
    givenName: trimmed(100).min(1, m.v_required()),
    familyName: trimmed(100).min(1, m.v_required()),
    sex: z.enum(['female', 'male', 'other', 'unknown'], { error: m.v_must_be_chosen() }),
    birthDate: z.string().trim(),
    ageYears: numberText,
    ageMonths: numberText,
    village: trimmed(200),
    phone: trimmed(40).regex(/^[+\d\s()-]*$/, m.v_phone_chars()),
    identifiers: z
      .array(z.object({ kind: trimmed(60), value: trimmed(100) }))
      .transform((list) => list.filter((id) => id.value !== '')),
    /** The stored estimated birth date when editing: kept while the age shown is unchanged. */
    estimatedFrom: z.string().optional(),
  })
  .superRefine((form, ctx) => {
    if (!form.birthDate && !form.ageYears && !form.ageMonths) {
      ctx.addIssue({
        code: 'custom',
        path: ['birthDate'],
        message: m.v_birth_or_age(),
      });
    }
  });

export type PatientFormInput = z.input<typeof PatientForm>;

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

function issuesByField(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) errors[issue.path.join('.')] ??= issue.message;
  return errors;
}

/** Validates the form and turns it into patient fields. */
export function parsePatientForm(input: PatientFormInput, today: Date): FormResult<PatientFields> {
  const parsed = PatientForm.safeParse(input);
  if (!parsed.success) return { ok: false, errors: issuesByField(parsed.error) };
  const form = parsed.data;
  let birthDate: string | null = null;
  let estimated = false;
  if (form.birthDate) {
    const date = new Date(`${form.birthDate}T00:00:00Z`);
    if (Number.isNaN(date.getTime()) || isoDate(date) !== form.birthDate) {
      return { ok: false, errors: { birthDate: m.v_not_a_date() } };
    }
    if (date > today) return { ok: false, errors: { birthDate: m.v_in_future() } };
    if (ageAt(form.birthDate, today).years > MAX_AGE_YEARS) {
      return { ok: false, errors: { birthDate: m.v_too_long_ago({ max: MAX_AGE_YEARS }) } };
    }
    birthDate = form.birthDate;
  } else {
    const years = form.ageYears ? Number(form.ageYears) : 0;
    const months = form.ageMonths ? Number(form.ageMonths) : 0;
    if (!Number.isInteger(years) || years < 0 || years > MAX_AGE_YEARS) {
      return {
        ok: false,
        errors: { ageYears: m.v_whole_number({ min: 0, max: MAX_AGE_YEARS }) },
      };
    }
    if (!Number.isInteger(months) || months < 0 || months > 11) {
      return { ok: false, errors: { ageMonths: m.v_whole_number({ min: 0, max: 11 }) } };
    }
    const unchanged =
      form.estimatedFrom &&
      ageAt(form.estimatedFrom, today).years === years &&
      ageAt(form.estimatedFrom, today).months === months;
    birthDate = unchanged ? form.estimatedFrom! : estimateBirthDate(years, months, today);
    estimated = true;
  }
  return {
    ok: true,
    value: {
      givenName: form.givenName,
      familyName: form.familyName,
      sex: form.sex,
      birthDate,
      birthDateEstimated: estimated,
      village: form.village,
      phone: form.phone,
      identifiers: form.identifiers,
    },
  };
}

/** The form filled from a stored patient, for editing (an estimated age shows as an age). */
export function patientToForm(patient: PatientFields, today: Date): PatientFormInput {
  const estimate =
    patient.birthDateEstimated && patient.birthDate ? ageAt(patient.birthDate, today) : null;
  return {
    givenName: patient.givenName,
    familyName: patient.familyName,
    sex: patient.sex,
    birthDate: patient.birthDateEstimated ? '' : (patient.birthDate ?? ''),
    ageYears: estimate ? String(estimate.years) : '',
    ageMonths: estimate && estimate.months ? String(estimate.months) : '',
    estimatedFrom: estimate ? (patient.birthDate ?? undefined) : undefined,
    village: patient.village,
    phone: patient.phone,
    identifiers: patient.identifiers.map((id) => ({ ...id })),
  };
}

/** Words a patient can be found by: names, village, identifiers (also without separators). */
export function searchTokens(patient: PatientFields): string[] {
  const tokens = new Set([
    ...words(patient.givenName),
    ...words(patient.familyName),
    ...words(patient.village),
  ]);
  for (const id of patient.identifiers) {
    for (const word of words(id.value)) tokens.add(word);
    const compact = foldText(id.value).replace(/[^\p{L}\p{N}]/gu, '');
    if (compact) tokens.add(compact);
  }
  return [...tokens];
}

/** The first word of the family name, folded: where the duplicate check looks. */
export function familyKey(patient: Pick<PatientFields, 'familyName'>): string {
  return words(patient.familyName)[0] ?? '';
}

/** The fields a patient row carries for the device's own lookups (never synced). */
export function patientLookupFields(patient: PatientFields) {
  return { searchTokens: searchTokens(patient), familyKey: familyKey(patient) };
}

/** True when every word of the query starts some token of the patient. */
export function matchesQuery(tokens: readonly string[], query: string): boolean {
  return matchesWords(tokens, words(query));
}

/** matchesQuery with the query already split into folded words (split once, test many). */
export function matchesWords(tokens: readonly string[], queryWords: readonly string[]): boolean {
  return queryWords.every((word) => tokens.some((token) => token.startsWith(word)));
}

export function fullName(patient: Pick<PatientFields, 'givenName' | 'familyName'>): string {
  return `${patient.givenName} ${patient.familyName}`.trim();
}
