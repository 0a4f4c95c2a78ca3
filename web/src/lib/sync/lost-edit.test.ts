/**
 * The two guards that keep an edit from being lost on the device (issue 13, "Tests that would
 * not catch a lost edit"): a push answer that changed the record is rebased under an edit made
 * while it was in flight, and a pull never overwrites a record with a pending edit or a newer
 * version. Each test here goes red when its guard is removed.
 */
import type { MutationResult, PullChange } from 'sync-server/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient, getPatient, updatePatient } from '$lib/db/patients';
import { freshDatabase, patientFields } from '$lib/db/test-db';
import { recordVersions } from '$lib/db/versions';
import { applyPullPage, applyPushResults, readAcked } from './apply';
import { rebase } from './rebase';

const author = { userId: 'user-1', teamId: 'team-1' };
let db: FieldDxDatabase;
beforeEach(() => {
  db = freshDatabase();
});
afterEach(async () => {
  await db.delete();
});

describe('rebase', () => {
  it("keeps the device's fields changed since it sent, and the server's everywhere else", () => {
    const sent = { a: 1, b: 1, nested: { x: 1 } };
    const local = { a: 1, b: 2, nested: { x: 2 } };
    const server = { a: 9, b: 1, c: 3, nested: { x: 1 } };
    expect(rebase(sent, local, server)).toEqual({ a: 9, b: 2, c: 3, nested: { x: 2 } });
  });

  it('keeps a field the device removed since it sent', () => {
    expect(rebase({ a: 1, b: 1 }, { a: 1 }, { a: 1, b: 5 })).toEqual({ a: 1, b: undefined });
  });
});

describe('a push answer that changed the record, while the user kept editing', () => {
  it.each(['merged', 'conflict'] as const)(
    '%s: the newer local edit survives, on top of the server record',
    async (status) => {
      const created = await createPatient(db, patientFields(), author);
      const sent = await db.outbox.toArray();
      expect(sent).toHaveLength(1);
      // Edited again while the push was in flight.
      await updatePatient(db, created.id, patientFields({ phone: '+223 555 0101' }), author);
      const server = { ...sent[0]!.data, village: 'Bamako', version: 2 };
      const result: MutationResult =
        status === 'merged'
          ? { mutationId: sent[0]!.mutationId, status, version: 2, record: server }
          : {
              mutationId: sent[0]!.mutationId,
              status,
              version: 2,
              record: server,
              conflictId: 'c1',
              fields: ['village'],
            };
      await applyPushResults(db, sent, [result]);

      const local = await getPatient(db, created.id);
      expect(local).toMatchObject({ phone: '+223 555 0101', village: 'Bamako', version: 2 });
      const [waiting] = await db.outbox.toArray();
      expect(waiting).toMatchObject({ recordId: created.id, baseVersion: 2 });
      expect(waiting!.data).toMatchObject({ phone: '+223 555 0101', village: 'Bamako' });
    },
  );
});

describe('a pull while the outbox holds an edit', () => {
  const pulled = (record: Record<string, unknown>, version: number, seq: number): PullChange => ({
    table: 'patients',
    id: record.id as string,
    version,
    seq,
    deleted: false,
    record: { ...record, version },
  });

  it('never overwrites a record with a pending edit, even with a newer version', async () => {
    const created = await createPatient(db, patientFields({ phone: '111' }), author);
    const { skipped } = await applyPullPage(
      db,
      [pulled({ ...created, phone: '222', village: 'Kayes' }, 5, 1)],
      1,
    );
    expect(skipped).toBe(1);
    expect(await getPatient(db, created.id)).toMatchObject({ phone: '111', village: 'Ségou' });
    expect(await db.outbox.count()).toBe(1);
  });

  it('never replaces a newer or equal local version, and takes an older one forward', async () => {
    const newer = await createPatient(db, patientFields({ phone: '333' }), author);
    const older = await createPatient(db, patientFields({ phone: '111' }), author);
    await db.outbox.clear(); // both backed up
    await db.patients.update(newer.id, { version: 3 });
    await db.patients.update(older.id, { version: 1 });
    await applyPullPage(
      db,
      [
        pulled({ ...newer, phone: '222' }, 2, 1),
        pulled({ ...newer, phone: '3333' }, 3, 2),
        pulled({ ...older, phone: '2222' }, 2, 3),
      ],
      3,
    );
    expect(await getPatient(db, newer.id)).toMatchObject({ phone: '333', version: 3 });
    expect(await getPatient(db, older.id)).toMatchObject({ phone: '2222', version: 2 });
  });

  it('counts a version learnt from a push answer (kept beside the record) as the local one', async () => {
    const mine = await createPatient(db, patientFields({ phone: '333' }), author);
    await db.outbox.clear(); // backed up; the answer gave it version 3, the record still says 0
    await recordVersions(db, 'patients', new Map([[mine.id, 3]]));
    await applyPullPage(db, [pulled({ ...mine, phone: '222' }, 2, 1)], 1);
    expect(await getPatient(db, mine.id)).toMatchObject({ phone: '333' });
    // The next edit starts from the learnt version, and takes it into the record.
    const edited = await updatePatient(db, mine.id, patientFields({ phone: '444' }), author);
    expect(edited.version).toBe(3);
    expect(await db.outbox.toArray()).toMatchObject([{ recordId: mine.id, baseVersion: 3 }]);
  });
});

