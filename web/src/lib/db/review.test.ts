import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from './database';
import { startEncounter } from './encounters';
import { createPatient } from './patients';
import { createReport, isEditable, shareReport, updateReport } from './reports';
import {
  addComment,
  attentionCount,
  closeFollowup,
  listComments,
  requestFollowup,
  returnedReports,
  writeReview,
} from './review';
import { freshDatabase, patientFields } from './test-db';
import { closingEncounter, localReviewState, sortFollowups } from '$lib/domain/review';

const clinician = { userId: 'u-clin', teamId: 't1', name: 'Cleo' };
const supervisor = { userId: 'u-sup', teamId: 't1', name: 'Sam' };
let db: FieldDxDatabase;
beforeEach(() => {
  db = freshDatabase();
});
afterEach(async () => {
  await db.delete();
});

async function sharedReport(at: Date) {
  const patient = await createPatient(db, patientFields(), clinician);
  const report = await createReport(
    db,
    patient.id,
    { encounterId: null, diagnosisIds: [], summary: 'Cough', plan: '' },
    clinician,
    at,
  );
  await shareReport(db, report.id, clinician, at);
  // As the server sends it back: revision 1.
  await db.reports.update(report.id, { revision: 1, version: 2 });
  return { patient, report: (await db.reports.get(report.id))! };
}

describe('a returned report on the tablet', () => {
  it('is returned after a return, editable, shared again as awaiting, and no longer editable', async () => {
    const { report } = await sharedReport(new Date('2026-03-01T10:00:00Z'));
    expect(localReviewState(report, [])).toBe('awaiting');
    expect(await isEditable(db, report)).toBe(false);
    await expect(
      updateReport(db, report.id, { ...report, summary: 'changed' }, clinician),
    ).rejects.toThrow(/can no longer be edited/);

    // The supervisor's clock is ahead of the tablet's: the re-share still counts as later.
    await writeReview(
      db,
      { reportId: report.id, revision: 1, decision: 'returned', comment: 'Add SpO2', verdicts: [] },
      supervisor,
      new Date('2026-03-01T12:00:00Z'),
    );
    expect(await returnedReports(db, clinician.userId)).toHaveLength(1);
    expect(await attentionCount(db, clinician.userId)).toBe(1);
    expect(await isEditable(db, report)).toBe(true);
    await updateReport(db, report.id, { ...report, summary: 'Cough, SpO2 91%' }, clinician);
    const again = await shareReport(db, report.id, clinician, new Date('2026-03-01T11:00:00Z'));
    expect(again.sharedAt! > '2026-03-01T12:00:00.000Z').toBe(true);
    expect(await returnedReports(db, clinician.userId)).toHaveLength(0);
    expect(await isEditable(db, again)).toBe(false);

    // Once the server gives it revision 2, an approval of revision 2 makes it approved.
    await db.reports.update(report.id, { revision: 2 });
    await writeReview(
      db,
      { reportId: report.id, revision: 2, decision: 'approved', comment: '', verdicts: [] },
      supervisor,
    );
    const reviews = await db.reviews.toArray();
    expect(localReviewState((await db.reports.get(report.id))!, reviews)).toBe('approved');
  });

  it("counts in the badge the clinician's returned reports, whoever edited them last", async () => {
    const colleague = { userId: 'u-colleague', teamId: 't1', name: 'Cato' };
    const { report } = await sharedReport(new Date('2026-03-01T10:00:00Z'));
    const theirs = await sharedReport(new Date('2026-03-01T10:05:00Z'));
    // A colleague's own report on the same tablet is not this clinician's to correct.
    await db.reports.update(theirs.report.id, {
      authorId: colleague.userId,
      sharedBy: colleague.userId,
      updatedBy: colleague.userId,
    });
    for (const id of [report.id, theirs.report.id]) {
      await writeReview(
        db,
        { reportId: id, revision: 1, decision: 'returned', comment: 'Add SpO2', verdicts: [] },
        supervisor,
        new Date('2026-03-01T12:00:00Z'),
      );
    }
    // The colleague touches the clinician's returned report (last editor), without sharing it.
    const { encounterId, diagnosisIds, summary } = report;
    await updateReport(
      db,
      report.id,
      { encounterId, diagnosisIds, summary, plan: 'Amoxicillin' },
      colleague,
    );
    expect((await db.reports.get(report.id))!.updatedBy).toBe(colleague.userId);

    expect((await returnedReports(db, clinician.userId)).map((r) => r.id)).toEqual([report.id]);
    expect(await attentionCount(db, clinician.userId)).toBe(1);
    expect((await returnedReports(db, colleague.userId)).map((r) => r.id)).toEqual([
      theirs.report.id,
    ]);
  });

  it('refuses a return without a comment', async () => {
    await expect(
      writeReview(
        db,
        { reportId: 'r', revision: 1, decision: 'returned', comment: '  ', verdicts: [] },
        supervisor,
      ),
    ).rejects.toThrow(/what to correct/);
  });

  it('keeps a clinician answer in the outbox until sync', async () => {
    const { report } = await sharedReport(new Date());
    await addComment(db, report, '  SpO2 was 91%  ', clinician, 'clinician');
    const thread = await listComments(db, report.id);
    expect(thread.map((c) => [c.body, c.authorRole])).toEqual([['SpO2 was 91%', 'clinician']]);
    expect(
      await db.outbox.where('[table+recordId]').equals(['comments', thread[0]!.id]).count(),
    ).toBe(1);
    await expect(addComment(db, report, ' ', clinician, 'clinician')).rejects.toThrow();
  });
});

