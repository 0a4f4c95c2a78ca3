import type { ParsedFilters, QueueRow } from './review-queue.repository';

/*
 * What the supervisor's dashboard and the exports (services/review-dashboard.ts, review-export.ts)
 * read from the review read models (services/review-index.ts). Times are milliseconds since the
 * epoch, weeks are stats.ts week numbers, 0/1 flags stay numbers, and every number is a JS number
 * on both dialects (PostgreSQL's sums and bigints are converted). Text orders are byte orders on
 * both dialects (COLLATE "C" on PostgreSQL), as SQLite compares text.
 */

/** A team's name, for the dashboard's team list. */
export interface TeamName {
  id: string;
  name: string;
}

/** One row of clinician_activity: a clinician's counters in one week of one team. */
export interface ClinicianWeek {
  teamId: string;
  clinicianId: string;
  week: number;
  encounters: number;
  /** Reports shared that week. */
  n: number;
  returned: number;
}

export interface TeamClinician {
  id: string;
  name: string;
  teamId: string;
}

/** A device of a clinician of the teams, with its last backup (push). */
export interface ClinicianDevice {
  deviceId: string;
  userId: string;
  userName: string;
  teamId: string;
  lastPushAt: number | null;
}

/** A model version's runs in one week, summed over the teams. */
export interface ModelWeek {
  modelId: string;
  modelVersion: string;
  modelName: string;
  week: number;
  n: number;
  positives: number;
  assessed: number;
  agreed: number;
}

/** How many latest verdicts of each kind a model version got, by the model's answer. */
export interface VerdictCount {
  modelId: string;
  modelVersion: string;
  modelPositive: number;
  verdict: 'right' | 'wrong' | 'cant_tell';
  n: number;
}

/** One report of an export: a queue row without its rank (its state as stored). */
export type ExportRow = Omit<QueueRow, 'rank' | 'state'> & { state: string };

/** Where the previous page of an export ended. */
export interface ExportCursor {
  sharedAt: number;
  reportId: string;
}

/** A live (not deleted) synced record's JSON, as the device sent it. */
export interface RecordText {
  table: string;
  id: string;
  data: string;
}

export interface LatestVerdict {
  diagnosisId: string;
  verdict: string;
  referenceOutcome: string | null;
}

/** What the services need from the review dashboard and exports (review read side). */
export interface ReviewReportsRepository {
  /** The teams' names, by name (bytes) then id. */
  teamNames(teamIds: readonly string[]): Promise<TeamName[]>;
  /** clinician_activity of the teams in weeks firstWeek..lastWeek, by week, team, user. */
  clinicianWeeks(
    teamIds: readonly string[],
    firstWeek: number,
    lastWeek: number,
  ): Promise<ClinicianWeek[]>;
  /** shared_at of each report of the teams awaiting review, in no order. */
  awaitingSharedAt(teamIds: readonly string[]): Promise<number[]>;
  /**
   * For each first review of a revision given in [start, end): how long after its share it came
   * (ms), in no order.
   */
  shareToReviewMs(teamIds: readonly string[], start: number, end: number): Promise<number[]>;
  /** The clinicians of the teams (one row per membership), by name then id. */
  clinicians(teamIds: readonly string[]): Promise<TeamClinician[]>;
  /**
   * The devices of the teams' clinicians (one row per device and team), never-backed-up first,
   * then oldest backup first, then by device id.
   */
  clinicianDevices(teamIds: readonly string[]): Promise<ClinicianDevice[]>;
  /**
   * model_weekly summed over the teams per model version and week, in weeks
   * firstWeek..lastWeek, weeks without runs left out; by model id, version, week. The name is
   * the greatest of the teams' names for it.
   */
  modelWeeks(teamIds: readonly string[], firstWeek: number, lastWeek: number): Promise<ModelWeek[]>;
  /** The latest verdicts given in [start, end), counted per model version, answer and verdict. */
  verdictCounts(teamIds: readonly string[], start: number, end: number): Promise<VerdictCount[]>;

  /**
   * Up to `limit` reports of one team matching the queue's filters (state included: the same
   * reports as the queue's pages, by the same SQL), in share order (shared_at, then report id in
   * bytes), after `after` when given: keyset pages that neither skip nor repeat a report when
   * several share a time.
   */
  exportPage(
    teamId: string,
    filters: ParsedFilters,
    after: ExportCursor | null,
    limit: number,
  ): Promise<ExportRow[]>;
  /** The live records among the (table, id) pairs, in no order; missing and deleted ones left out. */
  liveRecords(refs: readonly { table: string; id: string }[]): Promise<RecordText[]>;
  /** The latest verdict on each diagnosis (latest `at`, then greatest review id); none when never judged. */
  latestVerdicts(diagnosisIds: readonly string[]): Promise<LatestVerdict[]>;
}
