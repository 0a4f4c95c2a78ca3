import type Database from 'better-sqlite3';
import type { Db } from '../db/connection';
import type { TxRepositories } from '../repositories';
import { ApiError, notFound } from '../errors';
import type {
  CommentRecord,
  FollowupRecord,
  QueueFilters,
  QueueItem,
  QueueModel,
  QueueResponse,
  ReportBundle,
  ReviewRecord,
  ReviewState,
  ReviewTeamsResponse,
  StateCounts,
} from '../protocol';
import type { RecordData } from './merge';
import { currentSnapshot } from './review-index';
import {
  ageYears,
  diagnosisIdsOf,
  diagnosisPositive,
  diffSnapshots,
  imageOf,
  patientName,
  str,
  type Snapshot,
} from './review-model';
import type { Scope } from './scope';
import { ageInMonths, flagVitals } from './vitals';

/*
 * The supervisor's queue and report page (issue 11): plain SQL over the read models of
 * review-index.ts, within the teams the caller reviews (supervised teams; every team for an admin).
 */

const client = (db: Db) => (db as Db & { $client: Database.Database }).$client;

/** Statements built per filter combination, prepared once each. */
const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();
function prepared(db: Db, sql: string): Database.Statement {
  let m = statementCache.get(db);
  if (!m) statementCache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = client(db).prepare(sql)));
  return s;
}

/** The teams the caller reviews, or a 403 when none (a clinician, an admin-less user). */
export async function reviewTeams(
  repos: Pick<TxRepositories, 'teams'>,
  scope: Scope,
): Promise<string[]> {
  if (scope.isAdmin) return repos.teams.allTeamIds();
  return supervisedTeams(scope);
}

/** Legacy synchronous reviewTeams (issue 17): to be removed. */
export function reviewTeamsDb(db: Db, scope: Scope): string[] {
  if (scope.isAdmin) {
    return client(db).prepare('SELECT id FROM teams ORDER BY id').pluck().all() as string[];
  }
  return supervisedTeams(scope);
}

function supervisedTeams(scope: Scope): string[] {
  const teams = [...scope.supervisorTeams].sort();
  if (teams.length === 0) {
    throw new ApiError(403, 'forbidden', 'Only supervisors and admins review reports');
  }
  return teams;
}

/** The teams the query covers: `teamId` (which must be one of the caller's) or all of them. */
function teamsFor(db: Db, scope: Scope, teamId: string | undefined): string[] {
  const teams = reviewTeamsDb(db, scope);
  if (teamId === undefined) return teams;
  if (!teams.includes(teamId)) {
    throw new ApiError(403, 'forbidden', 'You do not review this team');
  }
  return [teamId];
}

export type ParsedFilters = Omit<QueueFilters, 'disagreement'> & {
  disagreement?: 'true' | 'false';
};

const DAY_MS = 86_400_000;
const REVIEW_STATES = [
  'awaiting',
  'approved',
  'returned',
] as const satisfies readonly ReviewState[];
const dayStart = (date: string) => Date.parse(`${date}T00:00:00.000Z`);

