/**
 * The pure rules of supervisor review (issue 11): report revisions, what a diagnosis found, the
 * snapshot a reviewer judged and the field-level diff between two snapshots. No database, no clock.
 */
import type { FieldChange } from '../protocol';
import { jsonEqual, type RecordData } from './merge';

/** A report a supervisor may see: shared (or marked reviewed) by the clinician. */
export const isShared = (report: RecordData | null): boolean =>
  report !== null &&
  report.deleted !== true &&
  (report.status === 'shared' || report.status === 'reviewed');

const revisionOf = (r: RecordData | null): number =>
  typeof r?.revision === 'number' && Number.isInteger(r.revision) && r.revision > 0
    ? r.revision
    : 0;

/**
 * The revision of a report after a write, from the server's current record (null when new): +1
 * when the write shares it (it was not shared, or was shared with another sharedAt), else kept.
 */
export function nextRevision(current: RecordData | null, next: RecordData): number {
  const previous = revisionOf(current);
  if (!isShared(next)) return previous;
  if (!isShared(current) || current!.sharedAt !== next.sharedAt) return previous + 1;
  return previous;
}

/** The model's finding at its threshold. */
export function diagnosisPositive(d: RecordData): boolean {
  const outputs = d.outputs as Record<string, unknown> | undefined;
  const label = d.positiveLabel;
  if (!outputs || typeof label !== 'string') return false;
  const p = outputs[label];
  return typeof p === 'number' && typeof d.threshold === 'number' && p >= d.threshold;
}

export type AssessmentVerdict = 'agree' | 'disagree' | 'unsure';

export function assessmentOf(d: RecordData): AssessmentVerdict | null {
  const a = d.assessment as { verdict?: unknown } | null | undefined;
  const v = a?.verdict;
  return v === 'agree' || v === 'disagree' || v === 'unsure' ? v : null;
}

export function imageOf(d: RecordData): string | null {
  const inputs = d.inputs as { kind?: unknown; sha256?: unknown } | undefined;
  return inputs?.kind === 'image' && typeof inputs.sha256 === 'string' ? inputs.sha256 : null;
}

export const diagnosisIdsOf = (report: RecordData): string[] =>
  Array.isArray(report.diagnosisIds)
    ? report.diagnosisIds.filter((x): x is string => typeof x === 'string')
    : [];

export const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

/** What a reviewer judges: the report's own text and links, the visit, and each result's assessment. */
export interface Snapshot {
  report: Record<string, unknown>;
  encounter: Record<string, unknown> | null;
  diagnoses: Record<string, unknown>;
}

const REPORT_FIELDS = ['summary', 'plan', 'encounterId', 'diagnosisIds'] as const;
const ENCOUNTER_FIELDS = ['date', 'complaint', 'vitals', 'symptoms', 'notes'] as const;

export function snapshotOf(
  report: RecordData,
  encounter: RecordData | null,
  diagnoses: readonly RecordData[],
): Snapshot {
  const pick = (r: RecordData, keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, r[k] ?? null]));
  return {
    report: pick(report, REPORT_FIELDS),
    encounter: encounter && encounter.deleted !== true ? pick(encounter, ENCOUNTER_FIELDS) : null,
    diagnoses: Object.fromEntries(
      diagnoses.map((d) => [
        str(d.id),
        { modelId: d.modelId ?? null, assessment: d.assessment ?? null },
      ]),
    ),
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Field-level changes from `before` to `after`: objects are walked down to their leaves (so a
 * vital that changed reads `encounter.vitals.spo2`); arrays and other values compare whole.
 */
export function diffSnapshots(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (jsonEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffSnapshots(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [{ path, before: before ?? null, after: after ?? null }];
}

/** Whole years from an ISO birth date to a moment (null when unknown). */
export function ageYears(birthDate: unknown, at: Date): number | null {
  if (typeof birthDate !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(birthDate)) return null;
  const [y, m, d] = birthDate.slice(0, 10).split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - y;
  if (at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d)) age -= 1;
  return age >= 0 ? age : null;
}

export const patientName = (p: RecordData | null): string =>
  p ? [str(p.givenName), str(p.familyName)].filter(Boolean).join(' ') : '';
