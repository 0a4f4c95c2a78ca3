import type { Diagnosis, Encounter, Report } from './records';

export type TimelineEntry =
  | { kind: 'encounter'; at: string; record: Encounter }
  | { kind: 'diagnosis'; at: string; record: Diagnosis }
  | { kind: 'report'; at: string; record: Report };

/** Visits, model runs and reports of a patient, newest first. */
export function buildTimeline(
  encounters: readonly Encounter[],
  diagnoses: readonly Diagnosis[],
  reports: readonly Report[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...encounters.map((record) => ({ kind: 'encounter' as const, at: record.date, record })),
    ...diagnoses.map((record) => ({
      kind: 'diagnosis' as const,
      at: createdAt(record.id, record.updatedAt),
      record,
    })),
    ...reports.map((record) => ({
      kind: 'report' as const,
      at: createdAt(record.id, record.updatedAt),
      record,
    })),
  ];
  return entries.sort((a, b) => b.at.localeCompare(a.at));
}

/** A UUIDv7 starts with its creation time in milliseconds; fall back to the last update. */
export function createdAt(id: string, fallback: string): string {
  const hex = id.replace(/-/g, '').slice(0, 12);
  const ms = Number.parseInt(hex, 16);
  return /^[0-9a-f]{12}$/i.test(hex) && id[14] === '7' ? new Date(ms).toISOString() : fallback;
}
