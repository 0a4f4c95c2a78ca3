import type Database from 'better-sqlite3';
import type { Db } from '../../db/connection';
import type {
  ClinicianDevice,
  ClinicianWeek,
  ExportCursor,
  ExportRow,
  LatestVerdict,
  ModelWeek,
  RecordText,
  ReviewReportsRepository,
  TeamClinician,
  TeamName,
  VerdictCount,
} from '../review-reports.repository';
import type { ParsedFilters } from '../review-queue.repository';
import { whereOf } from './review-filter';
import type { SqliteRunner } from './runner';

/*
 * Hand-written SQL on the driver, as the dashboard and the exports ran before issue 17: each
 * statement is prepared once per connection and text (per count of teams and per combination of
 * filters), then reused, and an export page's records and verdicts are read with single-row
 * statements (cheap on an embedded database: no round trip).
 */

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

function prepared(db: Db, sql: string): Database.Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) {
    // drizzle() returns the database with its driver as $client; the Db type leaves it out.
    s = (db as Db & { $client: Database.Database }).$client.prepare(sql);
    m.set(sql, s);
  }
  return s;
}

const inList = (col: string, n: number) =>
  n === 1 ? `${col} = ?` : `${col} IN (${Array.from({ length: n }, () => '?').join(', ')})`;

const EXPORT_COLUMNS = `r.report_id AS reportId, r.team_id AS teamId, t.name AS teamName,
  r.patient_id AS patientId, r.patient_name AS patientName, r.sex, r.birth_date AS birthDate,
  r.village, r.clinician_id AS clinicianId, u.name AS clinicianName, r.revision, r.state,
  r.shared_at AS sharedAt, r.first_shared_at AS firstSharedAt, r.reviewed_at AS reviewedAt,
  r.positive, r.abnormal, r.disagreement, r.priority`;
const EXPORT_FROM = `review_reports r LEFT JOIN teams t ON t.id = r.team_id
  LEFT JOIN users u ON u.id = r.clinician_id`;

export class SqliteReviewReportsRepository implements ReviewReportsRepository {
  constructor(private readonly r: SqliteRunner) {}

