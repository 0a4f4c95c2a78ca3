import Dexie from 'dexie';
import type { Author, Comment, Followup, Report, Review } from '$lib/domain/records';
import { isoDate, localReviewState } from '$lib/domain/review';
import type { FieldDxDatabase } from './database';
import { newId, touched, writeRecord } from './records';

const byCreation = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
  a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

/** Supervisors' reviews of a report, oldest first (they arrive by sync). */
export async function listReviews(db: FieldDxDatabase, reportId: string): Promise<Review[]> {
  const rows = await db.reviews.where('reportId').equals(reportId).toArray();
  return rows.filter((r) => !r.deleted).sort(byCreation);
}

/** A report's thread, oldest first. */
export async function listComments(db: FieldDxDatabase, reportId: string): Promise<Comment[]> {
  const rows = await db.comments.where('reportId').equals(reportId).toArray();
  return rows.filter((c) => !c.deleted).sort(byCreation);
}

/** Adds a message to a report's thread; it waits in the outbox until the next sync. */
export async function addComment(
  db: FieldDxDatabase,
  report: Pick<Report, 'id' | 'teamId'>,
  body: string,
  author: Author & { name: string },
  role: 'clinician' | 'supervisor',
  now = new Date(),
): Promise<Comment> {
  const text = body.trim();
  if (!text) throw new Error('Write a comment first.');
  return writeRecord(db, 'comments', {
    id: newId(),
    teamId: report.teamId,
    version: 0,
    updatedAt: now.toISOString(),
    updatedBy: author.userId,
    deleted: false,
    reportId: report.id,
    body: text,
    createdAt: now.toISOString(),
    authorId: author.userId,
    authorName: author.name,
    authorRole: role,
  });
}

/**
 * The clinician's report: they wrote it or shared its current revision. Whoever edited it last
 * does not matter (a colleague's edit of a returned report leaves it to its clinician). A report
 * from before authorId and sharedBy were recorded falls back to its last editor.
 */
export function isClinicianReport(report: Report, userId: string): boolean {
  if (report.authorId === undefined && report.sharedBy === undefined) {
    return report.updatedBy === userId;
  }
  return report.authorId === userId || report.sharedBy === userId;
}

/** Reports this clinician wrote or shared that a supervisor returned and that wait for a correction. */
export async function returnedReports(db: FieldDxDatabase, userId: string): Promise<Report[]> {
  const returned = await db.reviews.filter((r) => r.decision === 'returned').toArray();
  const ids = [...new Set(returned.map((r) => r.reportId))];
  const reports = (await db.reports.bulkGet(ids)).filter(
    (r): r is Report => !!r && !r.deleted && isClinicianReport(r, userId),
  );
  const out: Report[] = [];
  for (const report of reports) {
    const reviews = returned.filter((r) => r.reportId === report.id);
    if (localReviewState(report, reviews) === 'returned') out.push(report);
  }
  return out.sort((a, b) => (b.sharedAt ?? '').localeCompare(a.sharedAt ?? ''));
}

export function openFollowups(db: FieldDxDatabase): Promise<Followup[]> {
  return db.followups
    .where('status')
    .equals('open')
    .filter((f) => !f.deleted)
    .toArray();
}

export async function listFollowups(db: FieldDxDatabase): Promise<Followup[]> {
  return (await db.followups.toArray()).filter((f) => !f.deleted);
}

export async function patientFollowups(db: FieldDxDatabase, patientId: string) {
  const rows = await db.followups.where('patientId').equals(patientId).toArray();
  return rows.filter((f) => !f.deleted);
}

/** The menu badge: returned reports to correct plus open follow-ups. */
export async function attentionCount(db: FieldDxDatabase, userId: string): Promise<number> {
  const [returned, open] = await Promise.all([
    returnedReports(db, userId),
    db.followups.where('status').equals('open').count(),
  ]);
  return returned.length + open;
}

