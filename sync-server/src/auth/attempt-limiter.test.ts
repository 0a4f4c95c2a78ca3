// The sign-up limiter in detail (the routes' tests send bursts; these pin the window, the wait it
// answers and the bound on its memory). Written to kill mutants that survived those tests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import type { Repositories } from '../repositories';
import { sqliteRepositories } from '../repositories/sqlite';
import { tempDir, testDatabase, type TestDatabase } from '../test-utils';
import path from 'node:path';
import {
  createAttemptLimiter as createOn,
  STALE_ATTEMPT_MS,
  sweepStaleAttempts,
} from './attempt-limiter';
import { LOGIN_WINDOW_MS, reserveLoginAttempt } from './rate-limit';

// On the database TEST_DB names (SQLite by default), through the repositories but for the table's
// raw rows.
let database: TestDatabase;
let repos: Repositories;
beforeEach(async () => {
  database = await testDatabase();
  repos = database.repos;
}, 60_000);
afterEach(() => database.close());
const createAttemptLimiter = (max: number, windowMs: number, maxRows?: number) =>
  createOn(repos, 'test', max, windowMs, maxRows);

/** Every row of limiter_attempts, by id. */
async function limiterRows(): Promise<{ scope: string; key: string }[]> {
  const query = 'SELECT scope, key FROM limiter_attempts ORDER BY id';
  if (database.pool) return (await database.pool.query<{ scope: string; key: string }>(query)).rows;
  return database.sqlite.prepare(query).all() as { scope: string; key: string }[];
}

const at = (ms: number) => new Date(ms);
const refused = (r: object) => ('retryAfter' in r ? r.retryAfter : null);

describe('createAttemptLimiter', () => {
  it('refuses past the limit in the window, says how long to wait, and forgets what left the window', async () => {
    const limiter = createAttemptLimiter(3, 60_000);
    for (const t of [0, 1_000, 2_000])
      expect(refused(await limiter.reserve('ip', at(t)))).toBeNull();
    // The oldest attempt that counts (t=0) leaves the window at 60 s.
    expect(refused(await limiter.reserve('ip', at(10_000)))).toBe(50);
    expect(refused(await limiter.reserve('ip', at(59_999)))).toBe(1);
    // At exactly 60 s the attempt at 0 no longer counts.
    expect(refused(await limiter.reserve('ip', at(60_000)))).toBeNull();
    expect(refused(await limiter.reserve('ip', at(60_000)))).toBe(1); // 1 000, 2 000, 60 000 count
    expect(refused(await limiter.reserve('other', at(60_000)))).toBeNull();
  });

  it('a withdrawn reservation (a success) frees its place', async () => {
    const limiter = createAttemptLimiter(1, 60_000);
    const first = await limiter.reserve('ip', at(0));
    expect(refused(first)).toBeNull();
    expect(refused(await limiter.reserve('ip', at(1)))).toBe(60);
    await (first as { withdraw(): Promise<void> }).withdraw();
    expect(refused(await limiter.reserve('ip', at(2)))).toBeNull();
  });

  it('holds at most maxRows attempts (here one per address), forgetting the oldest', async () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    expect(refused(await limiter.reserve('a', at(0)))).toBeNull();
    expect(refused(await limiter.reserve('b', at(0)))).toBeNull();
    expect(refused(await limiter.reserve('a', at(1)))).not.toBeNull(); // two rows fit: a is kept
    expect(refused(await limiter.reserve('c', at(2)))).toBeNull(); // a third: a is forgotten
    expect(refused(await limiter.reserve('b', at(3)))).not.toBeNull();
    expect(refused(await limiter.reserve('a', at(4)))).toBeNull();
  });

  it('a flood of addresses keeps the table at maxRows rows, the newest', async () => {
    const limiter = createAttemptLimiter(3, 60_000, 50);
    for (let i = 0; i < 200; i++) await limiter.reserve(`10.0.0.${i}`, at(i));
    const rows = await limiterRows();
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.key)).toContain('10.0.0.199');
    expect(rows.map((r) => r.key)).not.toContain('10.0.0.149');
  });

  it('drops attempts that left the window, so they do not hold a place', async () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    await limiter.reserve('a', at(0));
    await limiter.reserve('b', at(61_000));
    await limiter.reserve('a', at(61_000)); // a's old attempt expired: a is new again, after b
    await limiter.reserve('c', at(61_000)); // full: the one seen longest ago, b, is forgotten
    expect(refused(await limiter.reserve('a', at(61_001)))).not.toBeNull();
    expect(refused(await limiter.reserve('b', at(61_001)))).toBeNull();
  });

  it('keeps the rows of the window only, and the scopes apart', async () => {
    const limiter = createAttemptLimiter(1, 60_000);
    const other = createOn(repos, 'other', 1, 60_000);
    await limiter.reserve('a', at(0));
    await limiter.reserve('b', at(1_000));
    expect(refused(await other.reserve('a', at(1_000)))).toBeNull(); // another scope counts apart
    await limiter.reserve('c', at(60_500)); // a's attempt left the window: its row is deleted
    const keys = (await limiterRows()).map((r) => `${r.scope}:${r.key}`).sort();
    expect(keys).toEqual(['other:a', 'test:b', 'test:c']);
  });

  it('counts attempts reserved through another connection to the same database', async () => {
    const { dir, remove } = tempDir();
    const file = path.join(dir, 'shared.sqlite');
    const one = openDatabase(file);
    const two = openDatabase(file);
    try {
      const onOne = createOn(sqliteRepositories(one.db), 'signup', 2, 60_000);
      const onTwo = createOn(sqliteRepositories(two.db), 'signup', 2, 60_000);
      expect(refused(await onOne.reserve('ip', at(0)))).toBeNull();
      const second = await onTwo.reserve('ip', at(1));
      expect(refused(second)).toBeNull();
      expect(refused(await onOne.reserve('ip', at(2)))).toBe(60);
      await (second as { withdraw(): Promise<void> }).withdraw();
      expect(refused(await onOne.reserve('ip', at(3)))).toBeNull();
    } finally {
      one.close();
      two.close();
      remove();
    }
  });

  it('housekeeping deletes attempts older than any window, of every limiter', async () => {
    // Two scopes: the second one's use does not prune the first's.
    await createOn(repos, 'one', 1, 60_000).reserve('a', at(0));
    await createOn(repos, 'two', 1, 60_000).reserve('b', at(STALE_ATTEMPT_MS));
    await reserveLoginAttempt(repos, 'old@x.org', 'ip', at(0));
    await reserveLoginAttempt(repos, 'new@x.org', 'ip', at(STALE_ATTEMPT_MS - LOGIN_WINDOW_MS + 1));
    expect(await sweepStaleAttempts(repos, at(STALE_ATTEMPT_MS))).toBe(2);
    expect(await limiterRows()).toEqual([{ scope: 'two', key: 'b' }]);
    const stored = async (email: string) =>
      (await repos.limits.loginBucket({ email }, at(-1))).failures;
    expect([await stored('old@x.org'), await stored('new@x.org')]).toEqual([0, 1]);
  });
});