/** WHERE clause and parameters of the filters over review_reports AS r. */
export function whereOf(
  teams: readonly string[],
  f: ParsedFilters,
  withState: boolean,
): { sql: string; params: unknown[] } {
  const terms = [
    teams.length === 1 ? 'r.team_id = ?' : `r.team_id IN (${teams.map(() => '?').join(', ')})`,
  ];
  const params: unknown[] = [...teams];
  if (withState && f.state) {
    terms.push('r.state = ?');
    params.push(f.state);
  }
  if (f.clinicianId) {
    terms.push('r.clinician_id = ?');
    params.push(f.clinicianId);
  }
  if (f.village) {
    terms.push('r.village_key = ?');
    params.push(f.village.toLowerCase());
  }
  if (f.from) {
    terms.push('r.shared_at >= ?');
    params.push(dayStart(f.from));
  }
  if (f.to) {
    terms.push('r.shared_at < ?');
    params.push(dayStart(f.to) + DAY_MS);
  }
  if (f.disagreement) {
    terms.push('r.disagreement = ?');
    params.push(f.disagreement === 'true' ? 1 : 0);
  }
  // Model and finding: a substring of review_reports.models (|<modelId>:<0|1>|...|).
  if (f.modelId) {
    terms.push('instr(r.models, ?) > 0');
    const finding = f.finding ? `${f.finding === 'positive' ? 1 : 0}|` : '';
    params.push(`|${f.modelId}:${finding}`);
  } else if (f.finding === 'positive') {
    terms.push('r.positive = 1');
  } else if (f.finding === 'negative') {
    terms.push("r.positive = 0 AND r.models <> ''");
  }
  return { sql: terms.join(' AND '), params };
}

interface QueueRow {
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
  sharedAt: number;
  firstSharedAt: number;
  reviewedAt: number | null;
  positive: number;
  abnormal: number;
  disagreement: number;
  priority: number;
  rank: number;
}

export const QUEUE_COLUMNS = `r.report_id AS reportId, r.team_id AS teamId, t.name AS teamName,
  r.patient_id AS patientId, r.patient_name AS patientName, r.sex, r.birth_date AS birthDate,
  r.village, r.clinician_id AS clinicianId, u.name AS clinicianName, r.revision, r.state,
  r.shared_at AS sharedAt, r.first_shared_at AS firstSharedAt, r.reviewed_at AS reviewedAt,
  r.positive, r.abnormal, r.disagreement, r.priority, r.rank`;
export const QUEUE_FROM = `review_reports r LEFT JOIN teams t ON t.id = r.team_id
  LEFT JOIN users u ON u.id = r.clinician_id`;

type Sort = 'age' | 'priority';

interface Cursor {
  /** rank (-priority), share time, report id of the last item. */
  r: number;
  s: number;
  id: string;
}

function encodeCursor(row: QueueRow): string {
  const c: Cursor = { r: row.rank, s: row.sharedAt, id: row.reportId };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.r === 'number' && typeof c.s === 'number' && typeof c.id === 'string') return c;
  } catch {
    // answered below
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a cursor this server gave');
}

/** Ascending on every column, so that each has an index per team (db/schema.ts). */
const ORDER: Record<Sort, string> = {
  age: 'r.shared_at, r.report_id',
  priority: 'r.rank, r.shared_at, r.report_id',
};

/** The same order in JS, to merge the teams' pages. */
const compare: Record<Sort, (a: QueueRow, b: QueueRow) => number> = {
  age: (a, b) =>
    a.sharedAt - b.sharedAt || (a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0),
  priority: (a, b) => a.rank - b.rank || compare.age(a, b),
};

