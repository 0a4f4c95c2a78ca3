import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import type { MutationResult } from '../protocol';
import type { Scope } from '../services/scope';
import { push } from '../services/sync';
import {
  mutation,
  patient,
  pgSyncStore,
  report,
  SYNC_DB,
  uid,
  type PgSyncStore,
} from '../sync-test-utils';
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

const TEAM = 'team-batch';
const scope = (userId: string): Scope => ({
  userId,
  isAdmin: false,
  clinicianTeams: new Set([TEAM]),
  supervisorTeams: new Set(),
  readTeams: [TEAM],
  fingerprint: [`clinician:${TEAM}`],
});
const NOW = new Date('2026-03-01T10:00:00Z');

/** The patient name the review queue holds for a report. */
async function indexedPatientName(dialect: string, reportId: string) {
  const sql = 'SELECT patient_name AS name FROM review_reports WHERE report_id = ';
  if (dialect === 'sqlite') {
    const row = sqlite.sqlite.prepare(`${sql}?`).get(reportId) as { name: string } | undefined;
    return row?.name;
  }
  const res = await pg!.pool.query<{ name: string }>(`${sql}$1`, [reportId]);
  return res.rows[0]?.name;
}

/*
 * PostgreSQL answers a push from what preparePush read up front and holds its writes back
 * (repositories/postgres): a later mutation of the same push must still see an earlier one's
 * write. The same push on both dialects gives the same answers.
 */
describe.each(dialects)('a push sees its own earlier writes (%s)', (name, repository) => {
  it('edits a record it created, repeats a mutation id, and merges twice in one batch', async () => {
    const repo = repository();
    const p = patient(TEAM, {}, uid('p'));
    const q = patient(TEAM, {}, uid('q'));
    // Another device creates q and changes its village: device D's edits of q are based on v1.
    const other = { scope: scope('user-e'), deviceId: uid('dev-e'), now: NOW };
    await push(repo, other, [mutation('patients', q)]);
    await push(repo, other, [mutation('patients', { ...q, village: 'Other' }, 1)]);

    const create = mutation('patients', p);
    const edit = mutation('patients', { ...p, givenName: 'Zawadi' }, 1);
    const mergeB = mutation('patients', { ...q, givenName: 'Baraka' }, 1);
    const mergeC = mutation('patients', { ...q, familyName: 'Chege' }, 1);
    const d = { scope: scope('user-d'), deviceId: uid('dev-d'), now: NOW };
    const results = await push(repo, d, [create, edit, create, mergeB, mergeC, mergeB]);
    const status = (r: MutationResult) => [r.status, 'version' in r ? r.version : null];
    expect(results.map(status)).toEqual([
      ['applied', 1],
      ['applied', 2],
      ['applied', 1],
      ['merged', 3],
      ['merged', 4],
      ['merged', 3],
    ]);
    // The repeated mutation gets its stored answer back, and nothing is written twice.
    expect(results[2]).toEqual(results[0]);
    expect(results[5]).toEqual(results[3]);
    const merged = results[4] as Extract<MutationResult, { status: 'merged' }>;
    expect(merged.record).toMatchObject({
      village: 'Other',
      givenName: 'Baraka',
      familyName: 'Chege',
    });

    // Committed: the records, every version in history, every answer stored.
    expect(await repo.getRecord('patients', p.id)).toMatchObject({ version: 2, deleted: 0 });
    expect(JSON.parse((await repo.getRecord('patients', q.id))!.data)).toMatchObject({
      version: 4,
      village: 'Other',
      givenName: 'Baraka',
      familyName: 'Chege',
    });
    for (const v of [1, 2]) expect(await repo.getHistoryData('patients', p.id, v)).toBeDefined();
    for (const v of [1, 2, 3, 4]) {
      expect(await repo.getHistoryData('patients', q.id, v)).toBeDefined();
    }
    for (const m of [create, edit, mergeB, mergeC]) {
      expect(await repo.getApplied(d.deviceId, m.mutationId)).toMatchObject({ userId: 'user-d' });
    }
  });

  it("takes the device's own edit of this batch as the merge base", async () => {
    const repo = repository();
    const r = patient(TEAM, {}, uid('r'));
    await push(repo, { scope: scope('user-e'), deviceId: uid('dev-e'), now: NOW }, [
      mutation('patients', r),
    ]);
    // Stored exactly as sent (updatedBy is the signed-in user): the next edit, still based on
    // v1 because the device has not seen the answer, contains it and is no merge.
    const own = { ...r, updatedBy: 'user-d' };
    const d = { scope: scope('user-d'), deviceId: uid('dev-d'), now: NOW };
    const results = await push(repo, d, [
      mutation('patients', { ...own, givenName: 'Zawadi' }, 1),
      mutation('patients', { ...own, givenName: 'Zawadi', familyName: 'Chege' }, 1),
    ]);
    expect(results.map((x) => [x.status, 'version' in x ? x.version : null])).toEqual([
      ['applied', 2],
      ['applied', 3],
    ]);
  });

  it('refreshes the review queue for a report shared earlier in the same batch', async () => {
    const repo = repository();
    const p = patient(TEAM, {}, uid('p'));
    const shared = report(TEAM, p.id);
    const d = { scope: scope('user-d'), deviceId: uid('dev-d'), now: NOW };
    const results = await push(repo, d, [
      mutation('patients', p),
      mutation('reports', shared),
      mutation('patients', { ...p, givenName: 'Zawadi' }, 1),
    ]);
    expect(results.map((x) => x.status)).toEqual(['applied', 'applied', 'applied']);
    expect(await indexedPatientName(name, shared.id)).toContain('Zawadi');
  });
});
