// The PostgreSQL reservation (attempt-limiter.pg.ts) on a real server: the same answers as the
// SQLite limiter, and reservations sent at once on many connections count each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/postgres';
import { openPostgres, type OpenedPostgres } from '../db/postgres';
import { reserveAttemptPg, withdrawAttemptPg } from './attempt-limiter.pg';

const TIMEOUT = 120_000;
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const refused = (r: object) => ('retryAfter' in r ? r.retryAfter : null);

describe('reserveAttemptPg on a real PostgreSQL', { timeout: TIMEOUT }, () => {
  let server: TestPostgres;
  let opened: OpenedPostgres;
  beforeAll(async () => {
    server = await startPostgres();
    opened = await openPostgres(server.url, { max: 16 });
  }, TIMEOUT);
  afterAll(async () => {
    await opened?.close();
    await server?.stop();
  }, TIMEOUT);

  it('refuses past the limit in the window, says how long to wait, and a withdrawal frees a place', async () => {
    const { db } = opened;
    const reserve = (key: string, t: number) => reserveAttemptPg(db, 'unit', key, at(t), 3, 60_000);
    for (const t of [0, 1_000, 2_000]) expect(refused(await reserve('ip', t))).toBeNull();
    expect(refused(await reserve('ip', 10_000))).toBe(50);
    expect(refused(await reserve('other', 10_000))).toBeNull();
    expect(refused(await reserve('ip', 60_000))).toBeNull(); // the attempt at 0 left the window
    const last = await reserve('ip', 60_001);
    expect(refused(last)).toBe(1);
    const r = await reserve('ip2', 0);
    await withdrawAttemptPg(db, (r as { id: number }).id);
    expect(refused(await reserve('ip2', 1))).toBeNull();
  });

  it('40 reservations at once for one key on 16 connections: exactly the limit gets through', async () => {
    const { db } = opened;
    for (let round = 0; round < 5; round++) {
      const all = await Promise.all(
        Array.from({ length: 40 }, () =>
          reserveAttemptPg(db, 'race', `203.0.113.${round}`, T0, 10, 15 * 60_000),
        ),
      );
      expect(all.filter((r) => 'id' in r)).toHaveLength(10);
    }
  });

  it('keeps the newest maxRows rows', async () => {
    const { db, pool } = opened;
    for (let i = 0; i < 30; i++) await reserveAttemptPg(db, 'flood', `k${i}`, at(i), 3, 60_000, 10);
    const { rows } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM limiter_attempts',
    );
    expect(rows[0]!.n).toBeLessThanOrEqual(10);
  });
});
