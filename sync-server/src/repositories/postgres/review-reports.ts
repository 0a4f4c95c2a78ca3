import { sql, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import type {
  ExportCursor,
  ExportRow,
  ReviewReportsRepository,
} from '../review-reports.repository';
import type { ParsedFilters } from '../review-queue.repository';
import { whereOf } from './review-filter';

/*
 * The same SQL as sqlite/review-reports.ts, meaning the same thing on PostgreSQL:
 * - numbers: drizzle's execute() reads int8 (bigint times, count(*), sum() of bigint is numeric)
 *   as strings, so sums are cast to bigint in SQL and every number is converted with Number();
 * - text order: SQLite compares bytes, so ORDER BY and the keyset comparison use COLLATE "C"
 *   (the export's pages depend on it: a locale order would skip or repeat reports);
 * - NULLs: SQLite sorts them first ascending, PostgreSQL last, so NULLS FIRST is written out.
 */

const anyOf = (teamIds: readonly string[]) => sql`ANY(${sql.param([...teamIds])}::text[])`;

type Row = Record<string, unknown>;

const num = (v: unknown) => Number(v);
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export class PgReviewReportsRepository implements ReviewReportsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  private async rows(query: SQL): Promise<Row[]> {
    const result = await this.db.execute<Row>(query);
    return result.rows;
  }

  async teamNames(teamIds: readonly string[]) {
    const rows = await this.rows(sql`SELECT id, name FROM teams WHERE id = ${anyOf(teamIds)}
      ORDER BY name COLLATE "C", id COLLATE "C"`);
    return rows.map((r) => ({ id: r.id as string, name: r.name as string }));
  }

  async clinicianWeeks(teamIds: readonly string[], firstWeek: number, lastWeek: number) {
    const rows = await this.rows(sql`SELECT team_id, user_id, week, encounters, shared, returned
      FROM clinician_activity
      WHERE team_id = ${anyOf(teamIds)} AND week >= ${firstWeek} AND week <= ${lastWeek}
      ORDER BY week, team_id COLLATE "C", user_id COLLATE "C"`);
    return rows.map((r) => ({
      teamId: r.team_id as string,
      clinicianId: r.user_id as string,
      week: num(r.week),
      encounters: num(r.encounters),
      n: num(r.shared),
      returned: num(r.returned),
    }));
  }

  async awaitingSharedAt(teamIds: readonly string[]) {
    const rows = await this.rows(sql`SELECT shared_at FROM review_reports
      WHERE team_id = ${anyOf(teamIds)} AND state = 'awaiting'`);
    return rows.map((r) => num(r.shared_at));
  }

  async shareToReviewMs(teamIds: readonly string[], start: number, end: number) {
    const rows = await this.rows(sql`SELECT at - revision_shared_at AS ms FROM review_events
      WHERE team_id = ${anyOf(teamIds)} AND at >= ${start} AND at < ${end}
        AND first_of_revision = 1`);
    return rows.map((r) => num(r.ms));
  }

  async clinicians(teamIds: readonly string[]) {
    const rows = await this.rows(sql`SELECT u.id, u.name, m.team_id
      FROM team_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.role = 'clinician' AND m.team_id = ${anyOf(teamIds)}
      ORDER BY u.name COLLATE "C", u.id COLLATE "C", m.team_id COLLATE "C"`);
    return rows.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      teamId: r.team_id as string,
    }));
  }

  async clinicianDevices(teamIds: readonly string[]) {
    const rows = await this.rows(sql`SELECT d.id, d.user_id, u.name, m.team_id, d.last_push_at
      FROM devices d JOIN users u ON u.id = d.user_id
      JOIN team_memberships m ON m.user_id = d.user_id AND m.role = 'clinician'
      WHERE m.team_id = ${anyOf(teamIds)}
      ORDER BY d.last_push_at NULLS FIRST, d.id COLLATE "C", m.team_id COLLATE "C"`);
    return rows.map((r) => ({
      deviceId: r.id as string,
      userId: r.user_id as string,
      userName: r.name as string,
      teamId: r.team_id as string,
      lastPushAt: numOrNull(r.last_push_at),
    }));
  }

  async modelWeeks(teamIds: readonly string[], firstWeek: number, lastWeek: number) {
    const rows = await this.rows(sql`SELECT model_id, model_version,
        max(model_name COLLATE "C") AS model_name, week,
        sum(runs)::bigint AS n, sum(positives)::bigint AS positives,
        sum(assessed)::bigint AS assessed, sum(agreed)::bigint AS agreed
      FROM model_weekly
      WHERE team_id = ${anyOf(teamIds)} AND week >= ${firstWeek} AND week <= ${lastWeek}
      GROUP BY model_id, model_version, week HAVING sum(runs) > 0
      ORDER BY model_id COLLATE "C", model_version COLLATE "C", week`);
    return rows.map((r) => ({
      modelId: r.model_id as string,
      modelVersion: r.model_version as string,
      modelName: r.model_name as string,
      week: num(r.week),
      n: num(r.n),
      positives: num(r.positives),
      assessed: num(r.assessed),
      agreed: num(r.agreed),
    }));
  }

  async verdictCounts(teamIds: readonly string[], start: number, end: number) {
    const rows = await this.rows(sql`SELECT model_id, model_version, model_positive, verdict,
        count(*)::bigint AS n
      FROM verdict_latest WHERE team_id = ${anyOf(teamIds)} AND at >= ${start} AND at < ${end}
      GROUP BY model_id, model_version, model_positive, verdict
      ORDER BY model_id COLLATE "C", model_version COLLATE "C", model_positive,
        verdict COLLATE "C"`);
    return rows.map((r) => ({
      modelId: r.model_id as string,
      modelVersion: r.model_version as string,
      modelPositive: num(r.model_positive),
      verdict: r.verdict as 'right' | 'wrong' | 'cant_tell',
      n: num(r.n),
    }));
  }

  async exportPage(teamId: string, f: ParsedFilters, after: ExportCursor | null, limit: number) {
    // The queue's filters, state included (review-filter.ts).
    const where: SQL[] = [whereOf([teamId], f, true)];
    if (after) {
      // The >= lets the (team_id, shared_at, …) index start at the cursor's time.
      where.push(sql`r.shared_at >= ${after.sharedAt}
        AND (r.shared_at > ${after.sharedAt} OR r.report_id COLLATE "C" > ${after.reportId})`);
    }
    const rows = await this.rows(sql`SELECT r.report_id, r.team_id, t.name AS team_name,
        r.patient_id, r.patient_name, r.sex, r.birth_date, r.village, r.clinician_id,
        u.name AS clinician_name, r.revision, r.state, r.shared_at, r.first_shared_at,
        r.reviewed_at, r.positive, r.abnormal, r.disagreement, r.priority
      FROM review_reports r LEFT JOIN teams t ON t.id = r.team_id
      LEFT JOIN users u ON u.id = r.clinician_id
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY r.shared_at, r.report_id COLLATE "C" LIMIT ${limit}`);
    return rows.map((r): ExportRow => ({
      reportId: r.report_id as string,
      teamId: r.team_id as string,
      teamName: (r.team_name as string | null) ?? null,
      patientId: r.patient_id as string,
      patientName: r.patient_name as string,
      sex: r.sex as string,
      birthDate: (r.birth_date as string | null) ?? null,
      village: r.village as string,
      clinicianId: r.clinician_id as string,
      clinicianName: (r.clinician_name as string | null) ?? null,
      revision: num(r.revision),
      state: r.state as string,
      sharedAt: num(r.shared_at),
      firstSharedAt: num(r.first_shared_at),
      reviewedAt: numOrNull(r.reviewed_at),
      positive: num(r.positive),
      abnormal: num(r.abnormal),
      disagreement: num(r.disagreement),
      priority: num(r.priority),
    }));
  }

  async liveRecords(refs: readonly { table: string; id: string }[]) {
    if (refs.length === 0) return [];
    // One round trip for the whole page, along the (table_name, id) unique index.
    const rows = await this.rows(sql`SELECT r.table_name, r.id, r.data
      FROM unnest(${sql.param(refs.map((k) => k.table))}::text[],
                  ${sql.param(refs.map((k) => k.id))}::text[]) AS k(t, i)
      JOIN records r ON r.table_name = k.t AND r.id = k.i
      WHERE NOT r.deleted`);
    // A pair asked for twice comes back twice from the join; once is enough.
    const seen = new Set<string>();
    const out: { table: string; id: string; data: string }[] = [];
    for (const r of rows) {
      const key = `${r.table_name as string}/${r.id as string}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ table: r.table_name as string, id: r.id as string, data: r.data as string });
    }
    return out;
  }

  async latestVerdicts(diagnosisIds: readonly string[]) {
    if (diagnosisIds.length === 0) return [];
    const rows = await this.rows(sql`SELECT DISTINCT ON (diagnosis_id) diagnosis_id, verdict,
        reference_outcome
      FROM review_verdicts WHERE diagnosis_id = ${anyOf(diagnosisIds)}
      ORDER BY diagnosis_id, at DESC, review_id COLLATE "C" DESC`);
    return rows.map((r) => ({
      diagnosisId: r.diagnosis_id as string,
      verdict: r.verdict as string,
      referenceOutcome: (r.reference_outcome as string | null) ?? null,
    }));
  }
}
