// Push and pull on a real PostgreSQL with several instances (one pg pool each) pushing at once:
// the guarantee of the advisory lock in repositories/postgres/sync.repository.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/postgres';
import { openPostgres, type OpenedPostgres } from '../db/postgres';
import type { MutationResult, PullResponse } from '../protocol';
import { postgresSyncRepository } from '../repositories/postgres/sync.repository';
import type { SyncRepository } from '../repositories/sync.repository';
import { patient } from '../sync-test-utils';
import type { Scope } from './scope';
import { pull, push, touchDevice } from './sync';

const TIMEOUT = 180_000;
const INSTANCES = 3;
const DEVICES = 6;
const ROUNDS = 8;
const SHARED = 4;
const TEAM = 'team-a';
const NOW = new Date('2026-03-01T10:00:00Z');

const scopeOf = (userId: string): Scope => ({
  userId,
  isAdmin: false,
  clinicianTeams: new Set([TEAM]),
  supervisorTeams: new Set(),
  readTeams: [TEAM],
  fingerprint: [`clinician:${TEAM}`],
});

describe('concurrent pushes from several instances on PostgreSQL', { timeout: TIMEOUT }, () => {
  let server: TestPostgres;
  const instances: OpenedPostgres[] = [];
  let repos: SyncRepository[];
  beforeAll(async () => {
    server = await startPostgres();
    for (let i = 0; i < INSTANCES; i++) instances.push(await openPostgres(server.url, { max: 4 }));
    repos = instances.map((o) => postgresSyncRepository(o.pool));
  }, TIMEOUT);
  afterAll(async () => {
    for (const o of instances) await o.close();
    await server?.stop();
  }, TIMEOUT);

  it('loses nothing, duplicates nothing, gives each seq once, and every pull converges', async () => {
    const shared = Array.from({ length: SHARED }, (_, i) =>
      patient(TEAM, { village: 'start' }, `shared-${i}`),
    );
    // The shared records exist first (version 1), written through instance 0.
    const seedUser = 'user-seed';
    await touchDevice(repos[0]!, 'device-seed', seedUser, NOW);
    await push(
      repos[0]!,
      { scope: scopeOf(seedUser), deviceId: 'device-seed', now: NOW },
      shared.map((p, i) => ({
        mutationId: `seed-${i}`,
        table: 'patients',
        id: p.id,
        op: 'put',
        baseVersion: 0,
        data: p,
      })),
    );

    let mutationCount = SHARED;
    const answers = new Map<string, MutationResult>();
    const writers = Array.from({ length: DEVICES }, async (_, d) => {
      const repo = repos[d % INSTANCES]!;
      const userId = `user-${d}`;
      const deviceId = `device-${d}`;
      await touchDevice(repo, deviceId, userId, NOW);
      // The device's copy of each shared record: the version 1 it pulled, then what its answers
      // brought back (the merged record, or its own edit at the answer's version).
      const copy = new Map(
        shared.map((p) => [p.id, { ...p, version: 1 } as Record<string, unknown>]),
      );
      for (let round = 0; round < ROUNDS; round++) {
        const mutations = [
          // Each device edits its own field of every shared record: merged with the others'.
          ...shared.map((p) => {
            const held = copy.get(p.id)!;
            const data = { ...held, [`note${d}`]: `round ${round}` };
            copy.set(p.id, data);
            return {
              mutationId: `m-${d}-${round}-${p.id}`,
              table: 'patients',
              id: p.id,
              op: 'put',
              baseVersion: held.version as number,
              data,
            };
          }),
          // And new records, written once: a pull that skipped one would never get it.
          ...Array.from({ length: 5 }, (_, k) => {
            const p = patient(TEAM, {}, `new-${d}-${round}-${k}`);
            return {
              mutationId: `m-${d}-${round}-new-${k}`,
              table: 'patients',
              id: p.id,
              op: 'put',
              baseVersion: 0,
              data: p,
            };
          }),
        ];
        mutationCount += mutations.length;
        const results = await push(repo, { scope: scopeOf(userId), deviceId, now: NOW }, mutations);
        results.forEach((r, i) => {
          answers.set(r.mutationId, r);
          const id = mutations[i]!.id;
          if (!copy.has(id)) return;
          if (r.status === 'merged' || r.status === 'conflict') copy.set(id, r.record);
          else if (r.status === 'applied') copy.set(id, { ...copy.get(id)!, version: r.version });
        });
      }
    });

    // A device pulling through the last instance all along, while the pushes commit.
    const seen = new Map<string, number>();
    let cursor = 0;
    const pullOnce = async () => {
      const repo = repos[INSTANCES - 1]!;
      const device = await touchDevice(repo, 'device-puller', 'user-puller', NOW);
      const page = await pull(repo, scopeOf('user-puller'), device, cursor, 50);
      const body = JSON.parse(page.body) as PullResponse;
      for (const c of body.changes) seen.set(c.id, Math.max(seen.get(c.id) ?? 0, c.version));
      cursor = page.cursor;
      return page.hasMore;
    };
    let writing = true;
    const puller = (async () => {
      while (writing) await pullOnce();
    })();
    // Every writer ends (a failed push would otherwise go on into the next test's teardown).
    const ended = await Promise.allSettled(writers);
    writing = false;
    await puller;
    for (const e of ended) if (e.status === 'rejected') throw e.reason;
    while (await pullOnce());

    // Every mutation answered once, none rejected, none stored twice.
    expect(answers.size).toBe(mutationCount - SHARED);
    for (const r of answers.values()) expect(['applied', 'merged']).toContain(r.status);
    const pool = instances[0]!.pool;
    const applied = await pool.query<{ n: number }>('SELECT count(*) AS n FROM applied_mutations');
    expect(applied.rows[0]!.n).toBe(mutationCount);

    // The sequence: every write its own seq, 1..n without a gap.
    const seqs = (await pool.query<{ seq: number }>('SELECT seq FROM record_history ORDER BY seq'))
      .rows;
    expect(seqs.map((r) => r.seq)).toEqual(seqs.map((_, i) => i + 1));

    // Nothing lost: each device's last note is in every shared record.
    const current = await pool.query<{ id: string; version: number; data: string }>(
      'SELECT id, version, data FROM records',
    );
    for (const row of current.rows.filter((r) => r.id.startsWith('shared-'))) {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      for (let d = 0; d < DEVICES; d++) expect(data[`note${d}`]).toBe(`round ${ROUNDS - 1}`);
    }

    // The pull that ran alongside converged: every record, at its latest version.
    expect(current.rows.length).toBe(SHARED + DEVICES * ROUNDS * 5);
    expect(seen.size).toBe(current.rows.length);
    for (const row of current.rows) expect(seen.get(row.id), row.id).toBe(row.version);
  });
});
