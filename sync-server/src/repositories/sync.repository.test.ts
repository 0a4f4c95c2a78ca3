import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import { pgSyncStore, SYNC_DB, type PgSyncStore } from '../sync-test-utils';
import { sqliteSyncRepository } from './sqlite/sync.repository';
import type { RecordWrite, SyncRepository } from './sync.repository';

/*
 * The transaction contract of SyncRepository (repositories/sync.repository.ts): a transaction's
 * writes are seen by nobody else before its commit, a failed one leaves nothing, and two run one
 * after the other even when their functions wait on something else in between.
 */

const sqlite = openDatabase(':memory:');
let pg: PgSyncStore | undefined;
beforeAll(async () => {
  if (SYNC_DB === 'postgres') pg = await pgSyncStore();
}, 120_000);
afterAll(async () => {
  sqlite.close();
  await pg?.close();
});

// SQLite always; PostgreSQL too in the sync-server-pg project (SYNC_DB=postgres).
const dialects: [string, () => SyncRepository][] = [
  ['sqlite', () => sqliteSyncRepository(sqlite.db)],
  ...(SYNC_DB === 'postgres'
    ? [['postgres', () => pg!.repo] as [string, () => SyncRepository]]
    : []),
];

const write = (seq: number): RecordWrite => ({
  seq,
  table: 'patients',
  id: `p-${seq}`,
  teamId: 'team',
  version: 1,
  deleted: 0,
  at: seq,
  by: 'user',
  data: '{}',
  deviceId: 'device',
  mutationId: `m-${seq}`,
});

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(dialects)('SyncRepository transactions (%s)', (_name, repository) => {
  it('hides a transaction in progress from other callers, and runs a second one after it', async () => {
    const repo = repository();
    const start = await repo.maxSeq();
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const first = repo.transaction(async (tx) => {
      await tx.writeRecord(write(start + 1));
      await paused; // a real wait (I/O), as a PostgreSQL round trip is
      await tx.writeRecord(write(start + 2));
      return 'first';
    });
    await tick(20);
    const seen = repo.maxSeq();
    const second = repo.transaction(async (tx) => {
      const seq = (await tx.maxSeq()) + 1;
      await tx.writeRecord(write(seq));
      return seq;
    });
    let seenEarly: number | undefined;
    void seen.then((n) => (seenEarly = n));
    await tick(20);
    // Nothing of the open transaction: either not answered yet (SQLite waits for the connection)
    // or the committed state (PostgreSQL).
    expect(seenEarly === undefined || seenEarly === start).toBe(true);
    resume();
    expect(await first).toBe('first');
    expect([start, start + 2]).toContain(await seen);
    // The second transaction read the sequence after the first committed: no seq given twice.
    expect(await second).toBe(start + 3);
    expect(await repo.maxSeq()).toBe(start + 3);
  });

  it('rolls back a transaction that throws, and frees the connection for the next', async () => {
    const repo = repository();
    const start = await repo.maxSeq();
    await expect(
      repo.transaction(async (tx) => {
        await tx.writeRecord(write(start + 1));
        await tick(5);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await repo.maxSeq()).toBe(start);
    expect(await repo.getRecord('patients', `p-${start + 1}`)).toBeUndefined();
    await repo.transaction((tx) => tx.writeRecord(write(start + 1)));
    expect(await repo.maxSeq()).toBe(start + 1);
  });
});