describe('recording push answers (found by mutation testing, docs/mutation-testing.md)', () => {
  const merged = (row: { mutationId: string; data: Record<string, unknown> }, version: number) => ({
    mutationId: row.mutationId,
    status: 'merged' as const,
    version,
    record: { ...row.data, village: 'Bamako', version },
  });
  const rejected = (row: { mutationId: string }) => ({
    mutationId: row.mutationId,
    status: 'rejected' as const,
    code: 'forbidden' as const,
    reason: 'not your team',
  });

  it('an empty batch records nothing', async () => {
    expect(await applyPushResults(db, [], [])).toEqual({
      applied: 0,
      merged: 0,
      conflicts: 0,
      rejected: [],
    });
  });

  it('a merged row leaves the outbox when another row of the batch is refused', async () => {
    const a = await createPatient(db, patientFields({ givenName: 'A' }), author);
    const b = await createPatient(db, patientFields({ givenName: 'B' }), author);
    const sent = await db.outbox.toArray();
    const outcome = await applyPushResults(db, sent, [merged(sent[0]!, 2), rejected(sent[1]!)]);
    expect(outcome).toMatchObject({ merged: 1, rejected: [{ recordId: b.id }] });
    const left = await db.outbox.toArray();
    expect(left.map((r) => r.recordId)).toEqual([b.id]);
    expect(await getPatient(db, a.id)).toMatchObject({ village: 'Bamako', version: 2 });
  });

  it('a refused row the user edited again meanwhile: the newer edit waits, not marked refused', async () => {
    const created = await createPatient(db, patientFields(), author);
    const sent = await db.outbox.toArray();
    await updatePatient(db, created.id, patientFields({ phone: '999' }), author);
    const outcome = await applyPushResults(db, sent, [rejected(sent[0]!)]);
    expect(outcome.rejected).toEqual([
      { recordId: created.id, table: 'patients', reason: 'not your team' },
    ]);
    const [waiting] = await db.outbox.toArray();
    expect(waiting).toMatchObject({ recordId: created.id, data: { phone: '999' } });
    expect(waiting!.rejected).toBeUndefined();
  });

  it("a merged answer keeps the patient's device-only fields (its place in the list)", async () => {
    const created = await createPatient(db, patientFields(), author);
    const sent = await db.outbox.toArray();
    await db.patients.update(created.id, { lastVisitAt: '2030-01-01T23:59:59.999Z' });
    await applyPushResults(db, sent, [merged(sent[0]!, 2)]);
    expect(await getPatient(db, created.id)).toMatchObject({
      village: 'Bamako',
      lastVisitAt: '2030-01-01T23:59:59.999Z',
    });
  });

  it('a merged answer for a record no longer on the device stores the server record', async () => {
    const created = await createPatient(db, patientFields(), author);
    const sent = await db.outbox.toArray();
    await db.patients.delete(created.id);
    await applyPushResults(db, sent, [merged(sent[0]!, 2)]);
    expect(await getPatient(db, created.id)).toMatchObject({ village: 'Bamako', version: 2 });
  });

  it('a pull page says how many records it stored', async () => {
    const stored = await createPatient(db, patientFields(), author);
    await db.outbox.clear();
    const change: PullChange = {
      table: 'patients',
      id: stored.id,
      version: 4,
      seq: 9,
      deleted: false,
      record: { ...stored, phone: '1', version: 4 },
    };
    expect(await applyPullPage(db, [change], 9)).toEqual({ applied: 1, skipped: 0 });
    expect(await applyPullPage(db, [change], 9)).toEqual({ applied: 0, skipped: 1 });
  });
});

