import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/connection';
import { loginAttempts } from '../db/schema';
import { MINUTE } from '../test-utils';
import { LOGIN_WINDOW_MS, loginLockout, reserveLoginAttempt } from './rate-limit';

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

let database: OpenedDatabase;
beforeEach(() => {
  database = openDatabase(':memory:');
});
afterEach(() => database.close());

describe('login rate limit', () => {
  it('locks after 10 failures within the window until the 10th most recent leaves it', () => {
    const { db } = database;
    for (let i = 0; i < 9; i++) reserveLoginAttempt(db, 'a@x.org', `ip${i}`, at(i * MINUTE));
    expect(loginLockout(db, 'a@x.org', 'ip-new', at(9 * MINUTE))).toBeNull();
    reserveLoginAttempt(db, 'a@x.org', 'ip9', at(9 * MINUTE));
    // Failures at minutes 0..9: the one at minute 0 leaves the window at minute 15.
    expect(loginLockout(db, 'a@x.org', 'ip-new', at(10 * MINUTE))).toBe(5 * 60);
    expect(loginLockout(db, 'A different account', 'ip-new', at(10 * MINUTE))).toBeNull();
    expect(loginLockout(db, 'a@x.org', 'ip-new', at(LOGIN_WINDOW_MS))).toBeNull();
  });

  it('counts per IP across accounts', () => {
    const { db } = database;
    for (let i = 0; i < 10; i++) reserveLoginAttempt(db, `u${i}@x.org`, '203.0.113.1', T0);
    expect(loginLockout(db, 'new@x.org', '203.0.113.1', at(1000))).toBe(15 * 60 - 1);
    expect(loginLockout(db, 'new@x.org', '203.0.113.2', at(1000))).toBeNull();
  });

  it('prunes failures older than the window', () => {
    const { db } = database;
    reserveLoginAttempt(db, 'a@x.org', 'ip', T0);
    loginLockout(db, 'a@x.org', 'ip', at(LOGIN_WINDOW_MS + 1));
    expect(db.select().from(loginAttempts).all()).toHaveLength(0);
  });
});