function afterCursor(sort: Sort, c: Cursor): { sql: string; params: unknown[] } {
  const age = '(r.shared_at > ? OR (r.shared_at = ? AND r.report_id > ?))';
  if (sort === 'age') return { sql: age, params: [c.s, c.s, c.id] };
  return {
    sql: `(r.rank > ? OR (r.rank = ? AND ${age}))`,
    params: [c.r, c.r, c.s, c.s, c.id],
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

function diagnosesOf(db: Db, reportIds: readonly string[]): Map<string, QueueModel[]> {
  const out = new Map<string, QueueModel[]>();
  if (reportIds.length === 0) return out;
  const rows = prepared(
    db,
    `SELECT report_id AS reportId, diagnosis_id AS diagnosisId, model_id AS modelId,
       model_version AS modelVersion, positive, assessment
     FROM review_diagnoses WHERE report_id IN (${reportIds.map(() => '?').join(', ')})
     ORDER BY report_id, diagnosis_id`,
  ).all(...reportIds) as {
    reportId: string;
    diagnosisId: string;
    modelId: string;
    modelVersion: string;
    positive: number;
    assessment: QueueModel['assessment'];
  }[];
  for (const r of rows) {
    const list = out.get(r.reportId) ?? [];
    list.push({
      diagnosisId: r.diagnosisId,
      modelId: r.modelId,
      modelVersion: r.modelVersion,
      positive: r.positive === 1,
      assessment: r.assessment,
    });
    out.set(r.reportId, list);
  }
  return out;
}

export function toQueueItem(row: QueueRow, diagnoses: QueueModel[], now: Date): QueueItem {
  return {
    reportId: row.reportId,
    teamId: row.teamId,
    teamName: row.teamName ?? '',
    patientId: row.patientId,
    patientName: row.patientName,
    sex: row.sex,
    ageYears: ageYears(row.birthDate, now),
    village: row.village,
    clinicianId: row.clinicianId,
    clinicianName: row.clinicianName ?? '',
    revision: row.revision,
    state: row.state,
    sharedAt: iso(row.sharedAt),
    firstSharedAt: iso(row.firstSharedAt),
    reviewedAt: row.reviewedAt === null ? null : iso(row.reviewedAt),
    positive: row.positive === 1,
    abnormalVitals: row.abnormal === 1,
    disagreement: row.disagreement === 1,
    priority: row.priority,
    diagnoses,
  };
}

export interface QueueRequest extends ParsedFilters {
  sort: Sort;
  limit: number;
  cursor?: string;
}

/**
 * The reports per state that match the filters but the state. Without a clinician, village or
 * period filter, from the counters of review_counts (every other filter is one of their columns);
 * otherwise counted in review_reports, where those filters have an index.
 */
export function stateCounts(db: Db, teams: readonly string[], f: ParsedFilters): StateCounts {
  const where = whereOf(teams, f, false);
  const fromCounters = !f.clinicianId && !f.village && !f.from && !f.to;
  // One pass with a sum per state (a GROUP BY would sort every matching report first).
  const [table, value] = fromCounters ? ['review_counts', 'r.n'] : ['review_reports', '1'];
  const sums = REVIEW_STATES.map(
    (st) => `coalesce(sum(${value}) FILTER (WHERE r.state = '${st}'), 0)`,
  );
  const row = prepared(db, `SELECT ${sums.join(', ')} FROM ${table} r WHERE ${where.sql}`)
    .raw()
    .get(...where.params) as number[];
  return Object.fromEntries(REVIEW_STATES.map((st, i) => [st, row[i]!])) as StateCounts;
}

export function queue(db: Db, scope: Scope, q: QueueRequest, now: Date): QueueResponse {
  const teams = teamsFor(db, scope, q.teamId);
  const after = q.cursor !== undefined ? afterCursor(q.sort, decodeCursor(q.cursor)) : null;
  // One indexed walk per team (an IN over teams would sort every match), merged here.
  const rows: QueueRow[] = [];
  for (const team of teams) {
    const where = whereOf([team], q, true);
    const sql =
      `SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM} WHERE ${where.sql}` +
      (after ? ` AND ${after.sql}` : '') +
      ` ORDER BY ${ORDER[q.sort]} LIMIT ?`;
    rows.push(
      ...(prepared(db, sql).all(
        ...where.params,
        ...(after?.params ?? []),
        q.limit + 1,
      ) as QueueRow[]),
    );
  }
  rows.sort(compare[q.sort]);
  rows.splice(q.limit + 1);
  const hasMore = rows.length > q.limit;
  if (hasMore) rows.pop();
  const diagnoses = diagnosesOf(
    db,
    rows.map((r) => r.reportId),
  );

  const counts = stateCounts(db, teams, q);

  return {
    items: rows.map((r) => toQueueItem(r, diagnoses.get(r.reportId) ?? [], now)),
    nextCursor: hasMore ? encodeCursor(rows[rows.length - 1]!) : null,
    counts,
  };
}

export function listReviewTeams(db: Db, scope: Scope): ReviewTeamsResponse {
  const teams = reviewTeamsDb(db, scope);
  const c = client(db);
  const placeholders = teams.map(() => '?').join(', ');
  const teamRows = c
    .prepare(`SELECT id, name FROM teams WHERE id IN (${placeholders}) ORDER BY name`)
    .all(...teams) as { id: string; name: string }[];
  const members = c
    .prepare(
      `SELECT m.team_id AS teamId, u.id, u.name FROM team_memberships m JOIN users u ON u.id = m.user_id
       WHERE m.role = 'clinician' AND m.team_id IN (${placeholders}) ORDER BY u.name`,
    )
    .all(...teams) as { teamId: string; id: string; name: string }[];
  return {
    teams: teamRows.map((t) => ({
      ...t,
      clinicians: members.filter((m) => m.teamId === t.id).map(({ id, name }) => ({ id, name })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Report page

function recordOf(db: Db, table: string, id: unknown, teamId: string): RecordData | null {
  if (typeof id !== 'string') return null;
  const row = prepared(
    db,
    'SELECT team_id AS teamId, deleted, data FROM records WHERE table_name = ? AND id = ?',
  ).get(table, id) as { teamId: string; deleted: number; data: string } | undefined;
  if (!row || row.teamId !== teamId || row.deleted) return null;
  return JSON.parse(row.data) as RecordData;
}

function refsOf(db: Db, table: 'comments' | 'followups', reportId: string): RecordData[] {
  return (
    prepared(
      db,
      `SELECT rec.data FROM review_refs f JOIN records rec
         ON rec.table_name = f.table_name AND rec.id = f.id
       WHERE f.report_id = ? AND f.table_name = ? AND rec.deleted = 0 ORDER BY rec.seq`,
    )
      .pluck()
      .all(reportId, table) as string[]
  ).map((d) => JSON.parse(d) as RecordData);
}

export function reportBundle(db: Db, scope: Scope, reportId: string, now: Date): ReportBundle {
  const teams = reviewTeamsDb(db, scope);
  const row = prepared(db, `SELECT ${QUEUE_COLUMNS} FROM ${QUEUE_FROM} WHERE r.report_id = ?`).get(
    reportId,
  ) as QueueRow | undefined;
  // A draft, another team's report and no report read the same.
  if (!row || !teams.includes(row.teamId)) throw notFound('Report');
  const report = recordOf(db, 'reports', reportId, row.teamId);
  if (!report) throw notFound('Report');
  const patient = recordOf(db, 'patients', report.patientId, row.teamId);
  const encounter = recordOf(db, 'encounters', report.encounterId, row.teamId);
  const diagnoses = diagnosisIdsOf(report)
    .map((id) => recordOf(db, 'diagnoses', id, row.teamId))
    .filter((d): d is RecordData => d !== null);

  const events = prepared(
    db,
    `SELECT e.review_id AS id, e.revision, e.decision, e.at, e.snapshot, rec.data
     FROM review_events e JOIN records rec ON rec.table_name = 'reviews' AND rec.id = e.review_id
     WHERE e.report_id = ? ORDER BY e.at, e.review_id`,
  ).all(reportId) as {
    id: string;
    revision: number;
    decision: 'approved' | 'returned';
    at: number;
    snapshot: string;
    data: string;
  }[];
  const reviews: ReviewRecord[] = events.map((e) => {
    const r = JSON.parse(e.data) as RecordData;
    return {
      id: e.id,
      reportId,
      revision: e.revision,
      decision: e.decision,
      comment: str(r.comment),
      verdicts: (r.verdicts ?? []) as ReviewRecord['verdicts'],
      authorId: str(r.authorId),
      authorName: str(r.authorName),
      at: iso(e.at),
    };
  });

  const comments: CommentRecord[] = refsOf(db, 'comments', reportId).map((c) => ({
    id: str(c.id),
    reportId,
    body: str(c.body),
    authorId: str(c.authorId),
    authorName: str(c.authorName),
    authorRole: c.authorRole === 'clinician' ? 'clinician' : 'supervisor',
    at: str(c.createdAt),
  }));
  const followups: FollowupRecord[] = refsOf(db, 'followups', reportId).map((f) => ({
    id: str(f.id),
    patientId: str(f.patientId),
    reportId,
    reason: str(f.reason),
    dueDate: str(f.dueDate),
    status: f.status as FollowupRecord['status'],
    doneEncounterId: typeof f.doneEncounterId === 'string' ? f.doneEncounterId : null,
    doneAt: typeof f.doneAt === 'string' ? f.doneAt : null,
    createdBy: str(f.createdBy),
    createdByName: str(f.createdByName),
    version: typeof f.version === 'number' ? f.version : 0,
  }));

  // The diff: from what the reviewer saw when last returning an earlier revision, to now.
  const lastReturn = [...events]
    .reverse()
    .find((e) => e.decision === 'returned' && e.revision < row.revision);
  const diff = lastReturn
    ? {
        fromRevision: lastReturn.revision,
        toRevision: row.revision,
        changes: diffSnapshots(
          JSON.parse(lastReturn.snapshot) as Snapshot,
          currentSnapshot(db, report, row.teamId),
        ),
      }
    : null;

  const mimeOf = (sha: string) =>
    (prepared(db, 'SELECT mime FROM blobs WHERE sha256 = ?').pluck().get(sha) as
      string | undefined) ?? null;
  const vitals = (encounter?.vitals ?? {}) as Record<string, number | null>;
  const encounterDate = str(encounter?.date, now.toISOString());
  return {
    report: {
      id: reportId,
      teamId: row.teamId,
      teamName: row.teamName ?? '',
      version: typeof report.version === 'number' ? report.version : 0,
      revision: row.revision,
      state: row.state,
      status: str(report.status),
      summary: str(report.summary),
      plan: str(report.plan),
      authorName: str(report.authorName),
      clinicianId: row.clinicianId,
      clinicianName: row.clinicianName ?? '',
      sharedAt: iso(row.sharedAt),
      firstSharedAt: iso(row.firstSharedAt),
    },
    patient: {
      id: row.patientId,
      name: patientName(patient),
      sex: str(patient?.sex, 'unknown'),
      birthDate: typeof patient?.birthDate === 'string' ? patient.birthDate : null,
      birthDateEstimated: patient?.birthDateEstimated === true,
      ageYears: ageYears(patient?.birthDate, now),
      village: str(patient?.village),
    },
    encounter: encounter
      ? {
          id: str(encounter.id),
          date: str(encounter.date),
          complaint: str(encounter.complaint),
          vitals,
          symptoms: Array.isArray(encounter.symptoms)
            ? encounter.symptoms.filter((x): x is string => typeof x === 'string')
            : [],
          notes: str(encounter.notes),
          flags: flagVitals(
            vitals,
            ageInMonths(
              typeof patient?.birthDate === 'string' ? patient.birthDate : null,
              encounterDate,
            ),
          ),
        }
      : null,
    diagnoses: diagnoses.map((d) => {
      const sha = imageOf(d);
      return {
        id: str(d.id),
        modelId: str(d.modelId),
        modelVersion: str(d.modelVersion),
        modelName: str(d.modelName),
        inputs: d.inputs ?? null,
        outputs: (d.outputs ?? {}) as Record<string, number>,
        positiveLabel: str(d.positiveLabel),
        threshold: typeof d.threshold === 'number' ? d.threshold : 0,
        positive: diagnosisPositive(d),
        explanation: d.explanation ?? null,
        modelNotice: d.modelNotice ?? null,
        assessment: d.assessment ?? null,
        image: sha ? { sha256: sha, mime: mimeOf(sha) } : null,
      };
    }),
    reviews,
    comments,
    followups,
    diff,
  };
}
