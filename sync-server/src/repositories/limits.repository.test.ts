import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gateLoginAttempt, LOGIN_FREE_FAILURES } from '../auth/rate-limit';
import { writeAudit } from '../services/audit';
import { rowsOn, rowsOnPg, type SyncRows } from '../sync-test-utils';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import type { Repositories } from './index';

/*
 * The contract of LimitsRepository (limits.repository.ts) on both dialects: SQLite always,
 * PostgreSQL too when TEST_DB=postgres (the sync-server-pg project). What differs between them is
 * how a check and its reservation stay atomic (BEGIN IMMEDIATE; advisory locks under READ
 * COMMITTED): attempts sent at once, on many connections, count each other exactly.
 */

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const refused = (r: object) => ('retryAfter' in r ? r.retryAfter : null);
const dialects = TEST_DB === 'postgres' ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(dialects)('LimitsRepository on %s', (dialect) => {
  let t: TestDatabase;
  let repos: Repositories;
  let rows: SyncRows;
  beforeEach(async () => {
    t = await testDatabase({ dialect, poolMax: 16 });
    repos = t.repos;
    rows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
  }, 120_000);
  afterEach(() => t.close());

  const reserve = (key: string, ms: number, max = 3, maxRows = 100_000, scope = 'unit') =>
    repos.limits.reserveAttempt(scope, key, at(ms), max, 60_000, maxRows);
  const count = async (table: string) =>
    Number((await rows(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  describe('reserveAttempt', () => {
    it('refuses past the limit in the window, says how long to wait, and a withdrawal frees a place', async () => {
      for (const ms of [0, 1_000, 2_000]) expect(refused(await reserve('ip', ms))).toBeNull();
      expect(refused(await reserve('ip', 10_000))).toBe(50);
      expect(refused(await reserve('other', 10_000))).toBeNull();
      expect(refused(await reserve('ip', 60_000))).toBeNull(); // the attempt at 0 left the window
      expect(refused(await reserve('ip', 60_001))).toBe(1);
      expect(refused(await reserve('ip', 1, 3, 100_000, 'another scope'))).toBeNull();
      const r = await reserve('ip2', 0, 1);
      await repos.limits.deleteAttempt((r as { id: number }).id);
      expect(refused(await reserve('ip2', 1, 1))).toBeNull();
    });

    it('40 reservations at once for one key: exactly the limit gets through', async () => {
      for (let round = 0; round < 3; round++) {
        const all = await Promise.all(
          Array.from({ length: 40 }, () =>
            repos.limits.reserveAttempt('race', `203.0.113.${round}`, T0, 10, 15 * 60_000, 1e5),
          ),
        );
        expect(all.filter((r) => 'id' in r)).toHaveLength(10);
      }
    });

    it('inside a caller transaction, too', async () => {
      const inside = await repos.transaction(async (tx) => [
        await tx.limits.reserveAttempt('tx', 'k', T0, 1, 60_000, 1e5),
        await tx.limits.reserveAttempt('tx', 'k', T0, 1, 60_000, 1e5),
      ]);
      expect(inside.map(refused)).toEqual([null, 60]);
    });

    it('keeps the newest maxRows rows', async () => {
      for (let i = 0; i < 30; i++) await reserve(`k${i}`, i, 3, 10, 'flood');
      expect(await count('limiter_attempts')).toBeLessThanOrEqual(10);
      expect(refused(await reserve('k29', 100, 1, 10, 'flood'))).not.toBeNull();
    });

    it('deleteAttemptsBefore deletes every scope’s attempts at or before the time', async () => {
      await reserve('a', 0, 3, 1e5, 'one');
      await reserve('b', 1, 3, 1e5, 'two');
      await reserve('c', 2, 3, 1e5, 'two');
      expect(await repos.limits.deleteAttemptsBefore(at(1))).toBe(2);
      expect(await rows('SELECT key FROM limiter_attempts')).toEqual([{ key: 'c' }]);
    });
  });

  describe('sign-in attempts', () => {
    it('loginBucket counts after `since` by pair, email or IP, with the latest time', async () => {
      await repos.limits.insertLoginAttempt('a@x.org', 'ip1', at(0));
      await repos.limits.insertLoginAttempt('a@x.org', 'ip1', at(5_000));
      await repos.limits.insertLoginAttempt('a@x.org', 'ip2', at(2_000));
      await repos.limits.insertLoginAttempt('b@x.org', 'ip1', at(1_000));
      const since = at(-1);
      expect(await repos.limits.loginBucket({ email: 'a@x.org', ip: 'ip1' }, since)).toEqual({
        failures: 2,
        latest: at(5_000).getTime(),
      });
      expect(await repos.limits.loginBucket({ email: 'a@x.org' }, since)).toEqual({
        failures: 3,
        latest: at(5_000).getTime(),
      });
      expect(await repos.limits.loginBucket({ ip: 'ip1' }, at(0))).toEqual({
        failures: 2, // after `since`, not at it
        latest: at(5_000).getTime(),
      });
      // Case matters on both dialects (callers pass lower-cased emails).
      expect(await repos.limits.loginBucket({ email: 'A@x.org' }, since)).toEqual({
        failures: 0,
        latest: 0,
      });
    });

    it('pruneLoginAttempts deletes at or before the time; deleteLoginAttempt one row', async () => {
      const id = await repos.limits.insertLoginAttempt('a@x.org', 'ip', at(0));
      await repos.limits.insertLoginAttempt('a@x.org', 'ip', at(1));
      const kept = await repos.limits.insertLoginAttempt('a@x.org', 'ip', at(2));
      expect(typeof id).toBe('number');
      expect(await repos.limits.pruneLoginAttempts(at(1))).toBe(2);
      await repos.limits.deleteLoginAttempt(kept);
      expect(await count('login_attempts')).toBe(0);
    });

    it('signedInFrom: a sign-in or sign-up of that user from that IP after `since`', async () => {
      await writeAudit(repos, { userId: 'u1', ip: 'clinic', at: at(0) }, 'auth.login', 'u1');
      await writeAudit(repos, { userId: 'u2', ip: 'clinic', at: at(0) }, 'auth.signup', 'u2');
      await writeAudit(repos, { userId: 'u3', ip: 'clinic', at: at(0) }, 'auth.login_failed');
      expect(await repos.limits.signedInFrom('u1', 'clinic', at(-1))).toBe(true);
      expect(await repos.limits.signedInFrom('u2', 'clinic', at(-1))).toBe(true);
      expect(await repos.limits.signedInFrom('u3', 'clinic', at(-1))).toBe(false);
      expect(await repos.limits.signedInFrom('u1', 'home', at(-1))).toBe(false);
      expect(await repos.limits.signedInFrom('u1', 'clinic', at(0))).toBe(false);
    });

    // gateLoginAttempt is the service; what it relies on from the repository is that a check and
    // its reservation, under lockLoginKeys in one transaction, see every other one's row.
    const gate = (email: string, ip: string) => gateLoginAttempt(repos, email, ip, T0, false);
    const through = (gates: object[]) => gates.filter((g) => 'attempt' in g).length;

    it('one account from one IP, 30 at once: exactly the pair bucket’s free failures', async () => {
      const gates = await Promise.all(Array.from({ length: 30 }, () => gate('a@x.org', 'ip')));
      expect(through(gates)).toBe(LOGIN_FREE_FAILURES.pair);
    });

    it('one account from 30 IPs at once: exactly the account bucket’s free failures', async () => {
      const gates = await Promise.all(
        Array.from({ length: 30 }, (_, i) => gate('a@x.org', `10.0.0.${i}`)),
      );
      expect(through(gates)).toBe(LOGIN_FREE_FAILURES.account);
    });

    it('30 accounts from one IP at once: exactly the IP bucket’s free failures', async () => {
      const gates = await Promise.all(
        Array.from({ length: 30 }, (_, i) => gate(`u${i}@x.org`, 'clinic')),
      );
      expect(through(gates)).toBe(LOGIN_FREE_FAILURES.ip);
    });
  });
});
