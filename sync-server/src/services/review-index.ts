import type { TxRepositories } from '../repositories';
import type { CountKey, SyncRepository } from '../repositories/sync.repository';
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
  type Snapshot,
} from './review-model';
import { canReview, type Scope } from './scope';
import { weekNumber } from './stats';
import { ageInMonths, flagVitals } from './vitals';

/*
 * Supervisor review inside the push transaction (issue 11): the checks of review-side records
 * (reviews, comments, follow-ups) and the read models of db/schema.ts (review_reports,
 * review_diagnoses, review_events, review_verdicts) kept in step with every write.
 */

const parse = (json: string) => JSON.parse(json) as RecordData;

const sameKey = (a: CountKey, b: CountKey) =>
  a.teamId === b.teamId &&
  a.state === b.state &&
  a.disagreement === b.disagreement &&
  a.positive === b.positive &&
  a.models === b.models;

/** Moves a report between the counters of review_counts (`from` or `to` null: none). */
async function recount(s: SyncRepository, from: CountKey | null, to: CountKey | null) {
  if (from && to && sameKey(from, to)) return;
  for (const [k, n] of [
    [from, -1],
    [to, 1],
  ] as const) {
    if (k) await s.addCount(k, n);
  }
}

/** A record of this team that is not deleted, or null. */
async function liveRecord(s: SyncRepository, table: SyncTable, id: unknown, teamId: string) {
  if (typeof id !== 'string') return null;
  const row = await s.getRecord(table, id);
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
export async function checkReviewSide(
  s: SyncRepository,
  table: SyncTable,
  scope: Scope,
  teamId: string,
  current: RecordData | null,
  candidate: RecordData,
  now: Date,
): Promise<Rejection | null> {
  const invalid = (reason: string): Rejection => ({ code: 'invalid', reason });
  const forbidden = (reason: string): Rejection => ({ code: 'forbidden', reason });
  const reviewer = canReview(scope, teamId);

  if (table === 'reviews' || table === 'comments') {
    if (current) return null; // append-only: checkPolicy answered already
    const parsed = (table === 'reviews' ? ReviewFields : CommentFields).safeParse(candidate);
    if (!parsed.success) return invalid(issueText(parsed.error));
    const report = await liveRecord(s, 'reports', candidate.reportId, teamId);
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
      if (!(await liveRecord(s, 'patients', f.patientId, teamId))) {
        return invalid('the patient does not exist in this team');
      }
      if (
        !(await s.sharedReportOfPatient(f.patientId, teamId)) &&
        !scope.clinicianTeams.has(teamId)
      ) {
        return forbidden('supervisors ask for follow-ups of patients of shared reports only');
      }
      if (f.reportId !== null) {
        const report = await liveRecord(s, 'reports', f.reportId, teamId);
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
      const encounter = await liveRecord(s, 'encounters', f.doneEncounterId, teamId);
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
export async function stampReviewSide(
  s: SyncRepository,
  table: SyncTable,
  scope: Scope,
  teamId: string,
  current: RecordData | null,
  record: RecordData,
): Promise<RecordData> {
  if (!REVIEW_SIDE_TABLES.has(table)) return record;
  const keys =
    table === 'followups'
      ? ['createdBy', 'createdByName']
      : ['authorId', 'authorName', 'authorRole'];
  if (current) {
    const out = { ...record };
    for (const k of keys) out[k] = current[k];
    return out;
  }
  const name = (await s.userName(scope.userId)) ?? '';
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
export async function currentSnapshot(
  repos: Pick<TxRepositories, 'reviewQueue'>,
  report: RecordData,
  teamId: string,
): Promise<Snapshot> {
  const live = async (table: SyncTable, id: unknown) => {
    if (typeof id !== 'string') return null;
    const row = await repos.reviewQueue.record(table, id);
    return row && row.teamId === teamId && !row.deleted ? parse(row.data) : null;
  };
  const [encounter, diagnoses] = await Promise.all([
    live('encounters', report.encounterId),
    Promise.all(diagnosisIdsOf(report).map((id) => live('diagnoses', id))),
  ]);
  return snapshotOf(
    report,
    encounter,
    diagnoses.filter((d): d is RecordData => d !== null),
  );
}

/** `|pneumonia-cxr:1|diabetes-risk:0|` (see review_reports.models); '' when none. */
export const modelsKey = (diagnoses: readonly RecordData[]): string =>
  diagnoses.length === 0
    ? ''
    : `|${diagnoses.map((d) => `${str(d.modelId)}:${diagnosisPositive(d) ? 1 : 0}`).join('|')}|`;

/** Rebuilds the queue row of a report (or removes it when the report is not shared). */
async function refreshReport(s: SyncRepository, reportId: string, at: number, userId: string) {
  const row = await s.getRecord('reports', reportId);
  const report = row && !row.deleted ? parse(row.data) : null;
  const revision = typeof report?.revision === 'number' ? report.revision : 0;
  const existing = await s.getIndexed(reportId);
  if (!row || !report || !isShared(report) || revision < 1) {
    if (existing) await recount(s, existing, null);
    await s.deleteIndexed(reportId);
    await s.deleteDiagnoses(reportId);
    return;
  }
  const teamId = row.teamId;
  const sameRevision = existing?.revision === revision;
  const patient = await liveRecord(s, 'patients', report.patientId, teamId);
  const encounter = await liveRecord(s, 'encounters', report.encounterId, teamId);
  const diagnoses: RecordData[] = [];
  for (const id of diagnosisIdsOf(report)) {
    const d = await liveRecord(s, 'diagnoses', id, teamId);
    if (d) diagnoses.push(d);
  }

  if (!existing && revision === 1) await s.countActivity('shared', teamId, userId, weekNumber(at));
  const latest = await s.latestReview(reportId, revision);
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
  await recount(s, existing ?? null, { teamId, state, disagreement, positive, models });
  await s.upsertIndexed({
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
    everReturned: await s.everReturned(reportId),
    positive,
    abnormal,
    disagreement,
    priority: positive + abnormal + disagreement,
    rank: -(positive + abnormal + disagreement),
    models,
  });
  await s.deleteDiagnoses(reportId);
  for (const d of diagnoses) {
    const id = str(d.id);
    await countRun(s, d, teamId, at);
    await s.insertDiagnosis({
      reportId,
      diagnosisId: id,
      teamId,
      modelId: str(d.modelId),
      modelVersion: str(d.modelVersion),
      modelName: str(d.modelName),
      positive: diagnosisPositive(d) ? 1 : 0,
      assessment: assessmentOf(d),
      imageSha256: imageOf(d),
      ranAt: (await s.firstWriteAt('diagnoses', id)) ?? at,
    });
  }
}

/**
 * Counts a model result in model_weekly the first time a shared report shows it, and moves its
 * assessment between the counters when the clinician changes it (nothing else of a saved diagnosis
 * can change).
 */
async function countRun(s: SyncRepository, d: RecordData, teamId: string, at: number) {
  const diagnosisId = str(d.id);
  const assessment = assessmentOf(d);
  const old = await s.getRun(diagnosisId);
  const key = { teamId, modelId: str(d.modelId), modelVersion: str(d.modelVersion) };
  const counts = (a: string | null) => ({
    assessed: a === null ? 0 : 1,
    agreed: a === 'agree' ? 1 : 0,
  });
  if (!old) {
    const week = weekNumber((await s.firstWriteAt('diagnoses', diagnosisId)) ?? at);
    const positive = diagnosisPositive(d) ? 1 : 0;
    await s.insertRun({ diagnosisId, ...key, week, positive, assessment });
    await s.addWeekly({
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
  await s.setRunAssessment(diagnosisId, assessment);
  await s.addWeekly({
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
export async function afterWrite(
  s: SyncRepository,
  table: SyncTable,
  record: RecordData,
  isNew: boolean,
  at: Date,
  userId: string,
): Promise<void> {
  const t = at.getTime();
  const id = str(record.id);
  switch (table) {
    case 'reports':
      await refreshReport(s, id, t, userId);
      return;
    case 'patients':
      for (const r of await s.reportsOfPatient(id)) await refreshReport(s, r, t, userId);
      return;
    case 'encounters':
      if (isNew) await s.countActivity('encounters', str(record.teamId), userId, weekNumber(t));
      for (const r of await s.reportsOfEncounter(id)) await refreshReport(s, r, t, userId);
      return;
    case 'diagnoses':
      // Also reports that list it but were shared before it arrived: those of its patient.
      for (const r of await s.reportsOfPatient(str(record.patientId))) {
        await refreshReport(s, r, t, userId);
      }
      return;
    case 'reviews': {
      if (!isNew) return;
      const teamId = str(record.teamId);
      const reportId = str(record.reportId);
      const report = (await liveRecord(s, 'reports', reportId, teamId))!;
      const revision = record.revision as number;
      const returned = record.decision === 'returned';
      // checkReviewSide let only reviews of shared reports through: the report is indexed.
      const indexed = await s.getIndexed(reportId);
      if (returned && indexed && !indexed.everReturned) {
        await s.countActivity(
          'returned',
          teamId,
          indexed.clinicianId,
          weekNumber(indexed.firstSharedAt),
        );
      }
      // What the reviewer judged, read once for the snapshot and the verdicts.
      const encounter = await liveRecord(s, 'encounters', report.encounterId, teamId);
      const diagnoses = new Map<string, RecordData>();
      for (const diagnosisId of diagnosisIdsOf(report)) {
        const d = await liveRecord(s, 'diagnoses', diagnosisId, teamId);
        if (d) diagnoses.set(diagnosisId, d);
      }
      await s.insertEvent({
        reviewId: id,
        reportId,
        teamId,
        revision,
        decision: record.decision as string,
        authorId: userId,
        at: t,
        revisionSharedAt: (await s.revisionSharedAt(reportId, revision)) ?? t,
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
        await s.insertVerdict({
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
        await s.upsertVerdict({
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
        const latest = await s.latestReview(reportId, indexed.revision);
        const state: ReviewState = latest?.decision ?? 'awaiting';
        await recount(s, indexed, { ...indexed, state });
        await s.setReviewState(
          reportId,
          state,
          latest?.at ?? null,
          indexed.everReturned || returned ? 1 : 0,
        );
      }
      return;
    }
    case 'comments':
    case 'followups':
      if (isNew && typeof record.reportId === 'string')
        await s.insertRef(table, id, record.reportId);
      return;
    default:
      return;
  }
}
