import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Repositories } from '../repositories';
import { writeAudit } from '../services/audit';
import { DAY, testDatabase, type TestDatabase } from '../test-utils';
import {
  delayAfter,
  gateLoginAttempt,
  isKnownIp,
  KNOWN_IP_MS,
  LOGIN_FREE_FAILURES,
  LOGIN_MAX_DELAY_S,
  LOGIN_WINDOW_MS,
  loginDelay,
  reserveLoginAttempt,
} from './rate-limit';

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

// On the database TEST_DB names (SQLite by default), through the repositories only.
let database: TestDatabase;
let db: Repositories;
beforeEach(async () => {
  database = await testDatabase();
  db = database.repos;
}, 60_000);
afterEach(() => database.close());
/** Every failure still stored for this email (any IP, any time). */
const storedFailures = async (email: string) =>
  (await db.limits.loginBucket({ email }, new Date(0))).failures;

describe('login delays', () => {
  it('doubles from 1 s past the free failures, up to 15 minutes', () => {
    expect(delayAfter(4, 5)).toBe(0);
    expect([5, 6, 7, 8].map((n) => delayAfter(n, 5))).toEqual([1, 2, 4, 8]);
    expect(delayAfter(15, 5)).toBe(LOGIN_MAX_DELAY_S);
    expect(delayAfter(1000, 5)).toBe(LOGIN_MAX_DELAY_S);
  });

  it('delays one account from one IP after 5 failures, counted from the latest', async () => {
    for (let i = 0; i < LOGIN_FREE_FAILURES.pair - 1; i++) {
      await reserveLoginAttempt(db, 'a@x.org', 'ip1', T0);
    }
    expect(await loginDelay(db, 'a@x.org', 'ip1', T0, true)).toBeNull();
    await reserveLoginAttempt(db, 'a@x.org', 'ip1', T0);
    expect(await loginDelay(db, 'a@x.org', 'ip1', T0, true)).toBe(1);
    expect(await loginDelay(db, 'a@x.org', 'ip1', at(1000), true)).toBeNull();
    await reserveLoginAttempt(db, 'a@x.org', 'ip1', at(1000));
    expect(await loginDelay(db, 'a@x.org', 'ip1', at(1000), true)).toBe(2);
    // Another IP is another pair (the account-wide bucket is not reached yet).
    expect(await loginDelay(db, 'a@x.org', 'ip2', at(1000), false)).toBeNull();
  });

  it('applies the account-wide and IP-wide buckets only from an IP the account is not known at', async () => {
    for (let i = 0; i < 30; i++) await reserveLoginAttempt(db, 'a@x.org', `10.0.0.${i}`, T0);
    for (let i = 0; i < 30; i++) await reserveLoginAttempt(db, `u${i}@x.org`, 'clinic', T0);
    expect(await loginDelay(db, 'a@x.org', 'elsewhere', at(1000), false)).toBe(
      LOGIN_MAX_DELAY_S - 1,
    );
    expect(await loginDelay(db, 'a@x.org', 'home', at(1000), true)).toBeNull();
    expect(await loginDelay(db, 'staff@x.org', 'clinic', at(1000), false)).toBe(
      LOGIN_MAX_DELAY_S - 1,
    );
    expect(await loginDelay(db, 'staff@x.org', 'clinic', at(1000), true)).toBeNull();
  });

  it('knows an IP from a sign-in or sign-up within 90 days', async () => {
    await writeAudit(db, { userId: 'u1', ip: 'clinic', at: T0 }, 'auth.login', 'u1');
    await writeAudit(db, { userId: 'u2', ip: 'clinic', at: T0 }, 'auth.login_failed', 'u2');
    expect(await isKnownIp(db, 'u1', 'clinic', at(DAY))).toBe(true);
    expect(await isKnownIp(db, 'u1', 'other', at(DAY))).toBe(false);
    expect(await isKnownIp(db, 'u2', 'clinic', at(DAY))).toBe(false);
    expect(await isKnownIp(db, 'u1', 'clinic', at(KNOWN_IP_MS + 1))).toBe(false);
    expect(await isKnownIp(db, null, 'clinic', at(DAY))).toBe(false);
  });

  it('prunes failures older than the window', async () => {
    await reserveLoginAttempt(db, 'a@x.org', 'ip', T0);
    await loginDelay(db, 'a@x.org', 'ip', at(LOGIN_WINDOW_MS + 1), false);
    expect(await storedFailures('a@x.org')).toBe(0);
  });

  it('gateLoginAttempt reserves while free, then answers the wait without counting the refusal', async () => {
    const gates = [];
    for (let i = 0; i < LOGIN_FREE_FAILURES.pair + 2; i++) {
      gates.push(await gateLoginAttempt(db, 'a@x.org', 'ip1', T0, true));
    }
    expect(gates.filter((g) => 'attempt' in g)).toHaveLength(LOGIN_FREE_FAILURES.pair);
    expect(gates.at(-1)).toEqual({ retryAfter: 1 });
    expect(await storedFailures('a@x.org')).toBe(LOGIN_FREE_FAILURES.pair);
    // Another bucket key is not held back.
    expect('attempt' in (await gateLoginAttempt(db, 'b@x.org', 'ip1', T0, true))).toBe(true);
  });

  it('gateLoginAttempt: attempts sent at once count each other (the check and the insert are atomic)', async () => {
    const gates = await Promise.all(
      Array.from({ length: 20 }, () => gateLoginAttempt(db, 'c@x.org', 'ip1', T0, true)),
    );
    expect(gates.filter((g) => 'attempt' in g)).toHaveLength(LOGIN_FREE_FAILURES.pair);
    expect(await storedFailures('c@x.org')).toBe(LOGIN_FREE_FAILURES.pair);
  });
});
