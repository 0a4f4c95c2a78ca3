/**
 * A clinician removed from a team, as their tablet sees it (docs/architecture.md §3, §4): the next
 * push of the team's records is refused per mutation (`forbidden`) and kept in the outbox; the next
 * pull answers `reset`, so every synced record of the team without a pending edit, and the images
 * only those referenced, leave the tablet; nothing of the team comes back, its images are not
 * served, and the server kept none of the refused edits. Added again, the tablet pulls it all back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadAllAttachments, saveAttachment } from '$lib/db/attachments';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient, getPatient, updatePatient } from '$lib/db/patients';
import { freshDatabase, patientFields, asKnown } from '$lib/db/test-db';
import { syncOnce } from './engine';
import { teamOnServer, type TestUser } from './test-server';

let databases: FieldDxDatabase[] = [];
function device() {
  const db = freshDatabase();
  databases.push(db);
  return db;
}
beforeEach(() => {
  databases = [];
});
afterEach(async () => {
  await Promise.all(databases.map((db) => db.delete()));
});

describe('a clinician removed from their team', () => {
  it("loses the team's records on the next sync, keeps only their refused edits, and gets them back when re-added", async () => {
    const { admin, teamId, users } = await teamOnServer(2);
    const [a, b] = users as [TestUser, TestUser];
    const tabletA = device();
    const tabletB = device();
    const kept = await createPatient(tabletA, patientFields({ givenName: 'Awa' }), a.author);
    const other = await createPatient(tabletA, patientFields({ givenName: 'Binta' }), a.author);
    const bytes = new Uint8Array([137, 80, 78, 71, 3, 1]);
    const image = await saveAttachment(
      tabletA,
      other.id,
      new Blob([bytes], { type: 'image/png' }),
      { width: 1, height: 1 },
      a.author,
    );
    await syncOnce(tabletA, a.transport);
    await syncOnce(tabletB, b.transport);
    expect(await downloadAllAttachments(tabletB, b.transport.getBlob)).toBe(1);
    expect(await tabletB.patients.count()).toBe(2);

    // Offline, B edits one patient; meanwhile the admin removes B from the team.
    await updatePatient(
      tabletB,
      kept.id,
      patientFields({ givenName: 'Awa', phone: '777' }),
      b.author,
    );
    const removed = await admin.admin.delete(
      `/api/admin/teams/${teamId}/members/${b.author.userId}`,
    );
    expect(removed.status).toBe(204);

    const summary = await syncOnce(tabletB, b.transport);
    // The push: refused, not applied, and the edit waits on the tablet (nothing is silently lost).
    expect(summary.applied).toBe(0);
    expect(summary.rejected).toEqual([
      { recordId: kept.id, table: 'patients', reason: expect.any(String) },
    ]);
    const [waiting] = await tabletB.outbox.toArray();
    expect(waiting).toMatchObject({ recordId: kept.id, rejected: { code: 'forbidden' } });
    // The pull: a reset, then nothing of the team. Only the record with the refused edit stays.
    expect(await getPatient(tabletB, kept.id)).toMatchObject({ phone: '777' });
    expect(await tabletB.patients.get(other.id)).toBeUndefined();
    expect(await tabletB.attachments.count()).toBe(0);
    expect(await tabletB.blobs.count()).toBe(0);
    await expect(b.transport.getBlob(image.sha256)).rejects.toMatchObject({ status: 404 });
    const again = await syncOnce(tabletB, b.transport);
    expect(again).toMatchObject({ pulled: 0, applied: 0 });

    // A new edit of the team's record is refused too; the server never took one.
    const fresh = await createPatient(tabletB, patientFields({ givenName: 'New' }), b.author);
    const third = await syncOnce(tabletB, b.transport);
    expect(third.rejected.map((r) => r.recordId)).toEqual([fresh.id]);
    await syncOnce(tabletA, a.transport);
    expect(await asKnown(tabletA, 'patients', await getPatient(tabletA, kept.id))).toMatchObject({
      phone: '',
      version: 1,
    });
    expect(await tabletA.patients.get(fresh.id)).toBeUndefined();

    // Added back: the next pull starts over and brings the team's records again.
    const back = await admin.admin.post(`/api/admin/teams/${teamId}/members`, {
      userId: b.author.userId,
      role: 'clinician',
    });
    expect(back.status).toBe(200);
    await syncOnce(tabletB, b.transport);
    expect(await tabletB.patients.get(other.id)).toMatchObject({ givenName: 'Binta' });
    expect(await tabletB.attachments.count()).toBe(1);
    expect(await downloadAllAttachments(tabletB, b.transport.getBlob)).toBe(1);
  });
});
