import type { ConflictRow, DeviceRow } from '../db/schema';
import type { ReviewState, SyncTable } from '../protocol';
import type { AuditAction } from '../services/audit';

/*
 * What push and pull need from the database (issue 17), behind one asynchronous interface so that
 * services/sync.ts and services/review-index.ts are one code path on both dialects: the merge, the
 * scope and the review-side checks stay in the services; each implementation only reads and
 * writes rows (repositories/sqlite, repositories/postgres). Names and columns are those of
 * db/schema.ts; times are milliseconds since the epoch; 0/1 flags stay numbers on both dialects.
 */

/** A row of `records` as push reads it. */
export interface CurrentRow {
  teamId: string;
  version: number;
  deleted: 0 | 1;
  data: string;
}

/** A row of a pull page; `data` is null for the device's own acknowledged write (see pull()). */
export interface PageRow {
  tableName: SyncTable;
  id: string;
  version: number;
  seq: number;
  deleted: 0 | 1;
  data: string | null;
}

export interface RecordWrite {
  seq: number;
  table: SyncTable;
  id: string;
  teamId: string;
  version: number;
  deleted: 0 | 1;
  at: number;
  by: string;
  data: string;
  deviceId: string;
  mutationId: string;
}

/** What one mutation of a push names, before it is validated (table and id may be missing). */
export interface PushKey {
  mutationId: string;
  table?: string;
  id?: string;
}

export interface PageQuery {
  /** The device's acknowledged seq: its own writes at or below it come without data. */
  acked: number;
  deviceId: string;
  cursor: number;
  /** Teams where the caller is a clinician: every table. */
  clinical: readonly string[];
  /** Teams the caller only supervises: the review-side tables. */
  supervisedOnly: readonly string[];
  /** At most this many rows are read. */
  limit: number;
}

/** What the counters of review_counts are keyed on (a review_reports row). */
export interface CountKey {
  teamId: string;
  state: ReviewState;
  disagreement: number;
  positive: number;
  models: string;
}

export interface IndexedRow extends CountKey {
  revision: number;
  sharedAt: number;
  firstSharedAt: number;
  clinicianId: string;
  everReturned: number;
}

export interface IndexedReport extends IndexedRow {
  reportId: string;
  patientId: string;
  encounterId: string | null;
  patientName: string;
  sex: string;
  birthDate: string | null;
  village: string;
  villageKey: string;
  reviewedAt: number | null;
  abnormal: number;
  priority: number;
  rank: number;
}

export interface DiagnosisIndexRow {
  reportId: string;
  diagnosisId: string;
  teamId: string;
  modelId: string;
  modelVersion: string;
  modelName: string;
  positive: number;
  assessment: string | null;
  imageSha256: string | null;
  ranAt: number;
}

export interface ReviewEventRow {
  reviewId: string;
  reportId: string;
  teamId: string;
  revision: number;
  decision: string;
  authorId: string;
  at: number;
  revisionSharedAt: number;
  snapshot: string;
}

export interface VerdictRow {
  reviewId: string;
  diagnosisId: string;
  reportId: string;
  teamId: string;
  modelId: string;
  modelVersion: string;
  modelPositive: number;
  verdict: string;
  referenceOutcome: string | null;
  at: number;
}

export interface LatestVerdictRow {
  diagnosisId: string;
  teamId: string;
  modelId: string;
  modelVersion: string;
  modelPositive: number;
  verdict: string;
  at: number;
}

export interface ModelRunRow {
  diagnosisId: string;
  teamId: string;
  modelId: string;
  modelVersion: string;
  week: number;
  positive: number;
  assessment: string | null;
}

export interface WeeklyDelta {
  teamId: string;
  modelId: string;
  modelVersion: string;
  week: number;
  modelName: string;
  runs: number;
  positives: number;
  assessed: number;
  agreed: number;
}

export type ActivityCounter = 'encounters' | 'shared' | 'returned';

export interface AuditEntry {
  at: number;
  userId: string;
  ip: string;
  action: AuditAction;
  target: string;
  detail: Record<string, unknown>;
}

