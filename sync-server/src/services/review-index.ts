import type Database from 'better-sqlite3';
import type { Db } from '../db/connection';
import {
  CommentFields,
  FollowupFields,
  ReviewFields,
  type RejectCode,
  type ReviewState,
  type SyncTable,
} from '../protocol';
import { changedFields, type RecordData } from './merge';
import {
  assessmentOf,
  diagnosisIdsOf,
  diagnosisPositive,
  imageOf,
  isShared,
  patientName,
  snapshotOf,
  str,
} from './review-model';
import { canReview, type Scope } from './scope';
import { weekNumber } from './stats';
import { ageInMonths, flagVitals } from './vitals';

/*
 * Supervisor review inside the push transaction (issue 11): the checks of review-side records
 * (reviews, comments, follow-ups) and the read models of db/schema.ts (review_reports,
 * review_diagnoses, review_events, review_verdicts) kept in step with every write.
 */

/** What the counters of review_counts are keyed on (a review_reports row). */
interface CountKey {
  teamId: string;
  state: ReviewState;
  disagreement: number;
  positive: number;
  models: string;
}

interface IndexedRow extends CountKey {
  revision: number;
  sharedAt: number;
  firstSharedAt: number;
  clinicianId: string;
  everReturned: number;
}

interface CurrentRow {
  teamId: string;
  version: number;
  deleted: 0 | 1;
  data: string;
}

