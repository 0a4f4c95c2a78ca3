import { m } from '$lib/paraglide/messages';
import { formatNumber } from '$lib/i18n/format';
// Tabular input: the form's text values checked against the manifest's fields, then encoded as the
// model's float32 row in field order, with NaN for a missing optional field (DESIGN section 6).
import type { Eligibility, TabularField } from './manifest';

export type FieldIssue = { key: string; message: string };

export interface TabularCheck {
  /** One number per field, in manifest order; null where the field was left empty. */
  values: (number | null)[];
  /** Problems to fix before the model may run (empty when it may run). */
  issues: FieldIssue[];
}

/** A decimal number typed by a person: accepts a decimal comma and surrounding spaces. */
export function parseDecimal(text: string): number | null | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const normalised = trimmed.replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(normalised)) return 'invalid';
  return Number(normalised);
}

export function rangeText(field: TabularField): string {
  return `${formatNumber(field.min)}–${formatNumber(field.max)}${field.unit ? ` ${field.unit}` : ''}`;
}

/** A field the form does not ask for this patient, and what the model gets instead. */
export interface NotAsked {
  key: string;
  label: string;
  /** The manifest's notApplicableValue; null: sent as missing (the model's own imputation). */
  value: number | null;
  /** The patient sexes the field applies to. */
  appliesTo: string[];
}

/**
 * Fields that do not apply to this patient (e.g. pregnancies for a man): the manifest's
 * `eligibility.fieldsBySex` names the sexes each such field applies to. Nothing is hidden without a
 * patient (the clinician may be anyone's) or for a sex the manifest lists.
 */
export function fieldsNotAsked(
  fields: TabularField[],
  eligibility: Eligibility | undefined,
  sex: string | null | undefined,
): NotAsked[] {
  const bySex = eligibility?.fieldsBySex;
  if (!bySex || !sex) return [];
  return fields.flatMap((field) => {
    const appliesTo = bySex[field.key];
    if (!appliesTo || (appliesTo as string[]).includes(sex)) return [];
    // A required field with no documented value cannot be left out: it stays asked.
    if (field.required && field.notApplicableValue === undefined) return [];
    return [
      { key: field.key, label: field.label, value: field.notApplicableValue ?? null, appliesTo },
    ];
  });
}

/** "Not asked for this patient: Number of pregnancies (applies to female, other, unknown; 0 used)." */
export function notAskedSentence(notAsked: NotAsked[]): string | null {
  if (!notAsked.length) return null;
  const parts = notAsked.map(
    (f) =>
      `${f.label} (asked only for ${f.appliesTo.join(', ')} patients; ${
        f.value === null ? 'sent as not measured' : `${f.value} used`
      })`,
  );
  return `Not asked for this patient: ${parts.join('; ')}.`;
}

/**
 * Checks each field: required ones present, all numbers, all inside the plausible range. Fields not
 * asked for this patient are not checked; they get their documented value.
 */
export function checkTabular(
  fields: TabularField[],
  texts: Record<string, string>,
  notAsked: NotAsked[] = [],
): TabularCheck {
  const issues: FieldIssue[] = [];
  const values = fields.map((field) => {
    const skipped = notAsked.find((f) => f.key === field.key);
    if (skipped) return skipped.value;
    const value = parseDecimal(texts[field.key] ?? '');
    if (value === 'invalid') {
      issues.push({ key: field.key, message: m.tab_enter_number({ label: field.label }) });
      return null;
    }
    if (value === null) {
      if (field.required)
        issues.push({ key: field.key, message: m.tab_required({ label: field.label }) });
      return null;
    }
    if (value < field.min || value > field.max) {
      issues.push({
        key: field.key,
        message: m.tab_out_of_range({
          label: field.label,
          value: formatNumber(value),
          range: rangeText(field),
        }),
      });
    }
    return value;
  });
  return { values, issues };
}

export interface TabularRow {
  /** float32 [fields] in manifest order, NaN for a missing field. */
  row: Float32Array<ArrayBuffer>;
  /** Labels of the fields sent as missing. */
  missing: string[];
}

export function encodeTabular(fields: TabularField[], values: (number | null)[]): TabularRow {
  if (values.length !== fields.length) throw new RangeError('one value per field expected');
  const row = new Float32Array(fields.length);
  const missing: string[] = [];
  fields.forEach((field, i) => {
    const value = values[i];
    if (value === null || value === undefined || Number.isNaN(value)) {
      if (field.required) throw new RangeError(`${field.label} is required`);
      row[i] = NaN;
      missing.push(field.label);
    } else row[i] = value;
  });
  return { row, missing };
}

/** "computed without: insulin, skinfold", or null when nothing was missing. */
export function missingSentence(missing: string[]): string | null {
  return missing.length ? m.tab_computed_without({ list: missing.join(', ') }) : null;
}