/** Closes a follow-up with the encounter that followed the patient up. */
export async function closeFollowup(
  db: FieldDxDatabase,
  id: string,
  encounterId: string,
  author: Author,
  now = new Date(),
): Promise<Followup> {
  const current = await db.followups.get(id);
  if (!current) throw new Error('This follow-up is no longer on this device.');
  if (current.status !== 'open') return current;
  const encounter = await db.encounters.get(encounterId);
  if (!encounter || encounter.deleted || encounter.patientId !== current.patientId) {
    throw new Error('Record a visit of this patient first.');
  }
  return writeRecord(db, 'followups', {
    ...touched(current, author, now),
    status: 'done',
    doneEncounterId: encounterId,
    doneAt: now.toISOString(),
  });
}

/** A supervisor's request for a follow-up; written on the device, sent by sync. */
export async function requestFollowup(
  db: FieldDxDatabase,
  fields: { patientId: string; reportId: string | null; reason: string; dueDate: string },
  author: Author & { name: string },
  now = new Date(),
): Promise<Followup> {
  const reason = fields.reason.trim();
  if (!reason) throw new Error('Say why the patient needs a follow-up.');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(fields.dueDate)) throw new Error('Give a due date.');
  if (fields.dueDate < isoDate(now)) throw new Error('The due date cannot be in the past.');
  return writeRecord(db, 'followups', {
    id: newId(),
    teamId: author.teamId,
    version: 0,
    updatedAt: now.toISOString(),
    updatedBy: author.userId,
    deleted: false,
    patientId: fields.patientId,
    reportId: fields.reportId,
    reason,
    dueDate: fields.dueDate,
    status: 'open',
    doneEncounterId: null,
    doneAt: null,
    createdAt: now.toISOString(),
    createdBy: author.userId,
    createdByName: author.name,
  });
}

/** A supervisor's review of one report revision; written on the device, sent by sync. */
export async function writeReview(
  db: FieldDxDatabase,
  fields: Pick<Review, 'reportId' | 'revision' | 'decision' | 'comment' | 'verdicts'>,
  author: Author & { name: string },
  now = new Date(),
): Promise<Review> {
  if (fields.decision === 'returned' && !fields.comment.trim()) {
    throw new Error('Say in the comment what to correct before returning the report.');
  }
  return writeRecord(db, 'reviews', {
    id: newId(),
    teamId: author.teamId,
    version: 0,
    updatedAt: now.toISOString(),
    updatedBy: author.userId,
    deleted: false,
    ...fields,
    comment: fields.comment.trim(),
    createdAt: now.toISOString(),
    authorId: author.userId,
    authorName: author.name,
  });
}

/** Where a record written here stands with the server. */
export type SendState = { kind: 'waiting' } | { kind: 'refused'; reason: string };

/**
 * Records of these tables with an edit still on this device: waiting to send, or refused by the
 * server (with its reason). A record absent from the map has reached the server.
 */
export async function sendStates(
  db: FieldDxDatabase,
  tables: readonly ('reviews' | 'comments' | 'followups')[],
): Promise<Map<string, SendState>> {
  const states = new Map<string, SendState>();
  const sorted = [...tables].sort();
  const rows = await db.outbox
    .where('[table+recordId]')
    .between([sorted[0], Dexie.minKey], [sorted[sorted.length - 1], Dexie.maxKey])
    .toArray();
  for (const row of rows) {
    if (!tables.includes(row.table as (typeof tables)[number])) continue;
    states.set(
      row.recordId,
      row.rejected ? { kind: 'refused', reason: row.rejected.reason } : { kind: 'waiting' },
    );
  }
  return states;
}

/** The reviews, comments and follow-ups of one report written on this device. */
export async function localReviewRecords(db: FieldDxDatabase, reportId: string) {
  const [reviews, comments, followups] = await Promise.all([
    listReviews(db, reportId),
    listComments(db, reportId),
    db.followups.filter((f) => f.reportId === reportId).toArray(),
  ]);
  return { reviews, comments, followups };
}