describe('follow-ups', () => {
  it('close only with a visit of the same patient, and sort overdue first', async () => {
    const { patient } = await sharedReport(new Date());
    const now = new Date('2026-03-10T08:00:00Z');
    await expect(
      requestFollowup(
        db,
        { patientId: patient.id, reportId: null, reason: 'Recheck', dueDate: '2026-03-09' },
        supervisor,
        now,
      ),
    ).rejects.toThrow(/past/);
    const followup = await requestFollowup(
      db,
      { patientId: patient.id, reportId: null, reason: 'Recheck SpO2', dueDate: '2026-03-12' },
      supervisor,
      now,
    );
    expect(await attentionCount(db, clinician.userId)).toBe(1);
    const other = await createPatient(db, patientFields({ givenName: 'Other' }), clinician);
    const elsewhere = await startEncounter(db, other.id, clinician);
    await expect(closeFollowup(db, followup.id, elsewhere.id, clinician)).rejects.toThrow(
      /visit of this patient/,
    );
    const visit = await startEncounter(db, patient.id, clinician);
    const done = await closeFollowup(db, followup.id, visit.id, clinician);
    expect(done).toMatchObject({ status: 'done', doneEncounterId: visit.id });
    expect(await attentionCount(db, clinician.userId)).toBe(0);

    const list = sortFollowups(
      [
        { id: 'a', dueDate: '2026-03-20', status: 'open' },
        { id: 'b', dueDate: '2026-03-01', status: 'done' },
        { id: 'c', dueDate: '2026-03-02', status: 'open' },
        { id: 'd', dueDate: '2026-03-11', status: 'open' },
      ] as const,
      '2026-03-10',
    );
    expect(list.map((f) => f.id)).toEqual(['c', 'd', 'a', 'b']);
  });
});

describe('closingEncounter', () => {
  it('takes only a visit recorded after the request', () => {
    const asked = { createdAt: '2026-03-10T08:00:00.000Z' };
    // UUIDv7 ids: 0x019d... ms timestamps before and after the request.
    const before = Date.parse('2026-03-10T07:00:00.000Z').toString(16).padStart(12, '0');
    const after = Date.parse('2026-03-10T09:00:00.000Z').toString(16).padStart(12, '0');
    const id = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
    const earlier = { id: id(before), date: '2026-03-10', deleted: false };
    const later = { id: id(after), date: '2026-03-10', deleted: false };
    expect(closingEncounter(asked, [earlier])).toBeUndefined();
    expect(closingEncounter(asked, [earlier, later])).toBe(later);
    expect(closingEncounter(asked, [{ ...later, deleted: true }])).toBeUndefined();
  });
});