function prepare(db: Db) {
  const c = (db as Db & { $client: Database.Database }).$client;
  return {
    getRecord: c.prepare<[string, string], CurrentRow>(
      'SELECT team_id AS teamId, version, deleted, data FROM records WHERE table_name = ? AND id = ?',
    ),
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
    /** Share time of a revision: the history write that created it (its first version with it). */
    countEncounter: c.prepare<[string, string, number]>(
      `INSERT INTO clinician_activity (team_id, user_id, week, encounters) VALUES (?, ?, ?, 1)
       ON CONFLICT (team_id, user_id, week) DO UPDATE SET encounters = encounters + 1`,
    ),
    countShared: c.prepare<[string, string, number]>(
      `INSERT INTO clinician_activity (team_id, user_id, week, shared) VALUES (?, ?, ?, 1)
       ON CONFLICT (team_id, user_id, week) DO UPDATE SET shared = shared + 1`,
    ),
    countReturned: c.prepare<[string, string, number]>(
      `INSERT INTO clinician_activity (team_id, user_id, week, returned) VALUES (?, ?, ?, 1)
       ON CONFLICT (team_id, user_id, week) DO UPDATE SET returned = returned + 1`,
    ),
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
const cache = new WeakMap<Db, Statements>();
function statements(db: Db): Statements {
  let s = cache.get(db);
  if (!s) cache.set(db, (s = prepare(db)));
  return s;
}

const parse = (json: string) => JSON.parse(json) as RecordData;

const sameKey = (a: CountKey, b: CountKey) =>
  a.teamId === b.teamId &&
  a.state === b.state &&
  a.disagreement === b.disagreement &&
  a.positive === b.positive &&
  a.models === b.models;

/** Moves a report between the counters of review_counts (`from` or `to` null: none). */
function recount(s: Statements, from: CountKey | null, to: CountKey | null) {
  if (from && to && sameKey(from, to)) return;
  for (const [k, n] of [
    [from, -1],
    [to, 1],
  ] as const) {
    if (k) s.addCount.run(k.teamId, k.state, k.disagreement, k.positive, k.models, n);
  }
}

/** A record of this team that is not deleted, or null. */
function liveRecord(s: Statements, table: SyncTable, id: unknown, teamId: string) {
  if (typeof id !== 'string') return null;
  const row = s.getRecord.get(table, id);
  if (!row || row.teamId !== teamId || row.deleted) return null;
  return parse(row.data);
}

export const REVIEW_SIDE_TABLES: ReadonlySet<SyncTable> = new Set([
  'reviews',
  'comments',
  'followups',
]);

/** Who may write a record of this table in this team at all (before looking at its content). */
export function writeRight(table: SyncTable, scope: Scope, teamId: string): string | null {
  const clinician = scope.clinicianTeams.has(teamId);
  const reviewer = canReview(scope, teamId);
  if (table === 'reviews') {
    if (reviewer) return null;
    return clinician
      ? 'only supervisors of the team write reviews'
      : 'you may not write records of this team';
  }
  if (table === 'comments' || table === 'followups') {
    return clinician || reviewer ? null : 'you may not write records of this team';
  }
  if (clinician) return null;
  return scope.supervisorTeams.has(teamId)
    ? 'supervisors may write only reviews, comments and follow-ups'
    : 'you may not write records of this team';
}

export interface Rejection {
  code: RejectCode;
  reason: string;
}

const issueText = (e: { issues: { path: PropertyKey[]; message: string }[] }) => {
  const i = e.issues[0]!;
  const field = i.path.map(String).join('.');
  return field ? `data.${field}: ${i.message}` : i.message;
};

const todayUtc = (now: Date) => now.toISOString().slice(0, 10);

/**
 * The content rules of a review-side record about to be written (`candidate` is what would be
 * stored, `current` the server's record or null). Null when it may be written.
 */
export function checkReviewSide(
  db: Db,
  table: SyncTable,
  scope: Scope,
  teamId: string,
  current: RecordData | null,
  candidate: RecordData,
  now: Date,
): Rejection | null {
  const s = statements(db);
  const invalid = (reason: string): Rejection => ({ code: 'invalid', reason });
  const forbidden = (reason: string): Rejection => ({ code: 'forbidden', reason });
  const reviewer = canReview(scope, teamId);

  if (table === 'reviews' || table === 'comments') {
    if (current) return null; // append-only: checkPolicy answered already
    const parsed = (table === 'reviews' ? ReviewFields : CommentFields).safeParse(candidate);
    if (!parsed.success) return invalid(issueText(parsed.error));
    const report = liveRecord(s, 'reports', candidate.reportId, teamId);
    if (!report) return invalid('the report does not exist in this team');
    const shared = isShared(report);
    if (table === 'comments') {
      // A clinician may discuss any report of the team; a supervisor only what was shared.
      if (!shared && !scope.clinicianTeams.has(teamId)) {
        return invalid('the report is not shared: supervisors see only shared reports');
      }
      return null;
    }
    if (!shared) return invalid('the report is a draft: only shared reports can be reviewed');
    const review = parsed.data as ReviewFields;
    const revision = typeof report.revision === 'number' ? report.revision : 0;
    if (review.revision > revision) {
      return invalid(`the report has no revision ${review.revision} (latest ${revision})`);
    }
    const listed = new Set(diagnosisIdsOf(report));
    const seen = new Set<string>();
    for (const v of review.verdicts) {
      if (!listed.has(v.diagnosisId)) {
        return invalid(`verdict on diagnosis ${v.diagnosisId}, which the report does not list`);
      }
      if (seen.has(v.diagnosisId)) return invalid(`two verdicts on diagnosis ${v.diagnosisId}`);
      seen.add(v.diagnosisId);
    }
    return null;
  }

  if (table === 'followups') {
    const parsed = FollowupFields.safeParse(candidate);
    if (!parsed.success) return invalid(issueText(parsed.error));
    const f = parsed.data;
    if (candidate.deleted === true) return forbidden('follow-ups cannot be deleted');
    if (!current) {
      if (!reviewer) return forbidden('only supervisors of the team ask for follow-ups');
      if (f.status !== 'open' || f.doneEncounterId !== null) {
        return invalid('a new follow-up must be open, with no encounter');
      }
      if (f.dueDate < todayUtc(now)) return invalid('dueDate: must not be in the past');
      if (!liveRecord(s, 'patients', f.patientId, teamId)) {
        return invalid('the patient does not exist in this team');
      }
      if (!s.sharedReportOfPatient.get(f.patientId, teamId) && !scope.clinicianTeams.has(teamId)) {
        return forbidden('supervisors ask for follow-ups of patients of shared reports only');
      }
      if (f.reportId !== null) {
        const report = liveRecord(s, 'reports', f.reportId, teamId);
        if (!report || !isShared(report) || report.patientId !== f.patientId) {
          return invalid('reportId: not a shared report of this patient');
        }
      }
      return null;
    }
    const changed = changedFields(current, candidate);
    if (changed.includes('patientId') || changed.includes('reportId')) {
      return invalid("a follow-up's patient and report cannot change");
    }
    const clinicianFields = new Set(['status', 'doneEncounterId', 'doneAt']);
    const reviewerFields = new Set(['reason', 'dueDate', 'status']);
    const asClinician =
      scope.clinicianTeams.has(teamId) && changed.every((k) => clinicianFields.has(k));
    const asReviewer = reviewer && changed.every((k) => reviewerFields.has(k));
    if (!asClinician && !asReviewer) {
      return forbidden(
        reviewer
          ? `supervisors may change only reason, dueDate and status (changed: ${changed.join(', ')})`
          : `clinicians may only mark a follow-up done (changed: ${changed.join(', ')})`,
      );
    }
    if (asClinician) {
      if (changed.includes('status') && f.status !== 'done') {
        return forbidden('clinicians may only mark a follow-up done');
      }
    } else {
      if (changed.includes('dueDate') && f.dueDate < todayUtc(now)) {
        return invalid('dueDate: must not be in the past');
      }
      if (changed.includes('status') && f.status === 'done') {
        return forbidden('the clinician marks a follow-up done, with the encounter');
      }
    }
    if (
      f.status === 'done' &&
      (changed.includes('status') || changed.includes('doneEncounterId'))
    ) {
      const encounter = liveRecord(s, 'encounters', f.doneEncounterId, teamId);
      if (!encounter || encounter.patientId !== f.patientId) {
        return invalid('doneEncounterId: must be an encounter of this patient in this team');
      }
    }
    return null;
  }
  return null;
}

/**
 * Fields the server owns on review-side records, set from the authenticated user on creation and
 * kept from the server's record afterwards.
 */
export function stampReviewSide(
  db: Db,
  table: SyncTable,
  scope: Scope,
  teamId: string,
  current: RecordData | null,
  record: RecordData,
): RecordData {
  if (!REVIEW_SIDE_TABLES.has(table)) return record;
  const s = statements(db);
  const keys =
    table === 'followups'
      ? ['createdBy', 'createdByName']
      : ['authorId', 'authorName', 'authorRole'];
  if (current) {
    const out = { ...record };
    for (const k of keys) out[k] = current[k];
    return out;
  }
  const name = s.userName.get(scope.userId) ?? '';
  if (table === 'followups') return { ...record, createdBy: scope.userId, createdByName: name };
  const out: RecordData = { ...record, authorId: scope.userId, authorName: name };
  if (table === 'comments') {
    out.authorRole = scope.clinicianTeams.has(teamId) ? 'clinician' : 'supervisor';
  } else {
    delete out.authorRole;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Read models

/** The report's current snapshot (what a reviewer sees now), from its records. */
export function currentSnapshot(db: Db, report: RecordData, teamId: string) {
  const s = statements(db);
  const encounter = liveRecord(s, 'encounters', report.encounterId, teamId);
  const diagnoses = diagnosisIdsOf(report)
    .map((id) => liveRecord(s, 'diagnoses', id, teamId))
    .filter((d): d is RecordData => d !== null);
  return snapshotOf(report, encounter, diagnoses);
}

/** `|pneumonia-cxr:1|diabetes-risk:0|` (see review_reports.models); '' when none. */
export const modelsKey = (diagnoses: readonly RecordData[]): string =>
  diagnoses.length === 0
    ? ''
    : `|${diagnoses.map((d) => `${str(d.modelId)}:${diagnosisPositive(d) ? 1 : 0}`).join('|')}|`;

/** Rebuilds the queue row of a report (or removes it when the report is not shared). */
function refreshReport(s: Statements, reportId: string, at: number, userId: string) {
  const row = s.getRecord.get('reports', reportId);
  const report = row && !row.deleted ? parse(row.data) : null;
  const revision = typeof report?.revision === 'number' ? report.revision : 0;
  const existing = s.getIndexed.get(reportId);
  if (!row || !report || !isShared(report) || revision < 1) {
    if (existing) recount(s, existing, null);
    s.deleteIndexed.run(reportId);
    s.deleteDiagnoses.run(reportId);
    return;
  }
  const teamId = row.teamId;
  const sameRevision = existing?.revision === revision;
  const patient = liveRecord(s, 'patients', report.patientId, teamId);
  const encounter = liveRecord(s, 'encounters', report.encounterId, teamId);
  const diagnoses = diagnosisIdsOf(report)
    .map((id) => liveRecord(s, 'diagnoses', id, teamId))
    .filter((d): d is RecordData => d !== null);

  if (!existing && revision === 1) s.countShared.run(teamId, userId, weekNumber(at));
  const latest = s.latestReview.get(reportId, revision);
  const state: ReviewState = latest?.decision ?? 'awaiting';
  const positive = diagnoses.some(diagnosisPositive) ? 1 : 0;
  const disagreement = diagnoses.some((d) => assessmentOf(d) === 'disagree') ? 1 : 0;
  const vitals = (encounter?.vitals ?? {}) as Record<string, number | null>;
  const ageMonths = ageInMonths(
    str(patient?.birthDate, '') || null,
    str(encounter?.date, new Date(at).toISOString()),
  );
  const abnormal = encounter && Object.keys(flagVitals(vitals, ageMonths)).length > 0 ? 1 : 0;
  const village = str(patient?.village);
  const models = modelsKey(diagnoses);
  recount(s, existing ?? null, { teamId, state, disagreement, positive, models });
  s.upsertIndexed.run({
    reportId,
    teamId,
    patientId: str(report.patientId),
    encounterId: typeof report.encounterId === 'string' ? report.encounterId : null,
    clinicianId: sameRevision ? existing.clinicianId : userId,
    patientName: patientName(patient),
    sex: str(patient?.sex, 'unknown'),
    birthDate: typeof patient?.birthDate === 'string' ? patient.birthDate : null,
    village,
    villageKey: village.toLowerCase(),
    revision,
    state,
    sharedAt: sameRevision ? existing.sharedAt : at,
    firstSharedAt: existing?.firstSharedAt ?? at,
    reviewedAt: latest?.at ?? null,
    everReturned: s.everReturned.get(reportId) ?? 0,
    positive,
    abnormal,
    disagreement,
    priority: positive + abnormal + disagreement,
    rank: -(positive + abnormal + disagreement),
    models,
  });
  s.deleteDiagnoses.run(reportId);
  for (const d of diagnoses) {
    const id = str(d.id);
    countRun(s, d, teamId, at);
    s.insertDiagnosis.run({
      reportId,
      diagnosisId: id,
      teamId,
      modelId: str(d.modelId),
      modelVersion: str(d.modelVersion),
      modelName: str(d.modelName),
      positive: diagnosisPositive(d) ? 1 : 0,
      assessment: assessmentOf(d),
      imageSha256: imageOf(d),
      ranAt: s.firstWriteAt.get('diagnoses', id) ?? at,
    });
  }
}

/**
 * Counts a model result in model_weekly the first time a shared report shows it, and moves its
 * assessment between the counters when the clinician changes it (nothing else of a saved diagnosis
 * can change).
 */
function countRun(s: Statements, d: RecordData, teamId: string, at: number) {
  const diagnosisId = str(d.id);
  const assessment = assessmentOf(d);
  const old = s.getRun.get(diagnosisId);
  const key = { teamId, modelId: str(d.modelId), modelVersion: str(d.modelVersion) };
  const counts = (a: string | null) => ({
    assessed: a === null ? 0 : 1,
    agreed: a === 'agree' ? 1 : 0,
  });
  if (!old) {
    const week = weekNumber(s.firstWriteAt.get('diagnoses', diagnosisId) ?? at);
    const positive = diagnosisPositive(d) ? 1 : 0;
    s.insertRun.run({ diagnosisId, ...key, week, positive, assessment });
    s.addWeekly.run({
      ...key,
      week,
      modelName: str(d.modelName),
      runs: 1,
      positives: positive,
      ...counts(assessment),
    });
    return;
  }
  if (old.assessment === assessment) return;
  const before = counts(old.assessment);
  const after = counts(assessment);
  s.setRunAssessment.run(assessment, diagnosisId);
  s.addWeekly.run({
    ...key,
    week: old.week,
    modelName: str(d.modelName),
    runs: 0,
    positives: 0,
    assessed: after.assessed - before.assessed,
    agreed: after.agreed - before.agreed,
  });
}

/**
 * Keeps the read models in step after a write of `record` to `table` (inside the push
 * transaction, after the write): reports re-index themselves; patients, visits and diagnoses
 * re-index the shared reports that show them; a new review is recorded with its verdicts.
 */
export function afterWrite(
  db: Db,
  table: SyncTable,
  record: RecordData,
  isNew: boolean,
  at: Date,
  userId: string,
) {
  const s = statements(db);
  const t = at.getTime();
  const id = str(record.id);
  switch (table) {
    case 'reports':
      refreshReport(s, id, t, userId);
      return;
    case 'patients':
      for (const r of s.reportsOfPatient.all(id)) refreshReport(s, r, t, userId);
      return;
    case 'encounters':
      if (isNew) s.countEncounter.run(str(record.teamId), userId, weekNumber(t));
      for (const r of s.reportsOfEncounter.all(id)) refreshReport(s, r, t, userId);
      return;
    case 'diagnoses':
      // Also reports that list it but were shared before it arrived: those of its patient.
      for (const r of s.reportsOfPatient.all(str(record.patientId))) {
        refreshReport(s, r, t, userId);
      }
      return;
    case 'reviews': {
      if (!isNew) return;
      const teamId = str(record.teamId);
      const reportId = str(record.reportId);
      const report = liveRecord(s, 'reports', reportId, teamId)!;
      const revision = record.revision as number;
      const returned = record.decision === 'returned';
      // checkReviewSide let only reviews of shared reports through: the report is indexed.
      const indexed = s.getIndexed.get(reportId);
      if (returned && indexed && !indexed.everReturned) {
        s.countReturned.run(teamId, indexed.clinicianId, weekNumber(indexed.firstSharedAt));
      }
      // What the reviewer judged, read once for the snapshot and the verdicts.
      const encounter = liveRecord(s, 'encounters', report.encounterId, teamId);
      const diagnoses = new Map<string, RecordData>();
      for (const diagnosisId of diagnosisIdsOf(report)) {
        const d = liveRecord(s, 'diagnoses', diagnosisId, teamId);
        if (d) diagnoses.set(diagnosisId, d);
      }
      s.insertEvent.run({
        reviewId: id,
        reportId,
        teamId,
        revision,
        decision: record.decision as string,
        authorId: userId,
        at: t,
        revisionSharedAt: s.revisionSharedAt.get(reportId, revision) ?? t,
        snapshot: JSON.stringify(snapshotOf(report, encounter, [...diagnoses.values()])),
      });
      const verdicts = (record.verdicts ?? []) as {
        diagnosisId: string;
        verdict: string;
        referenceOutcome?: string | null;
      }[];
      for (const v of verdicts) {
        const d = diagnoses.get(v.diagnosisId);
        if (!d) continue;
        s.insertVerdict.run({
          reviewId: id,
          diagnosisId: v.diagnosisId,
          reportId,
          teamId,
          modelId: str(d.modelId),
          modelVersion: str(d.modelVersion),
          modelPositive: diagnosisPositive(d) ? 1 : 0,
          verdict: v.verdict,
          referenceOutcome: v.referenceOutcome ?? null,
          at: t,
        });
        s.upsertVerdict.run({
          diagnosisId: v.diagnosisId,
          teamId,
          modelId: str(d.modelId),
          modelVersion: str(d.modelVersion),
          modelPositive: diagnosisPositive(d) ? 1 : 0,
          verdict: v.verdict,
          at: t,
        });
      }
      // A review changes only the report's state, review time and "ever returned": those are
      // updated in place (the rest of the row, its diagnoses and counters stay as they are).
      if (indexed) {
        const latest = s.latestReview.get(reportId, indexed.revision);
        const state: ReviewState = latest?.decision ?? 'awaiting';
        recount(s, indexed, { ...indexed, state });
        s.setReviewState.run(
          state,
          latest?.at ?? null,
          indexed.everReturned || returned ? 1 : 0,
          reportId,
        );
      }
      return;
    }
    case 'comments':
    case 'followups':
      if (isNew && typeof record.reportId === 'string') s.insertRef.run(table, id, record.reportId);
      return;
    default:
      return;
  }
}
