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

  // The device's contact (touchDevice: its row, its session's binding) is written before the
  // lock and everything else of a push after it (repositories/postgres BEFORE_LOCK). One tablet
  // whose retries reach every instance at once, with its contact, while it pulls: a push that read
  // the stored results before taking the lock would apply the batch twice (or fail on the results'
  // primary key); a push waiting for the lock while another holds it and waits for the device's
  // row would deadlock; two first contacts would both insert the device.
  it('answers one batch sent through every instance at once the same, written once', async () => {
    const pool = instances[0]!.pool;
    const userId = 'user-retry';
    const deviceId = 'device-retry';
    const at = NOW.getTime();
    await pool.query(
      `INSERT INTO users (id, email, name, password_hash, created_at)
       VALUES ($1, 'retry@example.org', 'Retry', 'x', $2)`,
      [userId, at],
    );
    const sessions = Array.from({ length: INSTANCES }, (_, i) => `session-retry-${i}`);
    for (const id of sessions) {
      await pool.query(
        `INSERT INTO sessions (id, user_id, expires_at, created_at) VALUES ($1, $2, $3, $3)`,
        [id, userId, at + 3_600_000],
      );
    }
    const before = (await pool.query<{ n: number }>('SELECT count(*) AS n FROM record_history'))
      .rows[0]!.n;
    const BATCHES = 6;
    const COPIES = 3;
    const sent: Promise<MutationResult[]>[] = [];
    const pulls: Promise<unknown>[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const mutations = Array.from({ length: 3 }, (_, k) => {
        const p = patient(TEAM, {}, `retry-${b}-${k}`);
        return {
          mutationId: `retry-${b}-${k}`,
          table: 'patients',
          id: p.id,
          op: 'put',
          baseVersion: 0,
          data: p,
        };
      });
      for (let copy = 0; copy < COPIES; copy++) {
        for (let i = 0; i < INSTANCES; i++) {
          // Some copies without the contact: those take no row lock on the device before the
          // sync lock, so only the lock orders them against the others.
          const touch =
            copy === 0
              ? undefined
              : { userId, contact: { sessionId: sessions[i]!, userAgent: `ua-${i}` } };
          sent.push(
            push(repos[i]!, { scope: scopeOf(userId), deviceId, now: NOW, touch }, mutations),
          );
        }
      }
      pulls.push(
        touchDevice(repos[b % INSTANCES]!, deviceId, userId, NOW, { sessionId: sessions[0]! }),
      );
    }
    const answered = await Promise.all(sent);
    await Promise.all(pulls);

    // Every copy of a batch got the same answer: applied once, at one version and seq.
    for (let b = 0; b < BATCHES; b++) {
      const copies = answered.slice(b * COPIES * INSTANCES, (b + 1) * COPIES * INSTANCES);
      for (const results of copies) {
        expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
        expect(results).toEqual(copies[0]);
      }
    }
    const after = (await pool.query<{ n: number }>('SELECT count(*) AS n FROM record_history'))
      .rows[0]!.n;
    expect(after - before).toBe(BATCHES * 3);
    const stored = await pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM applied_mutations WHERE device_id = $1`,
      [deviceId],
    );
    expect(stored.rows[0]!.n).toBe(BATCHES * 3);
    const device = await pool.query<{ lastPushAt: number | null }>(
      `SELECT last_push_at AS "lastPushAt" FROM devices WHERE id = $1`,
      [deviceId],
    );
    expect(device.rows[0]!.lastPushAt).toBe(at);
    const bound = await pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND device_id = $2`,
      [userId, deviceId],
    );
    expect(bound.rows[0]!.n).toBe(INSTANCES);
  });
});