/** The read models of supervisor review (services/review-index.ts), written inside a push. */
export interface ReviewIndexRepository {
  userName(userId: string): Promise<string | undefined>;
  /** When version 1 of a record was written. */
  firstWriteAt(table: SyncTable, id: string): Promise<number | undefined>;
  getIndexed(reportId: string): Promise<IndexedRow | undefined>;
  addCount(key: CountKey, n: number): Promise<void>;
  setReviewState(
    reportId: string,
    state: ReviewState,
    reviewedAt: number | null,
    everReturned: number,
  ): Promise<void>;
  upsertIndexed(row: IndexedReport): Promise<void>;
  /** Removes the queue row of a report and its diagnoses. */
  deleteIndexed(reportId: string): Promise<void>;
  deleteDiagnoses(reportId: string): Promise<void>;
  insertDiagnosis(row: DiagnosisIndexRow): Promise<void>;
  latestReview(
    reportId: string,
    revision: number,
  ): Promise<{ decision: 'approved' | 'returned'; at: number } | undefined>;
  everReturned(reportId: string): Promise<number>;
  reportsOfPatient(patientId: string): Promise<string[]>;
  reportsOfEncounter(encounterId: string): Promise<string[]>;
  sharedReportOfPatient(patientId: string, teamId: string): Promise<boolean>;
  /** first_of_revision is computed by the insert: whether no event of that revision exists. */
  insertEvent(row: ReviewEventRow): Promise<void>;
  insertVerdict(row: VerdictRow): Promise<void>;
  upsertVerdict(row: LatestVerdictRow): Promise<void>;
  countActivity(
    counter: ActivityCounter,
    teamId: string,
    userId: string,
    week: number,
  ): Promise<void>;
  getRun(diagnosisId: string): Promise<{ week: number; assessment: string | null } | undefined>;
  insertRun(row: ModelRunRow): Promise<void>;
  setRunAssessment(diagnosisId: string, assessment: string | null): Promise<void>;
  addWeekly(delta: WeeklyDelta): Promise<void>;
  /** Ignored when the (table, id) is already there. */
  insertRef(table: SyncTable, id: string, reportId: string): Promise<void>;
  /** The first time a report's revision was written (its share time). */
  revisionSharedAt(reportId: string, revision: number): Promise<number | undefined>;
}

export interface SyncRepository extends ReviewIndexRepository {
  /**
   * Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws.
   * Every push runs in one; the change sequence is assigned inside it, so implementations make
   * concurrent transactions commit their sequence numbers in order (see each implementation).
   * Must not be nested: `fn` receives the repository bound to the transaction.
   */
  transaction<T>(fn: (tx: SyncRepository) => Promise<T>): Promise<T>;

  // Push
  /**
   * Called once at the start of each push, inside its transaction, with what its mutations name.
   * An implementation may read up front, in a few set-based queries, what the per-mutation calls
   * below will ask for (stored results, current records) and answer them from that, and may hold
   * its writes back to send them together: every call must still see the transaction's own
   * earlier writes, and everything is written before the transaction commits.
   */
  preparePush(deviceId: string, keys: readonly PushKey[]): Promise<void>;
  getApplied(
    deviceId: string,
    mutationId: string,
  ): Promise<{ userId: string; result: string } | undefined>;
  insertApplied(
    deviceId: string,
    mutationId: string,
    userId: string,
    result: string,
    at: number,
  ): Promise<void>;
  getRecord(table: SyncTable, id: string): Promise<CurrentRow | undefined>;
  getHistoryData(table: SyncTable, id: string, version: number): Promise<string | undefined>;
  /**
   * The latest version of a record that is a device's own edit stored as sent (its stored result
   * is 'applied'), or null.
   */
  latestAppliedAsSent(table: SyncTable, id: string, deviceId: string): Promise<number | null>;
  /** The highest seq given so far (0 when none). */
  maxSeq(): Promise<number>;
  /** Writes the record's new version to `records` and appends it to `record_history`. */
  writeRecord(row: RecordWrite): Promise<void>;
  getConflict(id: string): Promise<{ tableName: string; recordId: string } | undefined>;
  insertConflict(row: ConflictRow): Promise<void>;
  resolveConflict(id: string, at: number, mutationId: string): Promise<void>;
  insertAudit(entry: AuditEntry): Promise<void>;
  notePush(deviceId: string, at: number): Promise<void>;

  // Devices
  getDevice(id: string): Promise<DeviceRow | undefined>;
  insertDevice(row: DeviceRow): Promise<void>;
  /** Binds the session to the device (when it names another or none). */
  bindSession(sessionId: string, deviceId: string): Promise<void>;
  /** The owner's disabledAt; undefined when the user does not exist. */
  userDisabledAt(userId: string): Promise<{ disabledAt: Date | null } | undefined>;
  noteSync(deviceId: string, at: Date, userAgent: string | null): Promise<void>;

  // Pull
  /** Whether a record pull would return (same teams) has a seq at or after `cursor`. */
  cursorKnown(
    cursor: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ): Promise<boolean>;
  /**
   * Where a pull of the same teams stands once it has walked everything up to `atOrBelow`: the
   * highest seq at or below it that such a pull would walk, or 0. A push's cursor advance starts
   * there.
   */
  lastChangeInScope(
    atOrBelow: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ): Promise<number>;
  /** How many records a pull would return (same teams) after `after`: the pull's "remaining". */
  countChanges(
    after: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ): Promise<number>;
  /**
   * Reads the changes after `q.cursor` in seq order and hands each row to `visit` until it
   * returns false or `q.limit` rows were read. Rows are visited synchronously, one at a time.
   */
  scanChanges(q: PageQuery, visit: (row: PageRow) => boolean): Promise<void>;
  notePull(deviceId: string, cursor: number, scope: string[] | null): Promise<void>;

  // Conflicts
  openConflicts(teams: readonly string[], limit: number): Promise<ConflictRow[]>;
}
