import { newMeta, type Author, type Report, type ReportFields } from '$lib/domain/records';
import { latestReview, localReviewState, reshareTime } from '$lib/domain/review';
import type { FieldDxDatabase } from './database';
import { newId, setDeleted, touched, writeRecord } from './records';
import { listReviews } from './review';

export type ReportDraft = Pick<ReportFields, 'encounterId' | 'diagnosisIds' | 'summary' | 'plan'>;

export async function createReport(
  db: FieldDxDatabase,
  patientId: string,
  draft: ReportDraft,
  author: Author & { name: string },
  now = new Date(),
): Promise<Report> {
  return writeRecord(db, 'reports', {
    ...newMeta(newId(), author, now),
    patientId,
    ...draft,
    status: 'draft',
    authorName: author.name,
    authorId: author.userId,
    sharedAt: null,
  });
}

export async function updateReport(
  db: FieldDxDatabase,
  id: string,
  draft: ReportDraft,
  author: Author,
  now = new Date(),
): Promise<Report> {
  const current = await db.reports.get(id);
  if (!current) throw new Error('This report no longer exists on this device.');
  if (!(await isEditable(db, current))) {
    throw new Error('A shared report can no longer be edited.');
  }
  return writeRecord(db, 'reports', { ...touched(current, author, now), ...draft });
}

/** A draft, or a report a supervisor returned for correction and not shared again yet. */
export async function isEditable(db: FieldDxDatabase, report: Report): Promise<boolean> {
  if (report.status === 'draft') return true;
  return localReviewState(report, await listReviews(db, report.id)) === 'returned';
}

/** Marks the report ready for the supervisor; sync uploads it. */
export async function shareReport(
  db: FieldDxDatabase,
  id: string,
  author: Author,
  now = new Date(),
): Promise<Report> {
  const current = await db.reports.get(id);
  if (!current) throw new Error('This report no longer exists on this device.');
  const reviews = current.status === 'draft' ? [] : await listReviews(db, id);
  const returned = localReviewState(current, reviews) === 'returned';
  if (current.status !== 'draft' && !returned) return current;
  if (!current.summary.trim()) throw new Error('Write a summary before sharing the report.');
  const diagnoses = await db.diagnoses.bulkGet(current.diagnosisIds);
  if (diagnoses.some((d) => d && !d.deleted && !d.assessment)) {
    throw new Error('Give your assessment of every model result in the report before sharing it.');
  }
  // Shared again after a return: a new sharedAt is what makes the server count a new revision.
  return writeRecord(db, 'reports', {
    ...touched(current, author, now),
    status: 'shared',
    sharedBy: author.userId,
    sharedAt: returned ? reshareTime(latestReview(reviews)?.createdAt, now) : now.toISOString(),
  });
}

export function getReport(db: FieldDxDatabase, id: string) {
  return db.reports.get(id);
}

export async function listReports(db: FieldDxDatabase, patientId: string): Promise<Report[]> {
  const rows = await db.reports.where('patientId').equals(patientId).toArray();
  return rows.filter((r) => !r.deleted).sort((a, b) => b.id.localeCompare(a.id));
}

export function deleteReport(db: FieldDxDatabase, id: string, author: Author, now = new Date()) {
  return setDeleted(db, 'reports', id, true, author, now);
}

export { listReviews };

export function restoreReport(db: FieldDxDatabase, id: string, author: Author, now = new Date()) {
  return setDeleted(db, 'reports', id, false, author, now);
}

/** A draft with nothing written in it (the preselected visit and results are not input). */
export function isBlankDraft(report: Pick<ReportFields, 'status' | 'summary' | 'plan'>): boolean {
  return report.status === 'draft' && !report.summary.trim() && !report.plan.trim();
}
