// The sign-up limiter in detail (the routes' tests send bursts; these pin the window, the wait it
// answers and the bound on its memory). Written to kill mutants that survived those tests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/connection';
import { limiterAttempts, loginAttempts } from '../db/schema';
import { tempDir } from '../test-utils';
import path from 'node:path';
import {
  createAttemptLimiter as createOn,
  deleteStaleAttempts,
  STALE_ATTEMPT_MS,
} from './attempt-limiter';
import { LOGIN_WINDOW_MS, reserveLoginAttempt } from './rate-limit';

let database: OpenedDatabase;
beforeEach(() => {
  database = openDatabase(':memory:');
});
afterEach(() => database.close());
const createAttemptLimiter = (max: number, windowMs: number, maxRows?: number) =>
  createOn(database.db, 'test', max, windowMs, maxRows);

const at = (ms: number) => new Date(ms);
const refused = (r: object) => ('retryAfter' in r ? r.retryAfter : null);

describe('createAttemptLimiter', () => {
  it('refuses past the limit in the window, says how long to wait, and forgets what left the window', () => {
    const limiter = createAttemptLimiter(3, 60_000);
    for (const t of [0, 1_000, 2_000]) expect(refused(limiter.reserve('ip', at(t)))).toBeNull();
    // The oldest attempt that counts (t=0) leaves the window at 60 s.
    expect(refused(limiter.reserve('ip', at(10_000)))).toBe(50);
    expect(refused(limiter.reserve('ip', at(59_999)))).toBe(1);
    // At exactly 60 s the attempt at 0 no longer counts.
    expect(refused(limiter.reserve('ip', at(60_000)))).toBeNull();
    expect(refused(limiter.reserve('ip', at(60_000)))).toBe(1); // 1 000, 2 000, 60 000 count
    expect(refused(limiter.reserve('other', at(60_000)))).toBeNull();
  });

  it('a withdrawn reservation (a success) frees its place', () => {
    const limiter = createAttemptLimiter(1, 60_000);
    const first = limiter.reserve('ip', at(0));
    expect(refused(first)).toBeNull();
    expect(refused(limiter.reserve('ip', at(1)))).toBe(60);
    (first as { withdraw(): void }).withdraw();
    expect(refused(limiter.reserve('ip', at(2)))).toBeNull();
  });

  it('holds at most maxRows attempts (here one per address), forgetting the oldest', () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    expect(refused(limiter.reserve('a', at(0)))).toBeNull();
    expect(refused(limiter.reserve('b', at(0)))).toBeNull();
    expect(refused(limiter.reserve('a', at(1)))).not.toBeNull(); // two rows fit: a is kept
    expect(refused(limiter.reserve('c', at(2)))).toBeNull(); // a third: a is forgotten
    expect(refused(limiter.reserve('b', at(3)))).not.toBeNull();
    expect(refused(limiter.reserve('a', at(4)))).toBeNull();
  });

  it('a flood of addresses keeps the table at maxRows rows, the newest', () => {
    const limiter = createAttemptLimiter(3, 60_000, 50);
    for (let i = 0; i < 200; i++) limiter.reserve(`10.0.0.${i}`, at(i));
    const rows = database.db.select({ key: limiterAttempts.key }).from(limiterAttempts).all();
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.key)).toContain('10.0.0.199');
    expect(rows.map((r) => r.key)).not.toContain('10.0.0.149');
  });

  it('drops attempts that left the window, so they do not hold a place', () => {
    const limiter = createAttemptLimiter(1, 60_000, 2);
    limiter.reserve('a', at(0));
    limiter.reserve('b', at(61_000));
    limiter.reserve('a', at(61_000)); // a's old attempt expired: a is new again, after b
    limiter.reserve('c', at(61_000)); // full: the one seen longest ago, b, is forgotten
    expect(refused(limiter.reserve('a', at(61_001)))).not.toBeNull();
    expect(refused(limiter.reserve('b', at(61_001)))).toBeNull();
  });

  it('keeps the rows of the window only, and the scopes apart', () => {
    const limiter = createAttemptLimiter(1, 60_000);
    const other = createOn(database.db, 'other', 1, 60_000);
    limiter.reserve('a', at(0));
    limiter.reserve('b', at(1_000));
    expect(refused(other.reserve('a', at(1_000)))).toBeNull(); // another scope counts apart
    limiter.reserve('c', at(60_500)); // a's attempt left the window: its row is deleted
    const keys = database.db
      .select({ scope: limiterAttempts.scope, key: limiterAttempts.key })
      .from(limiterAttempts)
      .all()
      .map((r) => `${r.scope}:${r.key}`)
      .sort();
    expect(keys).toEqual(['other:a', 'test:b', 'test:c']);
  });

  it('counts attempts reserved through another connection to the same database', () => {
    const { dir, remove } = tempDir();
    const file = path.join(dir, 'shared.sqlite');
    const one = openDatabase(file);
    const two = openDatabase(file);
    try {
      const onOne = createOn(one.db, 'signup', 2, 60_000);
      const onTwo = createOn(two.db, 'signup', 2, 60_000);
      expect(refused(onOne.reserve('ip', at(0)))).toBeNull();
      const second = onTwo.reserve('ip', at(1));
      expect(refused(second)).toBeNull();
      expect(refused(onOne.reserve('ip', at(2)))).toBe(60);
      (second as { withdraw(): void }).withdraw();
      expect(refused(onOne.reserve('ip', at(3)))).toBeNull();
    } finally {
      one.close();
      two.close();
      remove();
    }
  });

  it('housekeeping deletes attempts older than any window, of every limiter', () => {
    const { db } = database;
    // Two scopes: the second one's use does not prune the first's.
    createOn(db, 'one', 1, 60_000).reserve('a', at(0));
    createOn(db, 'two', 1, 60_000).reserve('b', at(STALE_ATTEMPT_MS));
    reserveLoginAttempt(db, 'old@x.org', 'ip', at(0));
    reserveLoginAttempt(db, 'new@x.org', 'ip', at(STALE_ATTEMPT_MS - LOGIN_WINDOW_MS + 1));
    expect(deleteStaleAttempts(db, at(STALE_ATTEMPT_MS))).toBe(2);
    expect(db.select({ key: limiterAttempts.key }).from(limiterAttempts).all()).toEqual([
      { key: 'b' },
    ]);
    expect(db.select({ email: loginAttempts.email }).from(loginAttempts).all()).toEqual([
      { email: 'new@x.org' },
    ]);
  });
});
