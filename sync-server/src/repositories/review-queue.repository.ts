import type { QueueFilters, QueueModel, ReviewState, StateCounts, SyncTable } from '../protocol';

/*
 * The supervisor's queue and a report's page (issue 11) read from the review read models
 * (review_reports, review_diagnoses, review_events, review_refs, review_counts) and the records
 * they point at. Both dialects give the same rows in the same order: text keys of an order or a
 * page boundary compare as bytes (SQLite's only order; COLLATE "C" on PostgreSQL), and no ordered
 * column is nullable, so where NULLs sort never matters.
 */

/** The queue's filters as parsed from the query string (protocol QueueFilters). */
export type ParsedFilters = Omit<QueueFilters, 'disagreement'> & {
  disagreement?: 'true' | 'false';
};

const DAY_MS = 86_400_000;
const dayStart = (date: string) => Date.parse(`${date}T00:00:00.000Z`);

/** The share-time bounds of the period filter, in ms: from inclusive, to exclusive (UTC days). */
export const periodOf = (f: ParsedFilters) => ({
  from: f.from ? dayStart(f.from) : undefined,
  to: f.to ? dayStart(f.to) + DAY_MS : undefined,
});

/**
 * What review_reports.models (`|<modelId>:<0|1>|…|`) contains when a report has the model filter's
 * model (with its finding, when given).
 */
export const modelNeedle = (f: ParsedFilters) =>
  `|${f.modelId}:${f.finding ? `${f.finding === 'positive' ? 1 : 0}|` : ''}`;

/** age: oldest share first; priority: lowest rank (most flags) first, then oldest. */
export type QueueSort = 'age' | 'priority';

/** Where the previous page ended: its last row's sort key, and rows strictly after it follow. */
export interface QueueKey {
  rank: number;
  sharedAt: number;
  reportId: string;
}

/** A review_reports row with its team's and clinician's names (null when those rows are gone). */
export interface QueueRow {
  reportId: string;
  teamId: string;
  teamName: string | null;
  patientId: string;
  patientName: string;
  sex: string;
  birthDate: string | null;
  village: string;
  clinicianId: string;
  clinicianName: string | null;
  revision: number;
  state: ReviewState;
  /** Milliseconds since the epoch, as numbers on both dialects. */
  sharedAt: number;
  firstSharedAt: number;
  reviewedAt: number | null;
  /** 0 or 1. */
  positive: number;
  abnormal: number;
  disagreement: number;
  priority: number;
  rank: number;
}

export interface QueueDiagnosisRow {
  reportId: string;
  diagnosisId: string;
  modelId: string;
  modelVersion: string;
  positive: boolean;
  assessment: QueueModel['assessment'];
}

/** A stored record (any team, possibly deleted): the service checks both. */
export interface StoredRecord {
  teamId: string;
  deleted: boolean;
  /** The record's JSON. */
  data: string;
}

/** A review of the report (review_events) with its record's JSON. */
export interface ReviewEventRow {
  id: string;
  revision: number;
  decision: 'approved' | 'returned';
  at: number;
  /** JSON of the snapshot the reviewer saw. */
  snapshot: string;
  data: string;
}

export interface ReviewQueueRepository {
  /**
   * One team's reports matching `filters` in `sort` order (ties broken by share time, then report
   * id in byte order), strictly after `after` when given, at most `limit`.
   */
  page(
    teamId: string,
    filters: ParsedFilters,
    sort: QueueSort,
    after: QueueKey | null,
    limit: number,
  ): Promise<QueueRow[]>;
  /** Reports per state over `teams` matching `filters` but their state (0 for a state with none). */
  stateCounts(teams: readonly string[], filters: ParsedFilters): Promise<StateCounts>;
  /** The indexed diagnoses of these reports, by report id then diagnosis id (byte order). */
  diagnosesOf(reportIds: readonly string[]): Promise<QueueDiagnosisRow[]>;
  /** These teams, by name (byte order). */
  teamsByName(teamIds: readonly string[]): Promise<{ id: string; name: string }[]>;
  /** The clinicians of these teams, by name (byte order). */
  cliniciansOf(teamIds: readonly string[]): Promise<{ teamId: string; id: string; name: string }[]>;
  /** The queue row of one shared report. */
  queueRow(reportId: string): Promise<QueueRow | undefined>;
  record(table: SyncTable, id: string): Promise<StoredRecord | undefined>;
  /** JSON of the live comments or follow-ups of a report, in write order. */
  refs(reportId: string, table: 'comments' | 'followups'): Promise<string[]>;
  /** The report's reviews, oldest first (ties by review id, byte order). */
  events(reportId: string): Promise<ReviewEventRow[]>;
  /** The stored MIME type of an image, or null when it is not stored. */
  blobMime(sha256: string): Promise<string | null>;
}