  private all<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.r.run(() => prepared(this.r.db, sql).all(...params) as T[]);
  }

  private pluck<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.r.run(() => {
      const s = prepared(this.r.db, sql);
      try {
        return s.pluck(true).all(...params) as T[];
      } finally {
        s.pluck(false);
      }
    });
  }

  teamNames(teamIds: readonly string[]) {
    return this.all<TeamName>(
      `SELECT id, name FROM teams WHERE ${inList('id', teamIds.length)} ORDER BY name, id`,
      teamIds,
    );
  }

  clinicianWeeks(teamIds: readonly string[], firstWeek: number, lastWeek: number) {
    return this.all<ClinicianWeek>(
      `SELECT team_id AS teamId, user_id AS clinicianId, week, encounters, shared AS n, returned
       FROM clinician_activity WHERE ${inList('team_id', teamIds.length)} AND week >= ? AND week <= ?
       ORDER BY week, team_id, user_id`,
      [...teamIds, firstWeek, lastWeek],
    );
  }

  awaitingSharedAt(teamIds: readonly string[]) {
    return this.pluck<number>(
      `SELECT shared_at FROM review_reports
       WHERE ${inList('team_id', teamIds.length)} AND state = 'awaiting'`,
      teamIds,
    );
  }

  shareToReviewMs(teamIds: readonly string[], start: number, end: number) {
    return this.pluck<number>(
      `SELECT at - revision_shared_at FROM review_events
       WHERE ${inList('team_id', teamIds.length)} AND at >= ? AND at < ? AND first_of_revision = 1`,
      [...teamIds, start, end],
    );
  }

  clinicians(teamIds: readonly string[]) {
    return this.all<TeamClinician>(
      `SELECT u.id, u.name, m.team_id AS teamId FROM team_memberships m JOIN users u ON u.id = m.user_id
       WHERE m.role = 'clinician' AND ${inList('m.team_id', teamIds.length)}
       ORDER BY u.name, u.id, m.team_id`,
      teamIds,
    );
  }

  clinicianDevices(teamIds: readonly string[]) {
    return this.all<ClinicianDevice>(
      `SELECT d.id AS deviceId, d.user_id AS userId, u.name AS userName, m.team_id AS teamId,
         d.last_push_at AS lastPushAt
       FROM devices d JOIN users u ON u.id = d.user_id
       JOIN team_memberships m ON m.user_id = d.user_id AND m.role = 'clinician'
       WHERE ${inList('m.team_id', teamIds.length)}
       ORDER BY d.last_push_at IS NOT NULL, d.last_push_at, d.id, m.team_id`,
      teamIds,
    );
  }

  modelWeeks(teamIds: readonly string[], firstWeek: number, lastWeek: number) {
    return this.all<ModelWeek>(
      `SELECT model_id AS modelId, model_version AS modelVersion, max(model_name) AS modelName,
         week, sum(runs) AS n, sum(positives) AS positives, sum(assessed) AS assessed,
         sum(agreed) AS agreed
       FROM model_weekly WHERE ${inList('team_id', teamIds.length)} AND week >= ? AND week <= ?
       GROUP BY model_id, model_version, week HAVING sum(runs) > 0
       ORDER BY model_id, model_version, week`,
      [...teamIds, firstWeek, lastWeek],
    );
  }

  verdictCounts(teamIds: readonly string[], start: number, end: number) {
    return this.all<VerdictCount>(
      `SELECT model_id AS modelId, model_version AS modelVersion, model_positive AS modelPositive,
         verdict, count(*) AS n
       FROM verdict_latest WHERE ${inList('team_id', teamIds.length)} AND at >= ? AND at < ?
       GROUP BY model_id, model_version, model_positive, verdict
       ORDER BY model_id, model_version, model_positive, verdict`,
      [...teamIds, start, end],
    );
  }

  exportPage(teamId: string, filters: ParsedFilters, after: ExportCursor | null, limit: number) {
    // The queue's filters, state included (review-filter.ts).
    const filter = whereOf([teamId], filters, true);
    const where = [filter.sql];
    const values: unknown[] = [...filter.params];
    // Along the (team_id, shared_at, report_id) index.
    if (after) {
      where.push('(r.shared_at > ? OR (r.shared_at = ? AND r.report_id > ?))');
      values.push(after.sharedAt, after.sharedAt, after.reportId);
    }
    values.push(limit);
    return this.all<ExportRow>(
      `SELECT ${EXPORT_COLUMNS} FROM ${EXPORT_FROM} WHERE ${where.join(' AND ')}
       ORDER BY r.shared_at, r.report_id LIMIT ?`,
      values,
    );
  }

  liveRecords(refs: readonly { table: string; id: string }[]) {
    return this.r.run(() => {
      const get = prepared(
        this.r.db,
        'SELECT data FROM records WHERE table_name = ? AND id = ? AND deleted = 0',
      );
      const out: RecordText[] = [];
      const seen = new Set<string>();
      for (const { table, id } of refs) {
        const key = `${table}/${id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const row = get.get(table, id) as { data: string } | undefined;
        if (row) out.push({ table, id, data: row.data });
      }
      return out;
    });
  }

  latestVerdicts(diagnosisIds: readonly string[]) {
    return this.r.run(() => {
      const get = prepared(
        this.r.db,
        `SELECT verdict, reference_outcome AS referenceOutcome FROM review_verdicts
         WHERE diagnosis_id = ? ORDER BY at DESC, review_id DESC LIMIT 1`,
      );
      const out: LatestVerdict[] = [];
      for (const diagnosisId of new Set(diagnosisIds)) {
        const v = get.get(diagnosisId) as Omit<LatestVerdict, 'diagnosisId'> | undefined;
        if (v) out.push({ diagnosisId, ...v });
      }
      return out;
    });
  }
}
