import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, isNull, ne, or } from 'drizzle-orm';
import type { Db } from '../../db/connection';
import {
  auditLog,
  conflicts,
  devices,
  sessions,
  users,
  type ConflictRow,
  type DeviceRow,
} from '../../db/schema';
import type { ReviewState, SyncTable } from '../../protocol';
import type { CountKey, CurrentRow, IndexedRow, PageRow, SyncRepository } from '../sync.repository';
import { sqliteRunner, type SqliteRunner } from './runner';
import { TeamChanges } from './team-changes';

/*
 * The SQLite implementation: statements prepared once per connection on the driver itself
 * (drizzle's per-call mapping was a visible share of a push in a profile of bench/sync.bench.ts),
 * each run synchronously and handed back as a settled promise.
 *
 * One connection serves every request, and a transaction on it is the connection's: while a push
 * is between BEGIN IMMEDIATE and COMMIT, any statement run on the connection is part of it (it
 * would see the push's uncommitted rows, and be rolled back with them). So the connection is held
 * exclusively: a transaction takes the connection's gate (runner.ts, shared by every SQLite
 * repository), and every repository call outside a transaction waits for the gate while it is
 * taken, whichever repository makes it.
 */

function prepare(db: Db) {
  // drizzle() returns the database with its driver as $client; the Db type leaves it out.
  const c = (db as Db & { $client: Database.Database }).$client;
  return {
    c,
    /** The usual pull, its count and a push's cursor advance: team by team (team-changes.ts). */
    teamChanges: new TeamChanges(c),
    getApplied: c.prepare<[string, string], { userId: string; result: string }>(
      'SELECT user_id AS userId, result FROM applied_mutations WHERE device_id = ? AND mutation_id = ?',
    ),
    insertApplied: c.prepare<[string, string, string, string, number]>(
      'INSERT INTO applied_mutations (device_id, mutation_id, user_id, result, at) VALUES (?, ?, ?, ?, ?)',
    ),
    getRecord: c.prepare<[string, string], CurrentRow>(
      'SELECT team_id AS teamId, version, deleted, data FROM records WHERE table_name = ? AND id = ?',
    ),
    getHistoryData: c
      .prepare<[string, string, number], string>(
        'SELECT data FROM record_history WHERE table_name = ? AND id = ? AND version = ?',
      )
      .pluck(),
    latestAppliedAsSent: c
      .prepare<[string, string, string], number | null>(
        `SELECT max(h.version) FROM record_history h
         JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
         WHERE h.table_name = ? AND h.id = ? AND h.device_id = ?
           AND json_extract(a.result, '$.status') = 'applied'`,
      )
      .pluck(),
    maxSeq: c.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM records').pluck(),
    notePush: c.prepare<[number, string]>('UPDATE devices SET last_push_at = ? WHERE id = ?'),
    upsertRecord: c.prepare<
      [number, string, string, string, number, 0 | 1, number, string, string]
    >(
      `INSERT INTO records (seq, table_name, id, team_id, version, deleted, updated_at, updated_by, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (table_name, id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
         deleted = excluded.deleted, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by, data = excluded.data`,
    ),
    insertHistory: c.prepare<
      [number, string, string, number, string, string, 0 | 1, number, string, string, string]
    >(
      `INSERT INTO record_history
         (seq, table_name, id, version, team_id, data, deleted, at, by, device_id, mutation_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getConflict: c.prepare<[string], { tableName: string; recordId: string }>(
      'SELECT table_name AS tableName, record_id AS recordId FROM conflicts WHERE id = ?',
    ),
    /**
     * The changes after a cursor, for a caller in more teams than team-changes.ts reads in one
     * statement: every table of the teams where the caller is a clinician (a JSON array), and only
     * the review-side tables of the teams they only supervise (another array), in seq order: a
     * walk of the rowid range after the cursor. A row at or below the device's `acked`
     * whose latest write is that device's own push stored as sent (its answer carried this very
     * seq) comes without its data: the device already holds it.
     */
    pullPage: c.prepare<[number, string, number, string, string, number], PageRow>(
      `SELECT table_name AS tableName, id, version, seq, deleted,
         CASE WHEN seq <= ? AND EXISTS (
           SELECT 1 FROM record_history h
           JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
           WHERE h.seq = records.seq AND h.device_id = ?
             AND json_extract(a.result, '$.seq') = records.seq
         ) THEN NULL ELSE data END AS data
       FROM records
       WHERE seq > ?
         AND (team_id IN (SELECT value FROM json_each(?))
              OR (table_name IN ('reviews', 'comments', 'followups')
                  AND team_id IN (SELECT value FROM json_each(?))))
       ORDER BY seq LIMIT ?`,
    ),
    // Review read models (services/review-index.ts).
    firstWriteAt: c
      .prepare<[string, string], number>(
        'SELECT at FROM record_history WHERE table_name = ? AND id = ? AND version = 1',
      )
      .pluck(),
    userName: c.prepare<[string], string>('SELECT name FROM users WHERE id = ?').pluck(),
    getIndexed: c.prepare<[string], IndexedRow>(
      `SELECT revision, shared_at AS sharedAt, first_shared_at AS firstSharedAt,
              clinician_id AS clinicianId, team_id AS teamId, state, disagreement, positive,
              models, ever_returned AS everReturned
       FROM review_reports WHERE report_id = ?`,
    ),
    addCount: c.prepare<[string, string, number, number, string, number]>(
      `INSERT INTO review_counts (team_id, state, disagreement, positive, models, n)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (team_id, state, disagreement, positive, models) DO UPDATE SET n = n + excluded.n`,
    ),
    setReviewState: c.prepare<[ReviewState, number | null, number, string]>(
      'UPDATE review_reports SET state = ?, reviewed_at = ?, ever_returned = ? WHERE report_id = ?',
    ),
    upsertIndexed: c.prepare(
      `INSERT INTO review_reports (report_id, team_id, patient_id, encounter_id, clinician_id,
         patient_name, sex, birth_date, village, village_key, revision, state, shared_at,
         first_shared_at, reviewed_at, ever_returned, positive, abnormal, disagreement, priority,
         rank, models)
       VALUES (@reportId, @teamId, @patientId, @encounterId, @clinicianId, @patientName, @sex,
         @birthDate, @village, @villageKey, @revision, @state, @sharedAt, @firstSharedAt,
         @reviewedAt, @everReturned, @positive, @abnormal, @disagreement, @priority, @rank, @models)
       ON CONFLICT (report_id) DO UPDATE SET team_id = excluded.team_id,
         patient_id = excluded.patient_id, encounter_id = excluded.encounter_id,
         clinician_id = excluded.clinician_id, patient_name = excluded.patient_name,
         sex = excluded.sex, birth_date = excluded.birth_date, village = excluded.village,
         village_key = excluded.village_key, revision = excluded.revision, state = excluded.state,
         shared_at = excluded.shared_at, first_shared_at = excluded.first_shared_at,
         reviewed_at = excluded.reviewed_at, ever_returned = excluded.ever_returned,
         positive = excluded.positive, abnormal = excluded.abnormal,
         disagreement = excluded.disagreement, priority = excluded.priority,
         rank = excluded.rank, models = excluded.models`,
    ),
    deleteIndexed: c.prepare<[string]>('DELETE FROM review_reports WHERE report_id = ?'),
    deleteDiagnoses: c.prepare<[string]>('DELETE FROM review_diagnoses WHERE report_id = ?'),
    insertDiagnosis: c.prepare(
      `INSERT INTO review_diagnoses (report_id, diagnosis_id, team_id, model_id, model_version,
         model_name, positive, assessment, image_sha256, ran_at)
       VALUES (@reportId, @diagnosisId, @teamId, @modelId, @modelVersion, @modelName, @positive,
         @assessment, @imageSha256, @ranAt)`,
    ),
    latestReview: c.prepare<[string, number], { decision: 'approved' | 'returned'; at: number }>(
      `SELECT decision, at FROM review_events WHERE report_id = ? AND revision = ?
       ORDER BY at DESC, review_id DESC LIMIT 1`,
    ),
    everReturned: c
      .prepare<[string], number>(
        `SELECT count(*) > 0 FROM review_events WHERE report_id = ? AND decision = 'returned'`,
      )
      .pluck(),
    reportsOfPatient: c
      .prepare<[string], string>('SELECT report_id FROM review_reports WHERE patient_id = ?')
      .pluck(),
    reportsOfEncounter: c
      .prepare<[string], string>('SELECT report_id FROM review_reports WHERE encounter_id = ?')
      .pluck(),
    sharedReportOfPatient: c
      .prepare<[string, string], number>(
        'SELECT count(*) > 0 FROM review_reports WHERE patient_id = ? AND team_id = ?',
      )
      .pluck(),
    insertEvent: c.prepare(
      `INSERT INTO review_events (review_id, report_id, team_id, revision, decision, author_id, at,
         revision_shared_at, first_of_revision, snapshot)
       VALUES (@reviewId, @reportId, @teamId, @revision, @decision, @authorId, @at,
         @revisionSharedAt,
         NOT EXISTS (SELECT 1 FROM review_events WHERE report_id = @reportId AND revision = @revision),
         @snapshot)`,
    ),
    insertVerdict: c.prepare(
      `INSERT INTO review_verdicts (review_id, diagnosis_id, report_id, team_id, model_id,
         model_version, model_positive, verdict, reference_outcome, at)
       VALUES (@reviewId, @diagnosisId, @reportId, @teamId, @modelId, @modelVersion,
         @modelPositive, @verdict, @referenceOutcome, @at)`,
    ),
    countActivity: {
      encounters: c.prepare<[string, string, number]>(
        `INSERT INTO clinician_activity (team_id, user_id, week, encounters) VALUES (?, ?, ?, 1)
         ON CONFLICT (team_id, user_id, week) DO UPDATE SET encounters = encounters + 1`,
      ),
      shared: c.prepare<[string, string, number]>(
        `INSERT INTO clinician_activity (team_id, user_id, week, shared) VALUES (?, ?, ?, 1)
         ON CONFLICT (team_id, user_id, week) DO UPDATE SET shared = shared + 1`,
      ),
      returned: c.prepare<[string, string, number]>(
        `INSERT INTO clinician_activity (team_id, user_id, week, returned) VALUES (?, ?, ?, 1)
         ON CONFLICT (team_id, user_id, week) DO UPDATE SET returned = returned + 1`,
      ),
    },
    getRun: c.prepare<[string], { week: number; assessment: string | null }>(
      'SELECT week, assessment FROM model_runs WHERE diagnosis_id = ?',
    ),
    insertRun: c.prepare(
      `INSERT INTO model_runs (diagnosis_id, team_id, model_id, model_version, week, positive,
         assessment) VALUES (@diagnosisId, @teamId, @modelId, @modelVersion, @week, @positive,
         @assessment)`,
    ),
    setRunAssessment: c.prepare<[string | null, string]>(
      'UPDATE model_runs SET assessment = ? WHERE diagnosis_id = ?',
    ),
    addWeekly: c.prepare(
      `INSERT INTO model_weekly (team_id, model_id, model_version, week, model_name, runs,
         positives, assessed, agreed)
       VALUES (@teamId, @modelId, @modelVersion, @week, @modelName, @runs, @positives, @assessed,
         @agreed)
       ON CONFLICT (team_id, model_id, model_version, week) DO UPDATE SET
         runs = runs + excluded.runs, positives = positives + excluded.positives,
         assessed = assessed + excluded.assessed, agreed = agreed + excluded.agreed`,
    ),
    upsertVerdict: c.prepare(
      `INSERT INTO verdict_latest (diagnosis_id, team_id, model_id, model_version, model_positive,
         verdict, at)
       VALUES (@diagnosisId, @teamId, @modelId, @modelVersion, @modelPositive, @verdict, @at)
       ON CONFLICT (diagnosis_id) DO UPDATE SET verdict = excluded.verdict, at = excluded.at,
         model_positive = excluded.model_positive`,
    ),
    insertRef: c.prepare<[string, string, string]>(
      'INSERT OR IGNORE INTO review_refs (table_name, id, report_id) VALUES (?, ?, ?)',
    ),
    revisionSharedAt: c
      .prepare<[string, number], number>(
        `SELECT min(at) FROM record_history WHERE table_name = 'reports' AND id = ?
           AND json_extract(data, '$.revision') = ?`,
      )
      .pluck(),
  };
}

type Statements = ReturnType<typeof prepare>;

class SqliteSyncRepository implements SyncRepository {
  constructor(
    private readonly db: Db,
    private readonly s: Statements,
    /** The connection's runner (runner.ts): inside a transaction for the repository given to one. */
    private readonly runner: SqliteRunner,
  ) {}

  /** A statement, run now unless another caller's transaction holds the connection. */
  private run<T>(op: () => T): Promise<T> {
    return this.runner.run(op);
  }

  transaction<T>(fn: (tx: SyncRepository) => Promise<T>): Promise<T> {
    return this.runner.transaction((r) => fn(new SqliteSyncRepository(this.db, this.s, r)));
  }

  /** Nothing to prepare: each statement is a function call into the same process. */
  preparePush(): Promise<void> {
    return Promise.resolve();
  }
  getApplied(deviceId: string, mutationId: string) {
    return this.run(() => this.s.getApplied.get(deviceId, mutationId));
  }
  insertApplied(deviceId: string, mutationId: string, userId: string, result: string, at: number) {
    return this.run(() => {
      this.s.insertApplied.run(deviceId, mutationId, userId, result, at);
    });
  }
  getRecord(table: SyncTable, id: string) {
    return this.run(() => this.s.getRecord.get(table, id));
  }
  getHistoryData(table: SyncTable, id: string, version: number) {
    return this.run(() => this.s.getHistoryData.get(table, id, version));
  }
  latestAppliedAsSent(table: SyncTable, id: string, deviceId: string) {
    return this.run(() => this.s.latestAppliedAsSent.get(table, id, deviceId) ?? null);
  }
  maxSeq() {
    return this.run(() => this.s.maxSeq.get()!);
  }
  writeRecord(r: Parameters<SyncRepository['writeRecord']>[0]) {
    return this.run(() => {
      this.s.upsertRecord.run(
        r.seq,
        r.table,
        r.id,
        r.teamId,
        r.version,
        r.deleted,
        r.at,
        r.by,
        r.data,
      );
      this.s.insertHistory.run(
        r.seq,
        r.table,
        r.id,
        r.version,
        r.teamId,
        r.data,
        r.deleted,
        r.at,
        r.by,
        r.deviceId,
        r.mutationId,
      );
    });
  }
  getConflict(id: string) {
    return this.run(() => this.s.getConflict.get(id));
  }
  insertConflict(row: ConflictRow) {
    return this.run(() => {
      this.db.insert(conflicts).values(row).run();
    });
  }
  resolveConflict(id: string, at: number, mutationId: string) {
    return this.run(() => {
      this.db
        .update(conflicts)
        .set({ status: 'resolved', resolvedAt: new Date(at), resolvedByMutation: mutationId })
        .where(and(eq(conflicts.id, id), eq(conflicts.status, 'open')))
        .run();
    });
  }
  insertAudit(e: Parameters<SyncRepository['insertAudit']>[0]) {
    return this.run(() => {
      this.db
        .insert(auditLog)
        .values({
          at: new Date(e.at),
          userId: e.userId,
          action: e.action,
          target: e.target,
          ip: e.ip,
          detail: e.detail,
        })
        .run();
    });
  }
  notePush(deviceId: string, at: number) {
    return this.run(() => {
      this.s.notePush.run(at, deviceId);
    });
  }

  getDevice(id: string) {
    return this.run(() => this.db.select().from(devices).where(eq(devices.id, id)).get());
  }
  insertDevice(row: DeviceRow) {
    return this.run(() => {
      this.db.insert(devices).values(row).run();
    });
  }
  bindSession(sessionId: string, deviceId: string) {
    return this.run(() => {
      this.db
        .update(sessions)
        .set({ deviceId })
        .where(
          and(
            eq(sessions.id, sessionId),
            or(isNull(sessions.deviceId), ne(sessions.deviceId, deviceId)),
          ),
        )
        .run();
    });
  }
  userDisabledAt(userId: string) {
    return this.run(() =>
      this.db
        .select({ disabledAt: users.disabledAt })
        .from(users)
        .where(eq(users.id, userId))
        .get(),
    );
  }
  noteSync(deviceId: string, at: Date, userAgent: string | null) {
    return this.run(() => {
      this.db
        .update(devices)
        .set({ lastSeenAt: at, lastSyncAt: at, userAgent })
        .where(eq(devices.id, deviceId))
        .run();
    });
  }

  // Each of these reads the caller's teams from records_team_seq (team-changes.ts).
  cursorKnown(cursor: number, clinical: readonly string[], supervisedOnly: readonly string[]) {
    return this.run(() => this.s.teamChanges.known({ clinical, supervisedOnly }, cursor));
  }
  lastChangeInScope(
    atOrBelow: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ) {
    return this.run(() => this.s.teamChanges.last({ clinical, supervisedOnly }, atOrBelow));
  }
  countChanges(after: number, clinical: readonly string[], supervisedOnly: readonly string[]) {
    return this.run(() => this.s.teamChanges.count({ clinical, supervisedOnly }, after));
  }
  scanChanges(q: Parameters<SyncRepository['scanChanges']>[0], visit: (row: PageRow) => boolean) {
    return this.run(() => {
      // A caller in more teams than one statement names walks the whole sequence instead.
      const rows = TeamChanges.fitOnePage(q)
        ? this.s.teamChanges.page(q, {
            acked: q.acked,
            deviceId: q.deviceId,
            cursor: q.cursor,
            limit: q.limit,
          })
        : this.s.pullPage.iterate(
            q.acked,
            q.deviceId,
            q.cursor,
            JSON.stringify(q.clinical),
            JSON.stringify(q.supervisedOnly),
            q.limit,
          );
      for (const row of rows) {
        if (!visit(row)) break; // ends the statement's iteration
      }
    });
  }
  notePull(deviceId: string, cursor: number, scope: string[] | null) {
    return this.run(() => {
      this.db
        .update(devices)
        .set({ lastPulledCursor: cursor, ...(scope ? { scope } : {}) })
        .where(eq(devices.id, deviceId))
        .run();
    });
  }
  openConflicts(teams: readonly string[], limit: number) {
    return this.run(() =>
      this.db
        .select()
        .from(conflicts)
        .where(and(inArray(conflicts.teamId, [...teams]), eq(conflicts.status, 'open')))
        .orderBy(asc(conflicts.createdAt), asc(conflicts.id))
        .limit(limit)
        .all(),
    );
  }

  // Review read models
  userName(userId: string) {
    return this.run(() => this.s.userName.get(userId));
  }
  firstWriteAt(table: SyncTable, id: string) {
    return this.run(() => this.s.firstWriteAt.get(table, id));
  }
  getIndexed(reportId: string) {
    return this.run(() => this.s.getIndexed.get(reportId));
  }
  addCount(k: CountKey, n: number) {
    return this.run(() => {
      this.s.addCount.run(k.teamId, k.state, k.disagreement, k.positive, k.models, n);
    });
  }
  setReviewState(
    reportId: string,
    state: ReviewState,
    reviewedAt: number | null,
    everReturned: number,
  ) {
    return this.run(() => {
      this.s.setReviewState.run(state, reviewedAt, everReturned, reportId);
    });
  }
  upsertIndexed(row: Parameters<SyncRepository['upsertIndexed']>[0]) {
    return this.run(() => {
      this.s.upsertIndexed.run(row);
    });
  }
  deleteIndexed(reportId: string) {
    return this.run(() => {
      this.s.deleteIndexed.run(reportId);
    });
  }
  deleteDiagnoses(reportId: string) {
    return this.run(() => {
      this.s.deleteDiagnoses.run(reportId);
    });
  }
  insertDiagnosis(row: Parameters<SyncRepository['insertDiagnosis']>[0]) {
    return this.run(() => {
      this.s.insertDiagnosis.run(row);
    });
  }
  latestReview(reportId: string, revision: number) {
    return this.run(() => this.s.latestReview.get(reportId, revision));
  }
  everReturned(reportId: string) {
    return this.run(() => this.s.everReturned.get(reportId) ?? 0);
  }
  reportsOfPatient(patientId: string) {
    return this.run(() => this.s.reportsOfPatient.all(patientId));
  }
  reportsOfEncounter(encounterId: string) {
    return this.run(() => this.s.reportsOfEncounter.all(encounterId));
  }
  sharedReportOfPatient(patientId: string, teamId: string) {
    return this.run(() => this.s.sharedReportOfPatient.get(patientId, teamId) === 1);
  }
  insertEvent(row: Parameters<SyncRepository['insertEvent']>[0]) {
    return this.run(() => {
      this.s.insertEvent.run(row);
    });
  }
  insertVerdict(row: Parameters<SyncRepository['insertVerdict']>[0]) {
    return this.run(() => {
      this.s.insertVerdict.run(row);
    });
  }
  upsertVerdict(row: Parameters<SyncRepository['upsertVerdict']>[0]) {
    return this.run(() => {
      this.s.upsertVerdict.run(row);
    });
  }
  countActivity(
    counter: Parameters<SyncRepository['countActivity']>[0],
    teamId: string,
    userId: string,
    week: number,
  ) {
    return this.run(() => {
      this.s.countActivity[counter].run(teamId, userId, week);
    });
  }
  getRun(diagnosisId: string) {
    return this.run(() => this.s.getRun.get(diagnosisId));
  }
  insertRun(row: Parameters<SyncRepository['insertRun']>[0]) {
    return this.run(() => {
      this.s.insertRun.run(row);
    });
  }
  setRunAssessment(diagnosisId: string, assessment: string | null) {
    return this.run(() => {
      this.s.setRunAssessment.run(assessment, diagnosisId);
    });
  }
  addWeekly(delta: Parameters<SyncRepository['addWeekly']>[0]) {
    return this.run(() => {
      this.s.addWeekly.run(delta);
    });
  }
  insertRef(table: SyncTable, id: string, reportId: string) {
    return this.run(() => {
      this.s.insertRef.run(table, id, reportId);
    });
  }
  revisionSharedAt(reportId: string, revision: number) {
    return this.run(() => this.s.revisionSharedAt.get(reportId, revision) ?? undefined);
  }
}

const repositories = new WeakMap<Db, SyncRepository>();

/** The sync repository of a SQLite database: one per connection (its statements and its gate). */
export function sqliteSyncRepository(db: Db): SyncRepository {
  let repo = repositories.get(db);
  if (!repo) {
    repo = new SqliteSyncRepository(db, prepare(db), sqliteRunner(db));
    repositories.set(db, repo);
  }
  return repo;
}
