/**
 * Sync while the app is locked (issue 15): the data key is not in memory, so sync waits for the
 * unlock, and a lock in the middle of a sync loses nothing. With the real modules: Dexie on
 * fake-indexeddb sealing rows with the tablet's vault, the real server in process.
 */
import type { PullResponse } from 'sync-server/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Vault } from '$lib/crypto/vault';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient, getPatient } from '$lib/db/patients';
import { asKnown, freshDatabase, patientFields, unlockedVault } from '$lib/db/test-db';
import { readCursor } from './apply';
import { syncOnce } from './engine';
import { SyncStatus } from './status.svelte';
import { teamOnServer, type TestUser } from './test-server';
import type { SyncTransport } from './transport';

let databases: FieldDxDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.map((db) => db.delete()));
  databases = [];
});

/** A tablet sealing its rows with its own vault, and a copy of its key to unlock it again. */
function tablet() {
  const vault = unlockedVault();
  const key = vault.key().slice();
  const db = freshDatabase(vault);
  databases.push(db);
  return { db, vault, unlock: () => vault.unlock(key.slice()) };
}

/** The user's transport, counting requests, with a hook run before each answer comes back. */
function watched(user: TestUser, beforeAnswer: (kind: 'push' | 'pull') => void = () => {}) {
  const calls = { push: 0, pull: 0 };
  const transport: SyncTransport = {
    ...user.transport,
    async push(request) {
      calls.push++;
      const answer = await user.transport.push(request);
      beforeAnswer('push');
      return answer;
    },
    async pull(...args) {
      calls.pull++;
      const answer = await user.transport.pull(...args);
      beforeAnswer('pull');
      return answer;
    },
  };
  return { transport, calls };
}

const statusOf = (db: FieldDxDatabase, transport: SyncTransport, vault: Vault) =>
  new SyncStatus(
    () => db,
    transport,
    () => {},
    vault,
  );

async function onServer(user: TestUser): Promise<Map<string, Record<string, unknown>>> {
  const res: PullResponse = await user.transport.pull(crypto.randomUUID(), 0, 1000);
  return new Map(res.changes.map((c) => [c.id, { ...c.record, version: c.version }]));
}

describe('sync while the app is locked', () => {
  it('sends and asks nothing while locked; the unlock syncs what waited, both ways', async () => {
    const { users } = await teamOnServer(2);
    const [a, b] = users as [TestUser, TestUser];
    const other = tablet();
    const fromOther = await createPatient(other.db, patientFields({ phone: '1' }), b.author);
    await syncOnce(other.db, b.transport);

    const mine = tablet();
    const { transport, calls } = watched(a);
    const status = statusOf(mine.db, transport, mine.vault);
    // Nothing to send: not even a download starts, its pages could not be stored.
    mine.vault.lock();
    expect(status.locked).toBe(true);
    await status.syncNow();
    expect(calls).toEqual({ push: 0, pull: 0 });

    mine.unlock();
    const edit = await createPatient(mine.db, patientFields({ phone: '2' }), a.author);
    mine.vault.lock();
    await status.syncNow();
    expect(calls).toEqual({ push: 0, pull: 0 });
    expect(status.lastError).toBeNull();
    // The edit waits, sealed; counting the outbox needs no key.
    expect(await mine.db.outbox.count()).toBe(1);

    mine.unlock();
    expect(status.locked).toBe(false);
    await status.syncNow();
    expect(status.lastError).toBeNull();
    expect(await mine.db.outbox.count()).toBe(0);
    expect((await onServer(a)).get(edit.id)).toMatchObject({ phone: '2', version: 1 });
    expect(await getPatient(mine.db, fromOther.id)).toMatchObject({ phone: '1' });
  });

  it('locked while the push answer travels: no error shown, and the unlock records it once', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const mine = tablet();
    const edit = await createPatient(mine.db, patientFields({ phone: '3' }), a.author);
    let lockNow = true;
    const { transport } = watched(a, (kind) => {
      if (kind === 'push' && lockNow) mine.vault.lock(); // the server applied it; then the lock
    });
    const status = statusOf(mine.db, transport, mine.vault);
    await status.syncNow();
    expect(status.lastError).toBeNull();
    expect(status.offline).toBe(false);
    // The answer is recorded now where that needs no key (the version learnt, the outbox row
    // gone), else it is asked again at the unlock and answered from the server's memory.

    lockNow = false;
    mine.unlock();
    await status.syncNow();
    expect(status.lastError).toBeNull();
    expect(await mine.db.outbox.count()).toBe(0);
    expect((await onServer(a)).get(edit.id)).toMatchObject({ phone: '3', version: 1 });
    expect(await asKnown(mine.db, 'patients', await getPatient(mine.db, edit.id))).toMatchObject({
      version: 1,
    });
  });

  it('locked while a page downloads: nothing is stored past the cursor, the unlock pulls it', async () => {
    const { users } = await teamOnServer(2);
    const [a, b] = users as [TestUser, TestUser];
    const other = tablet();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await createPatient(other.db, patientFields({ phone: `${i}` }), b.author)).id);
    }
    await syncOnce(other.db, b.transport);

    const mine = tablet();
    let lockNow = true;
    const { transport } = watched(a, (kind) => {
      if (kind === 'pull' && lockNow) mine.vault.lock();
    });
    const status = statusOf(mine.db, transport, mine.vault);
    await status.syncNow();
    expect(status.lastError).toBeNull();
    expect(await readCursor(mine.db)).toBe(0);
    expect(await mine.db.patients.count()).toBe(0);

    lockNow = false;
    mine.unlock();
    await status.syncNow();
    expect(status.lastError).toBeNull();
    for (const id of ids) expect(await getPatient(mine.db, id)).toBeDefined();
    expect(await readCursor(mine.db)).toBeGreaterThan(0);
  });
});
