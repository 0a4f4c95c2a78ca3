import type Database from 'better-sqlite3';
import type { Db } from '../../db/connection';
import type { StateCounts, SyncTable } from '../../protocol';
import {
  type ParsedFilters,
  type QueueDiagnosisRow,
  type QueueKey,
  type QueueRow,
  type QueueSort,
  type ReviewEventRow,
  type ReviewQueueRepository,
  type StoredRecord,
} from '../review-queue.repository';
import { whereOf } from './review-filter';
import type { SqliteRunner } from './runner';

/*
 * Hand-written SQL with prepared statements, as before the repositories (the queue has a p95
 * target of 100 ms over 50,000 reports: bench/review.bench.ts): one statement per filter
 * combination, prepared once per connection and kept.
 */

const client = (db: Db) => (db as Db & { $client: Database.Database }).$client;

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();
function prepared(db: Db, sql: string): Database.Statement {
  let m = statementCache.get(db);
  if (!m) statementCache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = client(db).prepare(sql)));
  return s;
}

const REVIEW_STATES = ['awaiting', 'approved', 'returned'] as const;

const QUEUE_COLUMNS = `r.report_id AS reportId, r.team_id AS teamId, t.name AS teamName,
  r.patient_id AS patientId, r.patient_name AS patientName, r.sex, r.birth_date AS birthDate,
  r.village, r.clinician_id AS clinicianId, u.name AS clinicianName, r.revision, r.state,
  r.shared_at AS sharedAt, r.first_shared_at AS firstSharedAt, r.reviewed_at AS reviewedAt,
  r.positive, r.abnormal, r.disagreement, r.priority, r.rank`;
const QUEUE_FROM = `review_reports r LEFT JOIN teams t ON t.id = r.team_id
  LEFT JOIN users u ON u.id = r.clinician_id`;

/** Ascending on every column, so that each has an index per team (db/schema.ts). */
const ORDER: Record<QueueSort, string> = {
  age: 'r.shared_at, r.report_id',
  priority: 'r.rank, r.shared_at, r.report_id',
};

function afterKey(sort: QueueSort, k: QueueKey): { sql: string; params: unknown[] } {
  const age = '(r.shared_at > ? OR (r.shared_at = ? AND r.report_id > ?))';
  if (sort === 'age') return { sql: age, params: [k.sharedAt, k.sharedAt, k.reportId] };
  return {
    sql: `(r.rank > ? OR (r.rank = ? AND ${age}))`,
    params: [k.rank, k.rank, k.sharedAt, k.sharedAt, k.reportId],
  };
}

