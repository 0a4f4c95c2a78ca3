import type { PullChange } from 'sync-server/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from '$lib/db/database';
import { saveAttachment } from '$lib/db/attachments';
import { createPatient, getPatient } from '$lib/db/patients';
import { recordVersions } from '$lib/db/versions';
import { freshDatabase, patientFields } from '$lib/db/test-db';
import { newMeta } from '$lib/domain/records';
import { applyPullPage, dropForReset, readCursor } from './apply';

const author = { userId: 'user-2', teamId: 'team-1' };
const registered = new Date('2026-01-10T09:00:00Z');
let db: FieldDxDatabase;
let seq = 0;

beforeEach(() => {
  db = freshDatabase();
});
afterEach(async () => {
  await db.delete();
});

function change(table: PullChange['table'], record: Record<string, unknown>): PullChange {
  const id = record.id as string;
  return { table, id, version: 1, seq: ++seq, deleted: record.deleted === true, record };
}
const patient = (id: string) =>
  change('patients', { ...newMeta(id, author, registered), version: 1, ...patientFields() });
const visit = (id: string, patientId: string, date: string, deleted = false) =>
  change('encounters', {
    ...newMeta(id, author, registered),
    version: 1,
    deleted,
    patientId,
    date,
  });

describe('applyPullPage: where patients sort', () => {
  it('gives a patient arriving with its visits the latest of them; deleted visits do not count', async () => {
    await applyPullPage(
      db,
      [
        patient('p1'),
        visit('e1', 'p1', '2026-02-01'),
        visit('e2', 'p1', '2026-03-05'),
        visit('e3', 'p1', '2026-04-01', true),
        patient('p2'),
      ],
      5,
    );
    expect((await getPatient(db, 'p1'))?.lastVisitAt).toBe('2026-03-05T23:59:59.999Z');
    expect((await getPatient(db, 'p2'))?.lastVisitAt).toBe(registered.toISOString());
  });

  it('moves a patient already on the device up to a visit pulled later, never down', async () => {
    const mine = await createPatient(db, patientFields(), author, new Date('2026-05-01T08:00:00Z'));
    await applyPullPage(db, [visit('e1', mine.id, '2026-06-02')], 1);
    expect((await getPatient(db, mine.id))?.lastVisitAt).toBe('2026-06-02T23:59:59.999Z');
    await applyPullPage(db, [visit('e2', mine.id, '2026-05-20')], 2);
    expect((await getPatient(db, mine.id))?.lastVisitAt).toBe('2026-06-02T23:59:59.999Z');
  });
});

describe('applyPullPage: the records the device holds', () => {
  it('finds them however the page orders their ids and whatever else lies between them', async () => {
    const held = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await applyPullPage(db, held.map(patient), 1);
    // The device holds p19 and p00 at this version (skipped); p05x is new to it.
    expect(await applyPullPage(db, [patient('p19'), patient('p00'), patient('p05x')], 2)).toEqual({
      applied: 1,
      skipped: 2,
    });
    expect(await applyPullPage(db, [patient('p03'), patient('p04')], 3)).toEqual({
      applied: 0,
      skipped: 2,
    });
  });

  it('sorts a patient by its latest visit whatever the order they arrive in, never before its last edit', async () => {
    const edited = change('patients', {
      ...newMeta('p1', author, new Date('2026-05-01T08:00:00Z')),
      version: 1,
      ...patientFields(),
    });
    await applyPullPage(
      db,
      [edited, visit('e2', 'p1', '2026-04-02'), visit('e1', 'p1', '2026-03-01'), patient('p2')],
      4,
    );
    expect((await getPatient(db, 'p1'))?.lastVisitAt).toBe('2026-05-01T08:00:00.000Z');
    await applyPullPage(
      db,
      [patient('p3'), visit('e3', 'p3', '2026-04-02'), visit('e4', 'p3', '2026-03-01')],
      5,
    );
    expect((await getPatient(db, 'p3'))?.lastVisitAt).toBe('2026-04-02T23:59:59.999Z');
  });
});

describe('dropForReset: the user may see other records now', () => {
  it('removes every synced record and image without a waiting edit, and keeps those with one', async () => {
    await applyPullPage(db, [patient('p1'), visit('e1', 'p1', '2026-02-01'), patient('p2')], 3);
    await db.blobs.put({ sha256: 'a'.repeat(64), bytes: new Uint8Array([1]), mime: 'image/png' });
    const mine = await createPatient(db, patientFields({ givenName: 'Mine' }), author);

    expect(await dropForReset(db)).toBe(3);
    expect((await db.patients.toArray()).map((p) => p.id)).toEqual([mine.id]);
    expect(await db.encounters.count()).toBe(0);
    expect(await db.blobs.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    expect(await readCursor(db)).toBe(0);
  });

  it('keeps the image of a record with a waiting edit, and forgets the pushed versions of what left', async () => {
    await applyPullPage(db, [patient('p1'), patient('p2')], 2);
    const mine = await createPatient(db, patientFields({ givenName: 'Mine' }), author);
    const blob = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
    const image = await saveAttachment(db, mine.id, blob, { width: 1, height: 1 }, author);
    await db.blobs.put({ sha256: 'b'.repeat(64), bytes: new Uint8Array([9]), mime: 'image/png' });
    await recordVersions(
      db,
      'patients',
      new Map([
        ['p1', 4],
        [mine.id, 2],
      ]),
    );

    await dropForReset(db);
    expect((await db.blobs.toCollection().primaryKeys()) as string[]).toEqual([image.sha256]);
    expect(await db.pushedVersions.toArray()).toEqual([
      { table: 'patients', id: mine.id, version: 2 },
    ]);
  });
});
