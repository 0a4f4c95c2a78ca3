import {
  makeTestApp,
  ORIGIN,
  withAdmin,
  type TestApp,
  type TestClient,
} from 'sync-server/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { syncOnce } from '$lib/sync/engine';
import { httpTransport, type SyncTransport } from '$lib/sync/transport';
import { localReviewState } from '$lib/domain/review';
import type { FieldDxDatabase } from './database';
import { createPatient } from './patients';
import { createReport, shareReport } from './reports';
import { addComment, listComments, listReviews, returnedReports, writeReview } from './review';
import { freshDatabase, patientFields } from './test-db';

function transportFor(app: TestApp, client: TestClient) {
  return httpTransport('http://localhost', async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', ORIGIN);
    if (client.token) headers.set('cookie', `fdx_session=${client.token}`);
    return app.request(String(input), { ...init, headers });
  });
}

/** A transport whose connection is down: every request fails as fetch does offline. */
const offline: SyncTransport = httpTransport('http://localhost', async () => {
  throw new TypeError('Failed to fetch');
});

const databases: FieldDxDatabase[] = [];
function device() {
  const db = freshDatabase();
  databases.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.delete()));
});

describe('the review loop through the real server', () => {
  it('keeps a supervisor’s review through a dropped connection and brings it, and the answer, across', async () => {
    const server = await makeTestApp();
    const admin = await withAdmin(server.app);
    const clin = await admin.member('clin@example.org');
    const sup = await admin.member('sup@example.org', 'supervisor', clin.teamId);
    const clinician = { userId: clin.id, teamId: clin.teamId, name: 'Cleo' };
    const supervisor = { userId: sup.id, teamId: clin.teamId, name: 'Sam' };
    const tablet = device();
    const desk = device();
    const tabletLink = transportFor(server.app, clin.client);
    const deskLink = transportFor(server.app, sup.client);

    const patient = await createPatient(tablet, patientFields(), clinician);
    const report = await createReport(
      tablet,
      patient.id,
      { encounterId: null, diagnosisIds: [], summary: 'Cough', plan: '' },
      clinician,
    );
    await shareReport(tablet, report.id, clinician);
    await syncOnce(tablet, tabletLink);
    expect((await tablet.reports.get(report.id))?.revision).toBe(1);

    // The supervisor returns it while the connection is down: nothing is lost.
    await writeReview(
      desk,
      { reportId: report.id, revision: 1, decision: 'returned', comment: 'Add SpO2', verdicts: [] },
      supervisor,
    );
    await expect(syncOnce(desk, offline)).rejects.toThrow();
    expect(await desk.outbox.count()).toBe(1);
    await syncOnce(desk, deskLink);
    expect(await desk.outbox.count()).toBe(0);

    // The tablet sees it returned after its sync, and answers offline.
    await syncOnce(tablet, tabletLink);
    const reviews = await listReviews(tablet, report.id);
    expect(reviews.map((r) => [r.decision, r.comment, r.authorName])).toEqual([
      ['returned', 'Add SpO2', expect.any(String)],
    ]);
    expect(localReviewState((await tablet.reports.get(report.id))!, reviews)).toBe('returned');
    expect(await returnedReports(tablet, clinician.userId)).toHaveLength(1);
    await addComment(tablet, report, 'SpO2 was 91 %', clinician, 'clinician');
    await expect(syncOnce(tablet, offline)).rejects.toThrow();
    await syncOnce(tablet, tabletLink);
    await syncOnce(desk, deskLink);
    expect((await listComments(desk, report.id)).map((c) => c.body)).toEqual(['SpO2 was 91 %']);

    // Shared again: a new revision on the server.
    await shareReport(tablet, report.id, clinician);
    await syncOnce(tablet, tabletLink);
    expect((await tablet.reports.get(report.id))?.revision).toBe(2);
    expect(await returnedReports(tablet, clinician.userId)).toHaveLength(0);
  });
});
