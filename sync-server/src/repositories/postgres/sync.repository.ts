import { and, asc, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import * as schema from '../../db/schema.pg';
import type { ConflictRow, DeviceRow } from '../../db/schema';
import type { ReviewState, SyncTable } from '../../protocol';
import type {
  AuditEntry,
  CountKey,
  CurrentRow,
  IndexedRow,
  PageQuery,
  PageRow,
  PushKey,
  RecordWrite,
  SyncRepository,
} from '../sync.repository';

/*
 * The PostgreSQL implementation (docs/postgresql.md), on a pg pool opened by db/postgres.ts
 * (which parses int8 as a JS number). The hot statements are plain SQL with $n parameters, sent
 * as named statements so that each connection prepares them once; the rare ones (devices,
 * sessions, conflicts, audit) go through drizzle and schema.pg.ts.
 *
 * Ordering of the change sequence across instances. A push gives each write max(seq) + 1 of
 * `records`, read inside its transaction, and pulls read `seq > cursor`. Under READ COMMITTED two
 * pushes on two instances would read the same max and collide; worse, with any per-row scheme a
 * push holding seq 11 could commit before one holding seq 10, and a pull between the two commits
 * would move its cursor to 11 and never see 10. So every sync write transaction first takes one
 * transaction-scoped advisory lock (SYNC_WRITE_LOCK): pushes on all instances run one after the
 * other, each reads the sequence after the previous one committed, and seqs become visible in
 * order. PostgreSQL makes a commit visible before it releases the transaction's locks, so the next
 * holder's statements see it. This is the same one-writer-at-a-time that SQLite's BEGIN IMMEDIATE
 * gives; reads (pulls) take no lock. Row locks were not enough (the sequence is global, not per
 * record) and SERIALIZABLE would make every pair of concurrent pushes conflict on max(seq) and
 * retry (see postgresql.md).
 */

/** Any constant, distinct from db/postgres.ts MIGRATION_LOCK: "FDxs". */
export const SYNC_WRITE_LOCK = 0x46_44_78_73;

const REVIEW_TABLES = `('reviews', 'comments', 'followups')`;

/**
 * The seqs of the changes of the teams in array `clinical` and the review-side changes of those in
 * `supervisedOnly` whose seq is `op` `bound`, at most `limit` per team, in each team's `order`,
 * read from records_team_seq team by team. The bound is written as a comparison of (team_id, seq),
 * which only that index can take as a range: with `seq > bound` alone PostgreSQL may walk the
 * primary key and filter on the team instead, which it costs as if the team's rows were spread
 * evenly over the sequence (a quiet team's are not: 20,000 rows read for none, measured). The
 * review-side filter is written `(table_name || '')` for the same reason: as a plain column it let
 * the planner read every team's reviews from records_table_id and sort them.
 */
function teamSeqs(
  op: '>' | '>=' | '<=',
  bound: string,
  limit: string,
  clinical: string,
  supervisedOnly: string,
): string {
  const order = op === '<=' ? 'DESC' : 'ASC';
  const arm = (teams: string, only: string) =>
    `SELECT x.seq FROM unnest(${teams}::text[]) AS t(team_id) CROSS JOIN LATERAL (
        SELECT seq FROM records
        WHERE records.team_id = t.team_id AND (records.team_id, seq) ${op} (t.team_id, ${bound})${only}
        ORDER BY seq ${order} LIMIT ${limit}) x`;
  return `${arm(clinical, '')}
      UNION ALL
      ${arm(supervisedOnly, ` AND (table_name || '') IN ${REVIEW_TABLES}`)}`;
}

const SQL = {
  getApplied: `SELECT user_id AS "userId", result FROM applied_mutations
    WHERE device_id = $1 AND mutation_id = $2`,
  insertApplied: `INSERT INTO applied_mutations (device_id, mutation_id, user_id, result, at)
    VALUES ($1, $2, $3, $4, $5)`,
  getRecord: `SELECT team_id AS "teamId", version, deleted::int AS deleted, data FROM records
    WHERE table_name = $1 AND id = $2`,
  getHistoryData: `SELECT data FROM record_history WHERE table_name = $1 AND id = $2 AND version = $3`,
  latestAppliedAsSent: `SELECT max(h.version) AS v FROM record_history h
    JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
    WHERE h.table_name = $1 AND h.id = $2 AND h.device_id = $3
      AND a.result::jsonb ->> 'status' = 'applied'`,
  maxSeq: `SELECT coalesce(max(seq), 0) AS seq FROM records`,
  notePush: `UPDATE devices SET last_push_at = $1 WHERE id = $2`,
  // One round trip for both tables: the record's new version and its history row.
  writeRecord: `WITH current AS (
      INSERT INTO records
        (seq, table_name, id, team_id, version, deleted, updated_at, updated_by, data)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (table_name, id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
        deleted = excluded.deleted, updated_at = excluded.updated_at,
        updated_by = excluded.updated_by, data = excluded.data
    )
    INSERT INTO record_history
      (seq, table_name, id, version, team_id, data, deleted, at, by, device_id, mutation_id)
    VALUES ($1, $2, $3, $5, $4, $9, $6, $7, $8, $10, $11)`,
  // The held-back writes of a push (see PushCache), all three tables in one round trip: each
  // array parameter is one column, rows are unnest()ed in order. A held-back notePush rides along
  // ($26, $27; null when there is none).
  flushWrites: `WITH pushed AS (
      UPDATE devices SET last_push_at = $26 WHERE id = $27::text
    ), current AS (
      INSERT INTO records
        (seq, table_name, id, team_id, version, deleted, updated_at, updated_by, data)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[],
        $6::bool[], $7::bigint[], $8::text[], $9::text[])
      ON CONFLICT (table_name, id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
        deleted = excluded.deleted, updated_at = excluded.updated_at,
        updated_by = excluded.updated_by, data = excluded.data
    ), applied AS (
      INSERT INTO applied_mutations (device_id, mutation_id, user_id, result, at)
      SELECT * FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[])
    )
    INSERT INTO record_history
      (seq, table_name, id, version, team_id, data, deleted, at, by, device_id, mutation_id)
    SELECT * FROM unnest($15::bigint[], $16::text[], $17::text[], $18::int[], $19::text[],
      $20::text[], $21::bool[], $22::bigint[], $23::text[], $24::text[], $25::text[])`,
  // What preparePush reads, in one round trip and one snapshot (taken under SYNC_WRITE_LOCK): the
  // sequence, the batch's stored results, its current records, and the reports indexed under its
  // patients and encounters; `kind` says which (see PREPARED).
  preparePush: `SELECT 0 AS kind, NULL::text AS a, NULL::text AS b, NULL::text AS c,
      coalesce(max(seq), 0)::bigint AS n, NULL::int AS m, NULL::text AS data FROM records
    UNION ALL
    SELECT 1, mutation_id, user_id, NULL, NULL, NULL, result FROM applied_mutations
      WHERE device_id = $1 AND mutation_id = ANY($2::text[])
    UNION ALL
    SELECT 2, r.table_name, r.id, r.team_id, r.deleted::int, r.version, r.data
      FROM records r JOIN unnest($3::text[], $4::text[]) AS k(table_name, id)
        ON r.table_name = k.table_name AND r.id = k.id
    UNION ALL
    SELECT 3, patient_id, report_id, NULL, NULL, NULL, NULL FROM review_reports
      WHERE patient_id = ANY($5::text[])
    UNION ALL
    SELECT 4, encounter_id, report_id, NULL, NULL, NULL, NULL FROM review_reports
      WHERE encounter_id = ANY($6::text[])`,
  syncLock: `SELECT pg_advisory_xact_lock($1)`,
  // A device's first contact: see getDevice. Keyed like limits.ts and models.ts.
  lockDeviceId: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
  // The row lock notePush's UPDATE takes, taken before SYNC_WRITE_LOCK (see BEFORE_LOCK).
  lockDeviceRow: `SELECT 1 FROM devices WHERE id = $1 FOR NO KEY UPDATE`,
  getDevice: `SELECT id, user_id AS "userId", created_at AS "createdAt",
      last_seen_at AS "lastSeenAt", last_pulled_cursor AS "lastPulledCursor", scope,
      last_push_at AS "lastPushAt", last_sync_at AS "lastSyncAt", user_agent AS "userAgent",
      revoked_at AS "revokedAt", revoked_by AS "revokedBy"
    FROM devices WHERE id = $1`,
  bindSession: `UPDATE sessions SET device_id = $2
    WHERE id = $1 AND (device_id IS NULL OR device_id <> $2)`,
  noteSync: `UPDATE devices SET last_seen_at = $1, last_sync_at = $1, user_agent = $2 WHERE id = $3`,
  // noteSync and a held-back bindSession (see PgSyncRepository.pendingBind) in one round trip.
  noteSyncBinding: `WITH bound AS (
      UPDATE sessions SET device_id = $3 WHERE id = $4 AND (device_id IS NULL OR device_id <> $3)
    )
    UPDATE devices SET last_seen_at = $1, last_sync_at = $1, user_agent = $2 WHERE id = $3`,
  getConflict: `SELECT table_name AS "tableName", record_id AS "recordId" FROM conflicts WHERE id = $1`,
  // As SQLite's (repositories/sqlite/team-changes.ts): the caller's changes read team by team
  // from records_team_seq, each team's an ordered index scan that stops at the page's size (a
  // LATERAL subquery per element of the team arrays, teamSeqs below), merged in seq order. The
  // device's own acknowledged write, stored as sent, comes without its data: a scalar subquery,
  // not EXISTS (PostgreSQL turned the EXISTS into a hash of the device's whole history built for
  // every page: 38 ms per 500 rows at 20,000 rows of history, against 3.5 ms with two primary-key
  // lookups per row), computed for the page's rows only.
  pullPage: `WITH page AS (
      ${teamSeqs('>', '$3', '$6', '$4', '$5')}
      ORDER BY seq LIMIT $6)
    SELECT table_name AS "tableName", id, version, r.seq, deleted::int AS deleted,
      CASE WHEN r.seq <= $1 AND (
        SELECT a.result::jsonb -> 'seq' = to_jsonb(r.seq)
        FROM record_history h
        JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
        WHERE h.seq = r.seq AND h.device_id = $2
      ) IS TRUE THEN NULL ELSE data END AS data
    FROM page JOIN records r ON r.seq = page.seq
    ORDER BY r.seq`,
  countChanges: `SELECT count(*) AS n FROM (${teamSeqs('>', '$1', 'ALL', '$2', '$3')}) c`,
  cursorKnown: `SELECT 1 FROM (${teamSeqs('>=', '$1', '1', '$2', '$3')}) c LIMIT 1`,
  // Each team's index read backwards, stopping at its first row.
  lastChangeInScope: `SELECT coalesce(max(seq), 0) AS seq FROM (
      ${teamSeqs('<=', '$1', '1', '$2', '$3')}) last`,
  notePull: `UPDATE devices SET last_pulled_cursor = $1 WHERE id = $2`,
  notePullScope: `UPDATE devices SET last_pulled_cursor = $1, scope = $3::jsonb WHERE id = $2`,

  firstWriteAt: `SELECT at FROM record_history WHERE table_name = $1 AND id = $2 AND version = 1`,
  userName: `SELECT name FROM users WHERE id = $1`,
  getIndexed: `SELECT revision, shared_at AS "sharedAt", first_shared_at AS "firstSharedAt",
      clinician_id AS "clinicianId", team_id AS "teamId", state, disagreement, positive, models,
      ever_returned AS "everReturned"
    FROM review_reports WHERE report_id = $1`,
  addCount: `INSERT INTO review_counts (team_id, state, disagreement, positive, models, n)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (team_id, state, disagreement, positive, models)
    DO UPDATE SET n = review_counts.n + excluded.n`,
  setReviewState: `UPDATE review_reports SET state = $2, reviewed_at = $3, ever_returned = $4
    WHERE report_id = $1`,
  upsertIndexed: `INSERT INTO review_reports (report_id, team_id, patient_id, encounter_id,
      clinician_id, patient_name, sex, birth_date, village, village_key, revision, state,
      shared_at, first_shared_at, reviewed_at, ever_returned, positive, abnormal, disagreement,
      priority, rank, models)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
      $20, $21, $22)
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
  deleteIndexed: `DELETE FROM review_reports WHERE report_id = $1`,
  deleteDiagnoses: `DELETE FROM review_diagnoses WHERE report_id = $1`,
  insertDiagnosis: `INSERT INTO review_diagnoses (report_id, diagnosis_id, team_id, model_id,
      model_version, model_name, positive, assessment, image_sha256, ran_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  latestReview: `SELECT decision, at FROM review_events WHERE report_id = $1 AND revision = $2
    ORDER BY at DESC, review_id DESC LIMIT 1`,
  everReturned: `SELECT (count(*) > 0)::int AS n FROM review_events
    WHERE report_id = $1 AND decision = 'returned'`,
  reportsOfPatient: `SELECT report_id AS id FROM review_reports WHERE patient_id = $1`,
  reportsOfEncounter: `SELECT report_id AS id FROM review_reports WHERE encounter_id = $1`,
  sharedReportOfPatient: `SELECT EXISTS (SELECT 1 FROM review_reports
    WHERE patient_id = $1 AND team_id = $2) AS found`,
  insertEvent: `INSERT INTO review_events (review_id, report_id, team_id, revision, decision,
      author_id, at, revision_shared_at, first_of_revision, snapshot)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
      (NOT EXISTS (SELECT 1 FROM review_events WHERE report_id = $2 AND revision = $4))::int, $9)`,
  insertVerdict: `INSERT INTO review_verdicts (review_id, diagnosis_id, report_id, team_id,
      model_id, model_version, model_positive, verdict, reference_outcome, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  upsertVerdict: `INSERT INTO verdict_latest (diagnosis_id, team_id, model_id, model_version,
      model_positive, verdict, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (diagnosis_id) DO UPDATE SET verdict = excluded.verdict, at = excluded.at,
      model_positive = excluded.model_positive`,
  countActivity: (column: 'encounters' | 'shared' | 'returned') =>
    `INSERT INTO clinician_activity (team_id, user_id, week, ${column}) VALUES ($1, $2, $3, 1)
     ON CONFLICT (team_id, user_id, week)
     DO UPDATE SET ${column} = clinician_activity.${column} + 1`,
  getRun: `SELECT week, assessment FROM model_runs WHERE diagnosis_id = $1`,
  insertRun: `INSERT INTO model_runs (diagnosis_id, team_id, model_id, model_version, week,
      positive, assessment) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  setRunAssessment: `UPDATE model_runs SET assessment = $2 WHERE diagnosis_id = $1`,
  addWeekly: `INSERT INTO model_weekly (team_id, model_id, model_version, week, model_name, runs,
      positives, assessed, agreed)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (team_id, model_id, model_version, week) DO UPDATE SET
      runs = model_weekly.runs + excluded.runs,
      positives = model_weekly.positives + excluded.positives,
      assessed = model_weekly.assessed + excluded.assessed,
      agreed = model_weekly.agreed + excluded.agreed`,
  insertRef: `INSERT INTO review_refs (table_name, id, report_id) VALUES ($1, $2, $3)
    ON CONFLICT DO NOTHING`,
  revisionSharedAt: `SELECT min(at) AS at FROM record_history
    WHERE table_name = 'reports' AND id = $1 AND data::jsonb -> 'revision' = to_jsonb($2::int)`,
} as const;

/** Rows a pull reads per round trip: its memory stays bounded whatever the page's limit. */
const SCAN_CHUNK = 500;

/** Held-back writes are sent once this many records are waiting, to bound memory. */
const FLUSH_AT = 1_000;

/** Statements that read or write the tables whose writes a push holds back (see PushCache). */
const SEES_HELD_BACK = new Set(
  Object.entries(SQL)
    .filter(([, text]) =>
      typeof text === 'string'
        ? /\b(records|record_history|applied_mutations)\b/.test(text)
        : false,
    )
    .map(([name]) => name),
);

const recordKey = (table: string, id: string) => `${table}\0${id}`;

/**
 * A push's reads and writes, batched (issue 17). Without it a push makes about five round trips per
 * mutation (its stored result, the current record, the write, the result's row, the review index),
 * and a push of 10,000 took ~6 s. preparePush reads, for the whole batch and in one query each,
 * the stored results of its mutation ids, the current records of its ids and the reports indexed
 * under its patients and encounters; the per-mutation calls answer from those maps. The records,
 * history rows and results it writes are held back and sent in one multi-row statement
 * (flushWrites) before any statement that reads those tables, before FLUSH_AT rows pile up and
 * before COMMIT. Every write updates the maps first, so a later mutation of the same batch sees
 * an earlier one's write (a record edited twice, a mutation id repeated). All of it lives and dies
 * with one transaction under SYNC_WRITE_LOCK: nobody else writes these tables meanwhile, so what
 * was read up front stays true except for this transaction's own writes.
 */
class PushCache {
  /** Stored results by mutation id, of `deviceId` only; null: known to have none. */
  applied = new Map<string, { userId: string; result: string } | null>();
  deviceId: string | undefined;
  /** Current rows by recordKey; null: known not to exist. */
  records = new Map<string, CurrentRow | null>();
  /** Report ids by patient / encounter id; dropped as soon as review_reports is written. */
  reportsOf: { patients: Map<string, string[]>; encounters: Map<string, string[]> } | null = null;
  pendingRecords: RecordWrite[] = [];
  pendingApplied: [string, string, string, string, number][] = [];
  /** notePush's (at, deviceId), sent with the last flushWrites. */
  pendingPush: [number, string] | null = null;
}

/**
 * The statements a sync transaction may run before it takes SYNC_WRITE_LOCK: the device's contact
 * (touchDevice), which reads and writes only `devices` and `sessions`, never the sequence. Every
 * other statement of a transaction takes the lock first (PgSyncRepository.before), so a push holds
 * it from its first read of the records, results or sequence (preparePush) to its commit. A pull's
 * contact (touchDevice on its own) thus takes no lock at all.
 *
 * No deadlock: the only locks taken before SYNC_WRITE_LOCK are on the device (its id's advisory
 * lock on a first contact, its row: noteSync, insertDevice, lockDeviceRow) and on its session's row
 * (bindSession), and a transaction holding SYNC_WRITE_LOCK takes no other device's or session's
 * lock: its notePush is on the row it locked before (preparePush locks it when the push came
 * without its contact). Without that, a push holding the lock waits for the device's row while
 * another push of the device holds the row and waits for the lock (sync.pg.test.ts saw it).
 */
const BEFORE_LOCK = new Set([
  'getDevice',
  'lockDeviceId',
  'lockDeviceRow',
  'insertDevice',
  'bindSession',
  'userDisabledAt',
  'noteSync',
  'noteSyncBinding',
]);

/** A row of SQL.preparePush; which columns mean what depends on `kind`. */
interface PreparedRow {
  kind: 0 | 1 | 2 | 3 | 4;
  a: string;
  b: string;
  c: string;
  n: number;
  m: number;
  data: string;
}

/** A devices row as SQL.getDevice reads it: times in milliseconds. */
type RawDevice = Omit<
  DeviceRow,
  'createdAt' | 'lastSeenAt' | 'lastPushAt' | 'lastSyncAt' | 'revokedAt'
> & {
  createdAt: number;
  lastSeenAt: number;
  lastPushAt: number | null;
  lastSyncAt: number | null;
  revokedAt: number | null;
};

const dateOrNull = (ms: number | null) => (ms === null ? null : new Date(ms));

type Queryable = pg.Pool | pg.PoolClient;

class PgSyncRepository implements SyncRepository {
  private readonly orm;
  /** In a transaction: the highest seq read or written so far (see maxSeq). */
  private lastSeq: number | undefined;
  /** In a transaction: the push's batched reads and held-back writes. */
  private readonly cache: PushCache | null;
  /** In a transaction: whether it holds SYNC_WRITE_LOCK (see BEFORE_LOCK). */
  private locked = false;
  /** In a transaction: bindSession's (sessionId, deviceId), sent with noteSync when it follows. */
  private pendingBind: [string, string] | null = null;
  /** In a transaction: the device whose row it has locked (see BEFORE_LOCK). */
  private deviceRowLocked: string | null = null;

  constructor(
    private readonly pool: pg.Pool,
    /** The transaction's connection, or null outside one. */
    private readonly client: pg.PoolClient | null,
  ) {
    this.orm = drizzle({ client: (client ?? pool) as Queryable as pg.Pool, schema });
    this.cache = client ? new PushCache() : null;
  }

  private async rows<R extends pg.QueryResultRow>(
    name: keyof typeof SQL | string,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    await this.before(name);
    const res = await (this.client ?? this.pool).query<R>({ name: `fdx_${name}`, text, values });
    return res.rows;
  }

  /**
   * What must go before statement `name`: outside a transaction nothing. Inside one, a held-back
   * bindSession; SYNC_WRITE_LOCK unless the statement is one of BEFORE_LOCK; the held-back writes
   * before a statement that reads or writes their tables.
   */
  private async before(name: string): Promise<void> {
    if (!this.client) return;
    await this.sendBind();
    if (!BEFORE_LOCK.has(name)) await this.lock();
    if (SEES_HELD_BACK.has(name)) await this.flush();
  }

  private async sendBind(): Promise<void> {
    const bind = this.pendingBind;
    if (!bind) return;
    this.pendingBind = null;
    await this.client!.query({ name: 'fdx_bindSession', text: SQL.bindSession, values: bind });
  }

  /** In a transaction: sends a held-back bindSession, then takes SYNC_WRITE_LOCK. */
  private async holdLock(): Promise<void> {
    await this.sendBind();
    await this.lock();
  }

  /** Takes SYNC_WRITE_LOCK once per transaction (see the top of the file). */
  private async lock(): Promise<void> {
    if (this.locked) return;
    this.locked = true;
    await this.client!.query({
      name: 'fdx_syncLock',
      text: SQL.syncLock,
      values: [SYNC_WRITE_LOCK],
    });
  }

  /** Sends what is held back before COMMIT. */
  private async finish(): Promise<void> {
    await this.sendBind();
    await this.flush();
  }

  /** Sends the held-back writes (see PushCache), under SYNC_WRITE_LOCK. */
  private async flush(): Promise<void> {
    const c = this.cache;
    if (!c) return;
    const notePush = c.pendingPush;
    const writes = c.pendingRecords.length > 0 || c.pendingApplied.length > 0;
    if (!writes && !notePush) return;
    await this.sendBind();
    await this.lock();
    if (!writes) {
      c.pendingPush = null;
      await this.client!.query({ name: 'fdx_notePush', text: SQL.notePush, values: notePush! });
      return;
    }
    const history = c.pendingRecords;
    const applied = c.pendingApplied;
    c.pendingRecords = [];
    c.pendingApplied = [];
    c.pendingPush = null;
    // One row per record in `records` (ON CONFLICT cannot touch a row twice): its last write.
    const latest = new Map<string, RecordWrite>();
    for (const r of history) latest.set(recordKey(r.table, r.id), r);
    const current = [...latest.values()];
    const col = <T, V>(rows: readonly T[], f: (row: T) => V) => rows.map(f);
    await this.client!.query({
      name: 'fdx_flushWrites',
      text: SQL.flushWrites,
      values: [
        col(current, (r) => r.seq),
        col(current, (r) => r.table),
        col(current, (r) => r.id),
        col(current, (r) => r.teamId),
        col(current, (r) => r.version),
        col(current, (r) => r.deleted === 1),
        col(current, (r) => r.at),
        col(current, (r) => r.by),
        col(current, (r) => r.data),
        col(applied, (a) => a[0]),
        col(applied, (a) => a[1]),
        col(applied, (a) => a[2]),
        col(applied, (a) => a[3]),
        col(applied, (a) => a[4]),
        col(history, (r) => r.seq),
        col(history, (r) => r.table),
        col(history, (r) => r.id),
        col(history, (r) => r.version),
        col(history, (r) => r.teamId),
        col(history, (r) => r.data),
        col(history, (r) => r.deleted === 1),
        col(history, (r) => r.at),
        col(history, (r) => r.by),
        col(history, (r) => r.deviceId),
        col(history, (r) => r.mutationId),
        notePush?.[0] ?? null,
        notePush?.[1] ?? null,
      ],
    });
  }
  private async first<R extends pg.QueryResultRow>(
    name: keyof typeof SQL,
    values: unknown[],
  ): Promise<R | undefined> {
    return (await this.rows<R>(name, SQL[name] as string, values))[0];
  }
  private async exec(name: keyof typeof SQL, values: unknown[]): Promise<void> {
    await this.rows(name, SQL[name] as string, values);
  }

  async transaction<T>(fn: (tx: SyncRepository) => Promise<T>): Promise<T> {
    if (this.client) throw new Error('a sync transaction cannot be nested');
    const client = await this.pool.connect();
    let healthy = true;
    try {
      await client.query('BEGIN');
      // SYNC_WRITE_LOCK is taken by the first statement that needs it (see BEFORE_LOCK): every
      // sync write, on every instance, one at a time (see the top of the file).
      const tx = new PgSyncRepository(this.pool, client);
      const result = await fn(tx);
      await tx.finish();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (healthy = false));
      throw error;
    } finally {
      // A connection that failed mid-transaction is closed, not handed to the next caller.
      client.release(!healthy);
    }
  }

  async preparePush(deviceId: string, keys: readonly PushKey[]) {
    const c = this.cache;
    if (!c) throw new Error('preparePush belongs inside a sync transaction');
    if (this.deviceRowLocked !== deviceId && !this.locked) {
      // A push without its contact: notePush's row, locked before the lock (see BEFORE_LOCK). A
      // row not there yet may be a first contact's, not committed: wait for it as getDevice does,
      // or the row appears, unlocked, for notePush to wait on under the lock.
      if ((await this.rows('lockDeviceRow', SQL.lockDeviceRow, [deviceId])).length === 0) {
        await this.exec('lockDeviceId', [`devices\n${deviceId}`]);
        await this.exec('lockDeviceRow', [deviceId]);
      }
      this.deviceRowLocked = deviceId;
    }
    c.deviceId = deviceId;
    c.applied.clear();
    c.records.clear();
    const mutationIds = [...new Set(keys.map((k) => k.mutationId))];
    const located = new Map<string, { table: string; id: string }>();
    for (const k of keys) {
      if (k.table !== undefined && k.id !== undefined) {
        located.set(recordKey(k.table, k.id), { table: k.table, id: k.id });
      }
    }
    const owners = (table: string) =>
      [...located.values()].filter((k) => k.table === table).map((k) => k.id);
    const patients = new Map<string, string[]>(owners('patients').map((id) => [id, []]));
    const encounters = new Map<string, string[]>(owners('encounters').map((id) => [id, []]));
    // One round trip for all of it; rows() flushes what is held back and takes the lock first.
    const rows = await this.rows<PreparedRow>('preparePush', SQL.preparePush, [
      deviceId,
      mutationIds,
      [...located.values()].map((k) => k.table),
      [...located.values()].map((k) => k.id),
      [...patients.keys()],
      [...encounters.keys()],
    ]);
    for (const id of mutationIds) c.applied.set(id, null);
    for (const key of located.keys()) c.records.set(key, null);
    for (const r of rows) {
      switch (r.kind) {
        case 0:
          // Read under the lock: the sequence stays this until this transaction writes.
          this.lastSeq = r.n;
          break;
        case 1:
          c.applied.set(r.a, { userId: r.b, result: r.data });
          break;
        case 2:
          c.records.set(recordKey(r.a, r.b), {
            teamId: r.c,
            version: r.m,
            deleted: r.n as 0 | 1,
            data: r.data,
          });
          break;
        case 3:
          patients.get(r.a)?.push(r.b);
          break;
        case 4:
          encounters.get(r.a)?.push(r.b);
          break;
      }
    }
    c.reportsOf = { patients, encounters };
  }
  async getApplied(deviceId: string, mutationId: string) {
    const c = this.cache;
    if (c && c.deviceId === deviceId && c.applied.has(mutationId)) {
      return c.applied.get(mutationId) ?? undefined;
    }
    return this.first<{ userId: string; result: string }>('getApplied', [deviceId, mutationId]);
  }
  async insertApplied(
    deviceId: string,
    mutationId: string,
    userId: string,
    result: string,
    at: number,
  ) {
    const c = this.cache;
    if (!c) return this.exec('insertApplied', [deviceId, mutationId, userId, result, at]);
    // Held back, but the lock is taken now: the write is made under it, whenever it is sent.
    await this.holdLock();
    if (c.deviceId === deviceId) c.applied.set(mutationId, { userId, result });
    c.pendingApplied.push([deviceId, mutationId, userId, result, at]);
  }
  async getRecord(table: SyncTable, id: string) {
    const c = this.cache;
    const key = recordKey(table, id);
    if (c?.records.has(key)) return c.records.get(key) ?? undefined;
    const row = await this.first<CurrentRow>('getRecord', [table, id]);
    c?.records.set(key, row ?? null);
    return row;
  }
  async getHistoryData(table: SyncTable, id: string, version: number) {
    const held = this.cache?.pendingRecords ?? [];
    for (let i = held.length - 1; i >= 0; i--) {
      const r = held[i]!;
      if (r.table === table && r.id === id && r.version === version) return r.data;
    }
    return (await this.first<{ data: string }>('getHistoryData', [table, id, version]))?.data;
  }
  async latestAppliedAsSent(table: SyncTable, id: string, deviceId: string) {
    return (await this.first<{ v: number | null }>('latestAppliedAsSent', [table, id, deviceId]))!
      .v;
  }
  async maxSeq() {
    // Inside a transaction this one holds SYNC_WRITE_LOCK: nobody else writes records until it
    // commits, so after one read the sequence is what this transaction wrote last.
    if (this.client && this.lastSeq !== undefined) return this.lastSeq;
    const seq = Number((await this.first<{ seq: number }>('maxSeq', []))!.seq);
    if (this.client) this.lastSeq = seq;
    return seq;
  }
  async writeRecord(r: RecordWrite) {
    const c = this.cache;
    if (c) {
      await this.holdLock();
      c.records.set(recordKey(r.table, r.id), {
        teamId: r.teamId,
        version: r.version,
        deleted: r.deleted,
        data: r.data,
      });
      c.pendingRecords.push(r);
      this.lastSeq = Math.max(this.lastSeq ?? 0, r.seq);
      if (c.pendingRecords.length >= FLUSH_AT) await this.flush();
      return;
    }
    await this.exec('writeRecord', [
      r.seq,
      r.table,
      r.id,
      r.teamId,
      r.version,
      r.deleted === 1,
      r.at,
      r.by,
      r.data,
      r.deviceId,
      r.mutationId,
    ]);
    if (this.client) this.lastSeq = Math.max(this.lastSeq ?? 0, r.seq);
  }
  getConflict(id: string) {
    return this.first<{ tableName: string; recordId: string }>('getConflict', [id]);
  }
  async insertConflict(row: ConflictRow) {
    await this.before('insertConflict');
    await this.orm.insert(schema.conflicts).values(row);
  }
  async resolveConflict(id: string, at: number, mutationId: string) {
    await this.before('resolveConflict');
    await this.orm
      .update(schema.conflicts)
      .set({ status: 'resolved', resolvedAt: new Date(at), resolvedByMutation: mutationId })
      .where(and(eq(schema.conflicts.id, id), eq(schema.conflicts.status, 'open')));
  }
  async insertAudit(e: AuditEntry) {
    await this.before('insertAudit');
    await this.orm.insert(schema.auditLog).values({
      at: new Date(e.at),
      userId: e.userId,
      action: e.action,
      target: e.target,
      ip: e.ip,
      detail: e.detail,
    });
  }
  async notePush(deviceId: string, at: number) {
    // Held back in a transaction: sent with the last flushWrites, one round trip fewer.
    if (this.cache) this.cache.pendingPush = [at, deviceId];
    else await this.exec('notePush', [at, deviceId]);
  }

  async getDevice(id: string): Promise<DeviceRow | undefined> {
    let row = await this.first<RawDevice>('getDevice', [id]);
    if (!row && this.client) {
      // A first contact (touchDevice registers the device). Two instances reached at once by a
      // new device would both insert it and one fail on the primary key, now that the contact
      // comes before SYNC_WRITE_LOCK (BEFORE_LOCK): first contacts of one device id take turns,
      // and the later one reads the row the earlier one committed.
      await this.exec('lockDeviceId', [`devices\n${id}`]);
      row = await this.first<RawDevice>('getDevice', [id]);
    }
    if (!row) return undefined;
    return {
      ...row,
      createdAt: new Date(row.createdAt),
      lastSeenAt: new Date(row.lastSeenAt),
      lastPushAt: dateOrNull(row.lastPushAt),
      lastSyncAt: dateOrNull(row.lastSyncAt),
      revokedAt: dateOrNull(row.revokedAt),
    };
  }
  async insertDevice(row: DeviceRow) {
    await this.before('insertDevice');
    await this.orm.insert(schema.devices).values(row);
    if (this.client) this.deviceRowLocked = row.id;
  }
  async bindSession(sessionId: string, deviceId: string) {
    if (!this.client) return this.exec('bindSession', [sessionId, deviceId]);
    // Held back until the next statement: noteSync usually, which sends it along.
    await this.sendBind();
    this.pendingBind = [sessionId, deviceId];
  }
  async userDisabledAt(userId: string) {
    await this.before('userDisabledAt');
    const [row] = await this.orm
      .select({ disabledAt: schema.users.disabledAt })
      .from(schema.users)
      .where(eq(schema.users.id, userId));
    return row;
  }
  async noteSync(deviceId: string, at: Date, userAgent: string | null) {
    const bind = this.pendingBind;
    if (bind?.[1] === deviceId) {
      this.pendingBind = null;
      await this.exec('noteSyncBinding', [at.getTime(), userAgent, deviceId, bind[0]]);
    } else {
      await this.exec('noteSync', [at.getTime(), userAgent, deviceId]);
    }
    if (this.client) this.deviceRowLocked = deviceId;
  }

  async cursorKnown(
    cursor: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ) {
    return (await this.first('cursorKnown', [cursor, clinical, supervisedOnly])) !== undefined;
  }
  async lastChangeInScope(
    atOrBelow: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ) {
    const found = await this.first<{ seq: number }>('lastChangeInScope', [
      atOrBelow,
      clinical,
      supervisedOnly,
    ]);
    return Number(found!.seq);
  }
  async countChanges(
    after: number,
    clinical: readonly string[],
    supervisedOnly: readonly string[],
  ) {
    return (await this.first<{ n: number }>('countChanges', [after, clinical, supervisedOnly]))!.n;
  }
  async scanChanges(q: PageQuery, visit: (row: PageRow) => boolean) {
    // Keyset chunks of SCAN_CHUNK rows instead of one result of up to q.limit rows.
    let after = q.cursor;
    let left = q.limit;
    while (left > 0) {
      const chunk = Math.min(SCAN_CHUNK, left);
      const rows = await this.rows<PageRow>('pullPage', SQL.pullPage, [
        q.acked,
        q.deviceId,
        after,
        q.clinical,
        q.supervisedOnly,
        chunk,
      ]);
      for (const row of rows) {
        if (!visit(row)) return;
      }
      if (rows.length < chunk) return;
      left -= rows.length;
      after = rows[rows.length - 1]!.seq;
    }
  }
  notePull(deviceId: string, cursor: number, scope: string[] | null) {
    return scope
      ? this.exec('notePullScope', [cursor, deviceId, JSON.stringify(scope)])
      : this.exec('notePull', [cursor, deviceId]);
  }
  async openConflicts(teams: readonly string[], limit: number) {
    const c = schema.conflicts;
    const rows = await this.orm
      .select()
      .from(c)
      .where(and(inArray(c.teamId, [...teams]), eq(c.status, 'open')))
      .orderBy(asc(c.createdAt), asc(c.id))
      .limit(limit);
    return rows as ConflictRow[];
  }

  async userName(userId: string) {
    return (await this.first<{ name: string }>('userName', [userId]))?.name;
  }
  async firstWriteAt(table: SyncTable, id: string) {
    return (await this.first<{ at: number }>('firstWriteAt', [table, id]))?.at;
  }
  getIndexed(reportId: string) {
    return this.first<IndexedRow>('getIndexed', [reportId]);
  }
  addCount(k: CountKey, n: number) {
    return this.exec('addCount', [k.teamId, k.state, k.disagreement, k.positive, k.models, n]);
  }
  setReviewState(
    reportId: string,
    state: ReviewState,
    reviewedAt: number | null,
    everReturned: number,
  ) {
    return this.exec('setReviewState', [reportId, state, reviewedAt, everReturned]);
  }
  upsertIndexed(r: Parameters<SyncRepository['upsertIndexed']>[0]) {
    if (this.cache) this.cache.reportsOf = null;
    return this.exec('upsertIndexed', [
      r.reportId,
      r.teamId,
      r.patientId,
      r.encounterId,
      r.clinicianId,
      r.patientName,
      r.sex,
      r.birthDate,
      r.village,
      r.villageKey,
      r.revision,
      r.state,
      r.sharedAt,
      r.firstSharedAt,
      r.reviewedAt,
      r.everReturned,
      r.positive,
      r.abnormal,
      r.disagreement,
      r.priority,
      r.rank,
      r.models,
    ]);
  }
  deleteIndexed(reportId: string) {
    if (this.cache) this.cache.reportsOf = null;
    return this.exec('deleteIndexed', [reportId]);
  }
  deleteDiagnoses(reportId: string) {
    return this.exec('deleteDiagnoses', [reportId]);
  }
  insertDiagnosis(r: Parameters<SyncRepository['insertDiagnosis']>[0]) {
    return this.exec('insertDiagnosis', [
      r.reportId,
      r.diagnosisId,
      r.teamId,
      r.modelId,
      r.modelVersion,
      r.modelName,
      r.positive,
      r.assessment,
      r.imageSha256,
      r.ranAt,
    ]);
  }
  latestReview(reportId: string, revision: number) {
    return this.first<{ decision: 'approved' | 'returned'; at: number }>('latestReview', [
      reportId,
      revision,
    ]);
  }
  async everReturned(reportId: string) {
    return (await this.first<{ n: number }>('everReturned', [reportId]))!.n;
  }
  async reportsOfPatient(patientId: string) {
    const cached = this.cache?.reportsOf?.patients.get(patientId);
    if (cached) return [...cached];
    return (
      await this.rows<{ id: string }>('reportsOfPatient', SQL.reportsOfPatient, [patientId])
    ).map((r) => r.id);
  }
  async reportsOfEncounter(encounterId: string) {
    const cached = this.cache?.reportsOf?.encounters.get(encounterId);
    if (cached) return [...cached];
    return (
      await this.rows<{ id: string }>('reportsOfEncounter', SQL.reportsOfEncounter, [encounterId])
    ).map((r) => r.id);
  }
  async sharedReportOfPatient(patientId: string, teamId: string) {
    return (await this.first<{ found: boolean }>('sharedReportOfPatient', [patientId, teamId]))!
      .found;
  }
  insertEvent(r: Parameters<SyncRepository['insertEvent']>[0]) {
    return this.exec('insertEvent', [
      r.reviewId,
      r.reportId,
      r.teamId,
      r.revision,
      r.decision,
      r.authorId,
      r.at,
      r.revisionSharedAt,
      r.snapshot,
    ]);
  }
  insertVerdict(r: Parameters<SyncRepository['insertVerdict']>[0]) {
    return this.exec('insertVerdict', [
      r.reviewId,
      r.diagnosisId,
      r.reportId,
      r.teamId,
      r.modelId,
      r.modelVersion,
      r.modelPositive,
      r.verdict,
      r.referenceOutcome,
      r.at,
    ]);
  }
  upsertVerdict(r: Parameters<SyncRepository['upsertVerdict']>[0]) {
    return this.exec('upsertVerdict', [
      r.diagnosisId,
      r.teamId,
      r.modelId,
      r.modelVersion,
      r.modelPositive,
      r.verdict,
      r.at,
    ]);
  }
  async countActivity(
    counter: Parameters<SyncRepository['countActivity']>[0],
    teamId: string,
    userId: string,
    week: number,
  ) {
    await this.rows(`countActivity_${counter}`, SQL.countActivity(counter), [teamId, userId, week]);
  }
  getRun(diagnosisId: string) {
    return this.first<{ week: number; assessment: string | null }>('getRun', [diagnosisId]);
  }
  insertRun(r: Parameters<SyncRepository['insertRun']>[0]) {
    return this.exec('insertRun', [
      r.diagnosisId,
      r.teamId,
      r.modelId,
      r.modelVersion,
      r.week,
      r.positive,
      r.assessment,
    ]);
  }
  setRunAssessment(diagnosisId: string, assessment: string | null) {
    return this.exec('setRunAssessment', [diagnosisId, assessment]);
  }
  addWeekly(d: Parameters<SyncRepository['addWeekly']>[0]) {
    return this.exec('addWeekly', [
      d.teamId,
      d.modelId,
      d.modelVersion,
      d.week,
      d.modelName,
      d.runs,
      d.positives,
      d.assessed,
      d.agreed,
    ]);
  }
  insertRef(table: SyncTable, id: string, reportId: string) {
    return this.exec('insertRef', [table, id, reportId]);
  }
  async revisionSharedAt(reportId: string, revision: number) {
    return (
      (await this.first<{ at: number | null }>('revisionSharedAt', [reportId, revision]))?.at ??
      undefined
    );
  }
}

/** The sync repository of a PostgreSQL pool (db/postgres.ts openPostgres). */
export function postgresSyncRepository(pool: pg.Pool): SyncRepository {
  return new PgSyncRepository(pool, null);
}
