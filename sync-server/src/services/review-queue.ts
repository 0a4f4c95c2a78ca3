import type { TxRepositories } from '../repositories';
import type {
  ParsedFilters,
  QueueKey,
  QueueRow,
  QueueSort,
} from '../repositories/review-queue.repository';
import { ApiError, notFound } from '../errors';
import type {
  CommentRecord,
  FollowupRecord,
  QueueItem,
  QueueModel,
  QueueResponse,
  ReportBundle,
  ReviewRecord,
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
 * The supervisor's queue and report page (issue 11): the read models of review-index.ts through
 * the reviewQueue repository, within the teams the caller reviews (supervised teams; every team
 * for an admin).
 */

/** The teams the caller reviews, or a 403 when none (a clinician, an admin-less user). */
export async function reviewTeams(
  repos: Pick<TxRepositories, 'teams'>,
  scope: Scope,
): Promise<string[]> {
  if (scope.isAdmin) return repos.teams.allTeamIds();
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
async function teamsFor(
  repos: Pick<TxRepositories, 'teams'>,
  scope: Scope,
  teamId: string | undefined,
): Promise<string[]> {
  const teams = await reviewTeams(repos, scope);
  if (teamId === undefined) return teams;
  if (!teams.includes(teamId)) {
    throw new ApiError(403, 'forbidden', 'You do not review this team');
  }
  return [teamId];
}

export type { ParsedFilters };

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

function decodeCursor(raw: string): QueueKey {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.r === 'number' && typeof c.s === 'number' && typeof c.id === 'string') {
      return { rank: c.r, sharedAt: c.s, reportId: c.id };
    }
  } catch {
    // answered below
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a cursor this server gave');
}

/** Byte order of two strings of the code units SQL compares (as SQLite and COLLATE "C" do). */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The repositories' order in JS, to merge the teams' pages. */
const compare: Record<QueueSort, (a: QueueRow, b: QueueRow) => number> = {
  age: (a, b) => a.sharedAt - b.sharedAt || byteOrder(a.reportId, b.reportId),
  priority: (a, b) => a.rank - b.rank || compare.age(a, b),
};

const iso = (ms: number) => new Date(ms).toISOString();

async function diagnosesOf(
  repos: Pick<TxRepositories, 'reviewQueue'>,
  reportIds: readonly string[],
): Promise<Map<string, QueueModel[]>> {
  const out = new Map<string, QueueModel[]>();
  for (const r of await repos.reviewQueue.diagnosesOf(reportIds)) {
    const list = out.get(r.reportId) ?? [];
    list.push({
      diagnosisId: r.diagnosisId,
      modelId: r.modelId,
      modelVersion: r.modelVersion,
      positive: r.positive,
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
  sort: QueueSort;
  limit: number;
  cursor?: string;
}

/** The reports per state that match the filters but the state. */
export function stateCounts(
  repos: Pick<TxRepositories, 'reviewQueue'>,
  teams: readonly string[],
  f: ParsedFilters,
): Promise<StateCounts> {
  return repos.reviewQueue.stateCounts(teams, f);
}

export async function queue(
  repos: Pick<TxRepositories, 'teams' | 'reviewQueue'>,
  scope: Scope,
  q: QueueRequest,
  now: Date,
): Promise<QueueResponse> {
  const teams = await teamsFor(repos, scope, q.teamId);
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : null;
  // One indexed walk per team (an IN over teams would sort every match), merged here; the counts
  // alongside (on PostgreSQL each on a connection of its own).
  const [pages, counts] = await Promise.all([
    Promise.all(teams.map((team) => repos.reviewQueue.page(team, q, q.sort, after, q.limit + 1))),
    stateCounts(repos, teams, q),
  ]);
  const rows = pages.flat();
  rows.sort(compare[q.sort]);
  rows.splice(q.limit + 1);
  const hasMore = rows.length > q.limit;
  if (hasMore) rows.pop();
  const diagnoses = await diagnosesOf(
    repos,
    rows.map((r) => r.reportId),
  );
  return {
    items: rows.map((r) => toQueueItem(r, diagnoses.get(r.reportId) ?? [], now)),
    nextCursor: hasMore ? encodeCursor(rows[rows.length - 1]!) : null,
    counts,
  };
}

export async function listReviewTeams(
  repos: Pick<TxRepositories, 'teams' | 'reviewQueue'>,
  scope: Scope,
): Promise<ReviewTeamsResponse> {
  const teams = await reviewTeams(repos, scope);
  const [teamRows, members] = await Promise.all([
    repos.reviewQueue.teamsByName(teams),
    repos.reviewQueue.cliniciansOf(teams),
  ]);
  return {
    teams: teamRows.map((t) => ({
      ...t,
      clinicians: members.filter((m) => m.teamId === t.id).map(({ id, name }) => ({ id, name })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Report page

type ReviewQueueRepos = Pick<TxRepositories, 'reviewQueue'>;

async function recordOf(
  repos: ReviewQueueRepos,
  table: 'reports' | 'patients' | 'encounters' | 'diagnoses',
  id: unknown,
  teamId: string,
): Promise<RecordData | null> {
  if (typeof id !== 'string') return null;
  const row = await repos.reviewQueue.record(table, id);
  if (!row || row.teamId !== teamId || row.deleted) return null;
  return JSON.parse(row.data) as RecordData;
}

async function refsOf(
  repos: ReviewQueueRepos,
  table: 'comments' | 'followups',
  reportId: string,
): Promise<RecordData[]> {
  return (await repos.reviewQueue.refs(reportId, table)).map((d) => JSON.parse(d) as RecordData);
}

export async function reportBundle(
  repos: Pick<TxRepositories, 'teams' | 'reviewQueue'>,
  scope: Scope,
  reportId: string,
  now: Date,
): Promise<ReportBundle> {
  const [teams, row] = await Promise.all([
    reviewTeams(repos, scope),
    repos.reviewQueue.queueRow(reportId),
  ]);
  // A draft, another team's report and no report read the same.
  if (!row || !teams.includes(row.teamId)) throw notFound('Report');
  const report = await recordOf(repos, 'reports', reportId, row.teamId);
  if (!report) throw notFound('Report');
  const [patient, encounter, listed, events, commentRecords, followupRecords] = await Promise.all([
    recordOf(repos, 'patients', report.patientId, row.teamId),
    recordOf(repos, 'encounters', report.encounterId, row.teamId),
    Promise.all(diagnosisIdsOf(report).map((id) => recordOf(repos, 'diagnoses', id, row.teamId))),
    repos.reviewQueue.events(reportId),
    refsOf(repos, 'comments', reportId),
    refsOf(repos, 'followups', reportId),
  ]);
  const diagnoses = listed.filter((d): d is RecordData => d !== null);

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

  const comments: CommentRecord[] = commentRecords.map((c) => ({
    id: str(c.id),
    reportId,
    body: str(c.body),
    authorId: str(c.authorId),
    authorName: str(c.authorName),
    authorRole: c.authorRole === 'clinician' ? 'clinician' : 'supervisor',
    at: str(c.createdAt),
  }));
  const followups: FollowupRecord[] = followupRecords.map((f) => ({
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
          await currentSnapshot(repos, report, row.teamId),
        ),
      }
    : null;

  const images = new Map(
    await Promise.all(
      diagnoses
        .map(imageOf)
        .filter((sha): sha is string => sha !== null)
        .map(async (sha) => [sha, await repos.reviewQueue.blobMime(sha)] as const),
    ),
  );
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
        image: sha ? { sha256: sha, mime: images.get(sha) ?? null } : null,
      };
    }),
    reviews,
    comments,
    followups,
    diff,
  };
}