const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export class SqliteReviewQueueRepository implements ReviewQueueRepository {
  constructor(private readonly r: SqliteRunner) {}

  page(
    teamId: string,
    filters: ParsedFilters,
    sort: QueueSort,
    after: QueueKey | null,
    limit: number,
  ) {
    const where = whereOf([teamId], filters, true);
    const next = after ? afterKey(sort, after) : null;
    const sql =
      `SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM} WHERE ${where.sql}` +
      (next ? ` AND ${next.sql}` : '') +
      ` ORDER BY ${ORDER[sort]} LIMIT ?`;
    return this.r.run(
      () =>
        prepared(this.r.db, sql).all(...where.params, ...(next?.params ?? []), limit) as QueueRow[],
    );
  }

  /**
   * Without a clinician, village or period filter, from the counters of review_counts (every
   * other filter is one of their columns); otherwise counted in review_reports, where those
   * filters have an index.
   */
  stateCounts(teams: readonly string[], f: ParsedFilters) {
    const where = whereOf(teams, f, false);
    const fromCounters = !f.clinicianId && !f.village && !f.from && !f.to;
    // One pass with a sum per state (a GROUP BY would sort every matching report first).
    const [table, value] = fromCounters ? ['review_counts', 'r.n'] : ['review_reports', '1'];
    const sums = REVIEW_STATES.map(
      (st) => `coalesce(sum(${value}) FILTER (WHERE r.state = '${st}'), 0)`,
    );
    const sql = `SELECT ${sums.join(', ')} FROM ${table} r WHERE ${where.sql}`;
    return this.r.run(() => {
      const row = prepared(this.r.db, sql)
        .raw()
        .get(...where.params) as number[];
      return Object.fromEntries(REVIEW_STATES.map((st, i) => [st, row[i]!])) as StateCounts;
    });
  }

  diagnosesOf(reportIds: readonly string[]) {
    if (reportIds.length === 0) return Promise.resolve([]);
    const sql = `SELECT report_id AS reportId, diagnosis_id AS diagnosisId, model_id AS modelId,
       model_version AS modelVersion, positive, assessment
     FROM review_diagnoses WHERE report_id IN (${list(reportIds.length)})
     ORDER BY report_id, diagnosis_id`;
    return this.r.run(() =>
      (
        prepared(this.r.db, sql).all(...reportIds) as (Omit<QueueDiagnosisRow, 'positive'> & {
          positive: number;
        })[]
      ).map((d) => ({ ...d, positive: d.positive === 1 })),
    );
  }

  teamsByName(teamIds: readonly string[]) {
    if (teamIds.length === 0) return Promise.resolve([]);
    return this.r.run(
      () =>
        prepared(
          this.r.db,
          `SELECT id, name FROM teams WHERE id IN (${list(teamIds.length)}) ORDER BY name`,
        ).all(...teamIds) as { id: string; name: string }[],
    );
  }

  cliniciansOf(teamIds: readonly string[]) {
    if (teamIds.length === 0) return Promise.resolve([]);
    return this.r.run(
      () =>
        prepared(
          this.r.db,
          `SELECT m.team_id AS teamId, u.id, u.name FROM team_memberships m JOIN users u ON u.id = m.user_id
           WHERE m.role = 'clinician' AND m.team_id IN (${list(teamIds.length)}) ORDER BY u.name`,
        ).all(...teamIds) as { teamId: string; id: string; name: string }[],
    );
  }

  queueRow(reportId: string) {
    return this.r.run(
      () =>
        prepared(this.r.db, `SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM} WHERE r.report_id = ?`).get(
          reportId,
        ) as QueueRow | undefined,
    );
  }

  record(table: SyncTable, id: string) {
    return this.r.run((): StoredRecord | undefined => {
      const row = prepared(
        this.r.db,
        'SELECT team_id AS teamId, deleted, data FROM records WHERE table_name = ? AND id = ?',
      ).get(table, id) as { teamId: string; deleted: number; data: string } | undefined;
      return row && { teamId: row.teamId, deleted: row.deleted === 1, data: row.data };
    });
  }

  refs(reportId: string, table: 'comments' | 'followups') {
    return this.r.run(
      () =>
        prepared(
          this.r.db,
          `SELECT rec.data FROM review_refs f JOIN records rec
             ON rec.table_name = f.table_name AND rec.id = f.id
           WHERE f.report_id = ? AND f.table_name = ? AND rec.deleted = 0 ORDER BY rec.seq`,
        )
          .pluck()
          .all(reportId, table) as string[],
    );
  }

  events(reportId: string) {
    return this.r.run(
      () =>
        prepared(
          this.r.db,
          `SELECT e.review_id AS id, e.revision, e.decision, e.at, e.snapshot, rec.data
           FROM review_events e JOIN records rec ON rec.table_name = 'reviews' AND rec.id = e.review_id
           WHERE e.report_id = ? ORDER BY e.at, e.review_id`,
        ).all(reportId) as ReviewEventRow[],
    );
  }

  blobMime(sha256: string) {
    return this.r.run(
      () =>
        (prepared(this.r.db, 'SELECT mime FROM blobs WHERE sha256 = ?').pluck().get(sha256) as
          string | undefined) ?? null,
    );
  }
}
