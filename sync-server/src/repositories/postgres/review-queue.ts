import { sql, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
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

/*
 * The same statements as sqlite/review-queue.ts, meaning the same on PostgreSQL:
 * - Text that orders rows or bounds a page (report ids, names) is compared with COLLATE "C": byte
 *   order, as SQLite compares, whatever the database's locale (an en_US database would put "B"
 *   after "a" and ignore hyphens, and a cursor taken on one order would skip or repeat rows on the
 *   other). The indexes are on the column's own collation, so the ORDER BY keeps its index walk
 *   only where that collation is "C" already; the page boundary is written so that its leading
 *   columns stay index conditions (see `afterKey`).
 * - The filters: review-filter.ts, shared with the exports.
 * - Sums cast to int (sum of integers is bigint, of bigint numeric,
 *   which node-postgres gives as a string).
 * - records.deleted is a boolean here, an integer in SQLite.
 * - Millisecond times are bigint, which drizzle's execute() returns as strings (it reads with
 *   node-postgres' default type parsers, not the pool's): made numbers here (exact below 2^53).
 */

const REVIEW_STATES = ['awaiting', 'approved', 'returned'] as const;

const list = (values: readonly unknown[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

const QUEUE_COLUMNS = sql.raw(`r.report_id AS "reportId", r.team_id AS "teamId",
  t.name AS "teamName", r.patient_id AS "patientId", r.patient_name AS "patientName", r.sex,
  r.birth_date AS "birthDate", r.village, r.clinician_id AS "clinicianId",
  u.name AS "clinicianName", r.revision, r.state, r.shared_at AS "sharedAt",
  r.first_shared_at AS "firstSharedAt", r.reviewed_at AS "reviewedAt", r.positive, r.abnormal,
  r.disagreement, r.priority, r.rank`);
const QUEUE_FROM = sql.raw(`review_reports r LEFT JOIN teams t ON t.id = r.team_id
  LEFT JOIN users u ON u.id = r.clinician_id`);

const ORDER: Record<QueueSort, SQL> = {
  age: sql.raw(`r.shared_at, r.report_id COLLATE "C"`),
  priority: sql.raw(`r.rank, r.shared_at, r.report_id COLLATE "C"`),
};

/**
 * Rows after the key in `sort` order: the same rows as SQLite's `a > ? OR (a = ? AND …)`, but led
 * by `a >= ?` (a row comparison for two columns), which PostgreSQL uses as an index condition (it
 * does not split an OR), so that a deep page starts at its key instead of filtering every earlier
 * row of the team. The report id is compared outside the index (COLLATE "C"), among equal keys.
 */
function afterKey(sort: QueueSort, k: QueueKey): SQL {
  const id = sql`r.report_id COLLATE "C" > ${k.reportId}`;
  if (sort === 'age') {
    return sql`r.shared_at >= ${k.sharedAt} AND (r.shared_at > ${k.sharedAt} OR ${id})`;
  }
  const key = sql`(${k.rank}::int, ${k.sharedAt}::bigint)`;
  return sql`(r.rank, r.shared_at) >= ${key} AND ((r.rank, r.shared_at) > ${key} OR ${id})`;
}

type Bigints<T, K extends keyof T> = Omit<T, K> & { [P in K]: string | Extract<T[P], null> };

const queueRow = (r: Bigints<QueueRow, 'sharedAt' | 'firstSharedAt' | 'reviewedAt'>): QueueRow => ({
  ...r,
  sharedAt: Number(r.sharedAt),
  firstSharedAt: Number(r.firstSharedAt),
  reviewedAt: r.reviewedAt === null ? null : Number(r.reviewedAt),
});

export class PgReviewQueueRepository implements ReviewQueueRepository {
  constructor(private readonly db: PgDbOrTx) {}

  private async rows<T>(query: SQL): Promise<T[]> {
    const result = await this.db.execute(query);
    return result.rows as T[];
  }

  async page(
    teamId: string,
    filters: ParsedFilters,
    sort: QueueSort,
    after: QueueKey | null,
    limit: number,
  ) {
    const where = whereOf([teamId], filters, true);
    const rows = await this.rows<Parameters<typeof queueRow>[0]>(
      sql`SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM}
        WHERE ${where}${after ? sql` AND ${afterKey(sort, after)}` : sql``}
        ORDER BY ${ORDER[sort]} LIMIT ${limit}`,
    );
    return rows.map(queueRow);
  }

  /** As on SQLite: from review_counts unless a filter is not one of its columns. */
  async stateCounts(teams: readonly string[], f: ParsedFilters) {
    const where = whereOf(teams, f, false);
    const fromCounters = !f.clinicianId && !f.village && !f.from && !f.to;
    const [table, value] = fromCounters ? ['review_counts', 'r.n'] : ['review_reports', '1'];
    const sums = REVIEW_STATES.map(
      (st) => `coalesce(sum(${value}) FILTER (WHERE r.state = '${st}'), 0)::int AS "${st}"`,
    );
    const [row] = await this.rows<StateCounts>(
      sql`SELECT ${sql.raw(sums.join(', '))} FROM ${sql.raw(table)} r WHERE ${where}`,
    );
    return row!;
  }

  diagnosesOf(reportIds: readonly string[]) {
    if (reportIds.length === 0) return Promise.resolve([]);
    return this.rows<QueueDiagnosisRow>(
      sql`SELECT report_id AS "reportId", diagnosis_id AS "diagnosisId", model_id AS "modelId",
        model_version AS "modelVersion", positive = 1 AS positive, assessment
      FROM review_diagnoses WHERE report_id IN (${list(reportIds)})
      ORDER BY report_id COLLATE "C", diagnosis_id COLLATE "C"`,
    );
  }

  teamsByName(teamIds: readonly string[]) {
    if (teamIds.length === 0) return Promise.resolve([]);
    return this.rows<{ id: string; name: string }>(
      sql`SELECT id, name FROM teams WHERE id IN (${list(teamIds)}) ORDER BY name COLLATE "C"`,
    );
  }

  cliniciansOf(teamIds: readonly string[]) {
    if (teamIds.length === 0) return Promise.resolve([]);
    return this.rows<{ teamId: string; id: string; name: string }>(
      sql`SELECT m.team_id AS "teamId", u.id, u.name
        FROM team_memberships m JOIN users u ON u.id = m.user_id
        WHERE m.role = 'clinician' AND m.team_id IN (${list(teamIds)})
        ORDER BY u.name COLLATE "C"`,
    );
  }

  async queueRow(reportId: string) {
    const [row] = await this.rows<Parameters<typeof queueRow>[0]>(
      sql`SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM} WHERE r.report_id = ${reportId}`,
    );
    return row && queueRow(row);
  }

  async record(table: SyncTable, id: string) {
    const [row] = await this.rows<StoredRecord>(
      sql`SELECT team_id AS "teamId", deleted, data FROM records
        WHERE table_name = ${table} AND id = ${id}`,
    );
    return row;
  }

  async refs(reportId: string, table: 'comments' | 'followups') {
    const rows = await this.rows<{ data: string }>(
      sql`SELECT rec.data FROM review_refs f JOIN records rec
          ON rec.table_name = f.table_name AND rec.id = f.id
        WHERE f.report_id = ${reportId} AND f.table_name = ${table} AND NOT rec.deleted
        ORDER BY rec.seq`,
    );
    return rows.map((r) => r.data);
  }

  async events(reportId: string) {
    const rows = await this.rows<Bigints<ReviewEventRow, 'at'>>(
      sql`SELECT e.review_id AS id, e.revision, e.decision, e.at, e.snapshot, rec.data
        FROM review_events e JOIN records rec ON rec.table_name = 'reviews' AND rec.id = e.review_id
        WHERE e.report_id = ${reportId} ORDER BY e.at, e.review_id COLLATE "C"`,
    );
    return rows.map((e): ReviewEventRow => ({ ...e, at: Number(e.at) }));
  }

  async blobMime(sha256: string) {
    const [row] = await this.rows<{ mime: string }>(
      sql`SELECT mime FROM blobs WHERE sha256 = ${sha256}`,
    );
    return row?.mime ?? null;
  }
}
