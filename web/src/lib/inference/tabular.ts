import { m } from '$lib/paraglide/messages';
import { formatNumber } from '$lib/i18n/format';
// Tabular input: the form's text values checked against the manifest's fields, then encoded as the
// model's float32 row in field order, with NaN for a missing optional field (DESIGN section 6).
import type { TabularField } from './manifest';

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

/** Checks each field: required ones present, all numbers, all inside the plausible range. */
export function checkTabular(fields: TabularField[], texts: Record<string, string>): TabularCheck {
  const issues: FieldIssue[] = [];
  const values = fields.map((field) => {
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
