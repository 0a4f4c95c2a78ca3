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
import { applyPullPage, applyPushResults } from './apply';
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
});
