import { m } from '$lib/paraglide/messages';
import type { EncounterFields, Vitals } from './records';
import { implausibleVitals, VITAL_FIELDS } from './vitals';

/** The visit form as typed: numbers are still text, so nothing typed is lost while invalid. */
export interface EncounterForm {
  date: string;
  complaint: string;
  vitals: Record<keyof Vitals, string>;
  symptoms: string[];
  notes: string;
}

export type EncounterFormResult =
  | { ok: true; value: Omit<EncounterFields, 'patientId'> }
  | { ok: false; errors: Record<string, string> };

/** "37,5" and " 37.5 " both mean 37.5; an empty field is "not measured". */
export function parseDecimal(text: string): number | null | typeof NaN {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return null;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
}

export function encounterToForm(encounter: Omit<EncounterFields, 'patientId'>): EncounterForm {
  const vitals = Object.fromEntries(
    VITAL_FIELDS.map((f) => [f.key, encounter.vitals[f.key]?.toString() ?? '']),
  ) as Record<keyof Vitals, string>;
  return {
    date: encounter.date,
    complaint: encounter.complaint,
    vitals,
    symptoms: [...encounter.symptoms],
    notes: encounter.notes,
  };
}

export type EncounterValues = Omit<EncounterFields, 'patientId'>;

/**
 * What can be saved of a form that is partly invalid: every valid field as typed, and for each
 * invalid one the value last saved (the typed text stays in the draft, marked, until fixed). One
 * wrong vital must not hold back the complaint or the other vitals.
 */
export function validPart(
  form: EncounterForm,
  saved: EncounterValues,
  today: Date,
): { value: EncounterValues; errors: Record<string, string> } {
  const parsed = parseEncounterForm(form, today);
  if (parsed.ok) return { value: parsed.value, errors: {} };
  const { errors } = parsed;
  const vitals = { ...saved.vitals };
  for (const field of VITAL_FIELDS) {
    if (errors[field.key]) continue;
    vitals[field.key] = parseDecimal(form.vitals[field.key]);
  }
  // Blood pressure is a pair: a new systolic that contradicts the diastolic kept waits with it.
  if (
    vitals.systolicBp !== null &&
    vitals.diastolicBp !== null &&
    vitals.diastolicBp >= vitals.systolicBp
  ) {
    vitals.systolicBp = saved.vitals.systolicBp;
  }
  return {
    errors,
    value: {
      date: errors.date ? saved.date : form.date,
      complaint: errors.complaint ? saved.complaint : form.complaint.trim(),
      vitals,
      symptoms: [...form.symptoms],
      notes: errors.notes ? saved.notes : form.notes,
    },
  };
}

/** Nothing typed yet (the date alone is not input): a visit opened by mistake, to discard. */
export function isBlankForm(form: EncounterForm): boolean {
  return (
    !form.complaint.trim() &&
    !form.notes.trim() &&
    form.symptoms.length === 0 &&
    VITAL_FIELDS.every((f) => !form.vitals[f.key].trim())
  );
}

/** Whether saving these values would change the visit (an unchanged visit is not written). */
export function sameValues(a: EncounterValues, b: EncounterValues): boolean {
  const pick = (v: EncounterValues) =>
    JSON.stringify([
      v.date,
      v.complaint,
      VITAL_FIELDS.map((f) => v.vitals[f.key]),
      v.symptoms,
      v.notes,
    ]);
  return pick(a) === pick(b);
}

export function parseEncounterForm(form: EncounterForm, today: Date): EncounterFormResult {
  const errors: Record<string, string> = {};
  const date = new Date(`${form.date}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== form.date) {
    errors.date = m.enc_date_invalid();
  } else if (form.date > today.toISOString().slice(0, 10)) {
    errors.date = m.enc_date_future();
  }
  const vitals = {} as Vitals;
  for (const field of VITAL_FIELDS) {
    const value = parseDecimal(form.vitals[field.key]);
    if (Number.isNaN(value)) errors[field.key] = m.enc_not_number({ label: field.label });
    vitals[field.key] = Number.isNaN(value) ? null : value;
  }
  for (const [key, message] of Object.entries(implausibleVitals(vitals))) errors[key] ??= message;
  if (form.complaint.length > 500) errors.complaint = m.enc_complaint_long();
  if (form.notes.length > 10_000) errors.notes = m.enc_notes_long();
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      date: form.date,
      complaint: form.complaint.trim(),
      vitals,
      symptoms: [...form.symptoms],
      notes: form.notes,
    },
  };
}