describe('recording a batch of push answers', () => {
  const applied = (row: { mutationId: string }, version: number, seq?: number): MutationResult => ({
    mutationId: row.mutationId,
    status: 'applied',
    version,
    ...(seq === undefined ? {} : { seq }),
  });

  it('removes the acknowledged rows and keeps a refused one among them, not sent again as is', async () => {
    for (const givenName of ['Awa', 'Binta', 'Coumba']) {
      await createPatient(db, patientFields({ givenName }), author);
    }
    const sent = await db.outbox.toArray();
    const refused: MutationResult = {
      mutationId: sent[1]!.mutationId,
      status: 'rejected',
      code: 'forbidden',
      reason: 'Not in your team.',
    };
    await applyPushResults(db, sent, [applied(sent[0]!, 1, 10), refused, applied(sent[2]!, 1, 11)]);
    const left = await db.outbox.toArray();
    expect(left.map((r) => r.seq)).toEqual([sent[1]!.seq]);
    expect(left[0]!.rejected).toMatchObject({ code: 'forbidden' });
  });

  it('keeps the highest seq as acked, whatever answers without one come before it', async () => {
    const a = await createPatient(db, patientFields({ givenName: 'Awa' }), author);
    await createPatient(db, patientFields({ givenName: 'Binta' }), author);
    await createPatient(db, patientFields({ givenName: 'Coumba' }), author);
    const sent = await db.outbox.toArray();
    const merged: MutationResult = {
      mutationId: sent[0]!.mutationId,
      status: 'merged',
      version: 3,
      record: { ...sent[0]!.data, id: a.id, village: 'Kayes', version: 3 },
    };
    // Applied, but not as sent (no seq): it comes back in the pull.
    await applyPushResults(db, sent, [merged, applied(sent[1]!, 2), applied(sent[2]!, 1, 12)]);
    expect(await readAcked(db)).toBe(12);
  });

  it('never lowers acked (an older answer recorded after a newer one)', async () => {
    await db.syncState.put({ key: 'acked', value: 20 });
    await createPatient(db, patientFields(), author);
    const sent = await db.outbox.toArray();
    await applyPushResults(db, sent, [applied(sent[0]!, 1, 15)]);
    expect(await readAcked(db)).toBe(20);
  });

  it('keeps a row the answer does not mention, to send again', async () => {
    await createPatient(db, patientFields({ givenName: 'Awa' }), author);
    await createPatient(db, patientFields({ givenName: 'Binta' }), author);
    const sent = await db.outbox.toArray();
    await applyPushResults(db, sent, [applied(sent[0]!, 1, 5)]);
    expect((await db.outbox.toArray()).map((r) => r.seq)).toEqual([sent[1]!.seq]);
  });
});

describe('the version of a record made on this device, once its creation is answered', () => {
  const change = (record: Record<string, unknown>, version: number): PullChange => ({
    table: 'patients',
    id: record.id as string,
    version,
    seq: version,
    deleted: false,
    record: { ...record, version },
  });

  it('is 1 when the server stored it as sent, with nothing written beside it', async () => {
    const created = await createPatient(db, patientFields({ phone: '111' }), author);
    const sent = await db.outbox.toArray();
    expect(sent[0]).toMatchObject({ baseVersion: 0 });
    const answer = { mutationId: sent[0]!.mutationId, status: 'applied', version: 1, seq: 7 };
    await applyPushResults(db, sent, [answer as MutationResult]);
    expect(await db.pushedVersions.count()).toBe(0);
    // Its own version 1 coming back is not stored again; a teammate's version 2 is.
    await applyPullPage(db, [change({ ...created, phone: 'echo' }, 1)], 1);
    expect(await getPatient(db, created.id)).toMatchObject({ phone: '111' });
    const edited = await updatePatient(db, created.id, patientFields({ phone: '222' }), author);
    expect(edited.version).toBe(1);
    expect(await db.outbox.toArray()).toMatchObject([{ baseVersion: 1 }]);
  });

  it('comes from the pull when the server changed it (no seq), and a new record starts from 0', async () => {
    const created = await createPatient(db, patientFields({ phone: '111' }), author);
    const sent = await db.outbox.toArray();
    const answer = { mutationId: sent[0]!.mutationId, status: 'applied', version: 1 };
    await applyPushResults(db, sent, [answer as MutationResult]);
    await applyPullPage(db, [change({ ...created, phone: '111', village: 'Kayes' }, 1)], 1);
    expect(await getPatient(db, created.id)).toMatchObject({ village: 'Kayes', version: 1 });
    // A record still waiting for its first answer starts from nothing.
    const other = await createPatient(db, patientFields({ givenName: 'Binta' }), author);
    await updatePatient(db, other.id, patientFields({ givenName: 'Binta', phone: '3' }), author);
    const waiting = await db.outbox
      .where('[table+recordId]')
      .equals(['patients', other.id])
      .toArray();
    expect(waiting).toMatchObject([{ baseVersion: 0 }]);
  });
});
