import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSession,
  sessionIdFromToken,
  sweepExpiredSessions,
  validateSessionToken,
} from '../auth/session';
import type { UserRow } from '../db/schema';
import { createResetCode } from '../services/accounts';
import { isUniqueViolation } from '../services/db-errors';
import { rowsOn, rowsOnPg, type SyncRows } from '../sync-test-utils';
import { DAY, TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import type { Repositories } from './index';

/*
 * The contract of AccountsRepository (accounts.repository.ts) on both dialects: SQLite always,
 * PostgreSQL too when TEST_DB=postgres (the sync-server-pg project): sessions (expiry, renewal,
 * invalidation), a user's email case, and what must hold when two requests race on two instances
 * (a reset code claimed twice, two first sign-ups, two reset codes asked for at once).
 */

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const dialects = TEST_DB === 'postgres' ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const userRow = (id: string, email = `${id}@example.org`): UserRow => ({
  id,
  email,
  name: id,
  passwordHash: 'x',
  isAdmin: false,
  disabledAt: null,
  createdAt: T0,
});

describe.each(dialects)('AccountsRepository on %s', (dialect) => {
  let t: TestDatabase;
  let repos: Repositories;
  let rows: SyncRows;
  beforeEach(async () => {
    t = await testDatabase({ dialect, poolMax: 8 });
    repos = t.repos;
    rows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
    await repos.accounts.insertUser(userRow('u1'), null);
    await repos.accounts.insertUser(userRow('u2'), null);
  }, 120_000);
  afterEach(() => t.close());

  describe('users', () => {
    it('finds a user by email whatever the case typed; stores only lower case', async () => {
      expect((await repos.accounts.userByEmail('U1@Example.ORG'))?.id).toBe('u1');
      expect(await repos.accounts.userByEmail('nobody@example.org')).toBeUndefined();
      const mixed = await repos.accounts
        .insertUser(userRow('u3', 'Mixed@Example.org'), null)
        .catch((e: unknown) => e);
      expect(mixed).toBeInstanceOf(Error); // the CHECK (email = lower(email)) on both dialects
      expect(await repos.accounts.countUsers()).toBe(2);
    });

    it('refuses a second account with the same email as a unique violation', async () => {
      const error = await repos.accounts
        .insertUser(userRow('u3', 'u1@example.org'), null)
        .catch((e: unknown) => e);
      expect(isUniqueViolation(error)).toBe(true);
    });

    it('counts users as a number, lists them by email, inserts a first membership', async () => {
      await insertTeam('t1', 'Clinic B');
      await insertTeam('t2', 'Clinic A');
      await repos.accounts.insertUser(userRow('u0', 'a@example.org'), {
        teamId: 't1',
        role: 'supervisor',
      });
      await repos.accounts.insertUser(userRow('u4', 'b@example.org'), {
        teamId: 't2',
        role: 'clinician',
      });
      expect(await repos.accounts.countUsers()).toBe(4);
      expect((await repos.accounts.listUsers()).map((u) => u.email)).toEqual([
        'a@example.org',
        'b@example.org',
        'u1@example.org',
        'u2@example.org',
      ]);
      expect(await repos.accounts.listMemberships()).toEqual([
        { userId: 'u4', teamId: 't2', teamName: 'Clinic A', role: 'clinician' },
        { userId: 'u0', teamId: 't1', teamName: 'Clinic B', role: 'supervisor' },
      ]);
    });

    it('sets and clears disabledAt and the password hash', async () => {
      await repos.accounts.setDisabledAt('u1', at(1));
      await repos.accounts.setPasswordHash('u1', 'y');
      expect(await repos.accounts.userById('u1')).toMatchObject({
        disabledAt: at(1),
        passwordHash: 'y',
      });
      await repos.accounts.setDisabledAt('u1', null);
      expect((await repos.accounts.userForUpdate('u1'))?.disabledAt).toBeNull();
      expect(await repos.accounts.isAdmin('u1')).toBe(false);
      expect(await repos.accounts.isAdmin('nobody')).toBe(false);
    });

    it('two first sign-ups at once: lockSignups lets one count no users, not both', async () => {
      await t.close();
      t = await testDatabase({ dialect, poolMax: 8 });
      repos = t.repos;
      const firstSignup = (id: string) =>
        repos.transaction(async (tx) => {
          await tx.accounts.lockSignups();
          const isAdmin = (await tx.accounts.countUsers()) === 0;
          await sleep(50); // the other sign-up checks meanwhile
          await tx.accounts.insertUser({ ...userRow(id), isAdmin }, null);
          return isAdmin;
        });
      const admins = await Promise.all([firstSignup('a'), firstSignup('b'), firstSignup('c')]);
      expect(admins.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('sessions', () => {
    it('one lookup gives the session and its user, with dates', async () => {
      const { token, session } = await createSession(repos, 'u1', T0);
      const found = await repos.accounts.sessionWithUser(sessionIdFromToken(token));
      expect(found).toEqual({ session, user: userRow('u1') });
      expect(found!.session.expiresAt).toBeInstanceOf(Date);
      expect(await repos.accounts.sessionWithUser('0'.repeat(64))).toBeUndefined();
    });

    it('expire at their time exactly, are renewed in the last 15 days, and are swept', async () => {
      const a = await createSession(repos, 'u1', T0);
      const b = await createSession(repos, 'u2', T0);
      expect((await validateSessionToken(repos, a.token, at(15)))?.renewed).toBe(false);
      expect((await validateSessionToken(repos, a.token, at(20)))?.renewed).toBe(true);
      expect((await repos.accounts.sessionWithUser(a.session.id))!.session.expiresAt).toEqual(
        at(50),
      );
      expect(await validateSessionToken(repos, b.token, at(30))).toBeNull(); // deleted at expiry
      expect(await repos.accounts.sessionWithUser(b.session.id)).toBeUndefined();
      await createSession(repos, 'u2', T0);
      expect(await sweepExpiredSessions(repos, at(30) /* at the expiry: gone */)).toBe(1);
      expect(await sweepExpiredSessions(repos, at(49.9))).toBe(0);
    });

    it('are invalidated one by one, all of a user, or all but the current one', async () => {
      const a = await createSession(repos, 'u1', T0);
      const b = await createSession(repos, 'u1', T0);
      const c = await createSession(repos, 'u1', T0);
      const other = await createSession(repos, 'u2', T0);
      await repos.accounts.deleteSession(a.session.id);
      expect(await repos.accounts.sessionWithUser(a.session.id)).toBeUndefined();
      expect(await repos.accounts.deleteUserSessions('u1', c.session.id)).toBe(1);
      expect(await repos.accounts.sessionWithUser(b.session.id)).toBeUndefined();
      expect(await repos.accounts.deleteUserSessions('u1')).toBe(1);
      expect(await repos.accounts.sessionWithUser(c.session.id)).toBeUndefined();
      expect(await repos.accounts.sessionWithUser(other.session.id)).toBeDefined();
    });

    it('of a disabled user are refused and removed', async () => {
      const { token, session } = await createSession(repos, 'u1', T0);
      await repos.accounts.setDisabledAt('u1', T0);
      expect(await validateSessionToken(repos, token, at(1))).toBeNull();
      expect(await repos.accounts.sessionWithUser(session.id)).toBeUndefined();
    });
  });

  describe('reset codes', () => {
    const code = (id: string, over: Partial<Parameters<typeof insert>[0]> = {}) => ({
      id,
      userId: 'u1',
      codeHash: `hash-${id}`,
      createdBy: 'admin',
      createdAt: T0,
      expiresAt: at(1),
      usedAt: null,
      revokedAt: null,
      ...over,
    });
    const insert = (row: Parameters<Repositories['accounts']['insertResetCode']>[0]) =>
      repos.accounts.insertResetCode(row);

    it('are found by user and hash; revoking leaves used ones alone', async () => {
      await insert(code('c1'));
      await insert(code('c2', { usedAt: T0 }));
      expect((await repos.accounts.resetCode('u1', 'hash-c1'))?.id).toBe('c1');
      expect(await repos.accounts.resetCode('u2', 'hash-c1')).toBeUndefined();
      await repos.accounts.revokeResetCodes('u1', at(0.5));
      expect((await repos.accounts.resetCode('u1', 'hash-c1'))?.revokedAt).toEqual(at(0.5));
      expect((await repos.accounts.resetCode('u1', 'hash-c2'))?.revokedAt).toBeNull();
    });

    it('are claimed once: not when used, revoked or expired', async () => {
      await insert(code('c1'));
      await insert(code('c2', { revokedAt: T0 }));
      await insert(code('c3', { expiresAt: at(0.5) }));
      expect(await repos.accounts.claimResetCode('c1', at(0.1))).toBe(true);
      expect(await repos.accounts.claimResetCode('c1', at(0.2))).toBe(false);
      expect(await repos.accounts.claimResetCode('c2', at(0.1))).toBe(false);
      expect(await repos.accounts.claimResetCode('c3', at(0.5))).toBe(false);
    });

    it('sent twice at once, in two transactions, a code is claimed by one only', async () => {
      await insert(code('c1'));
      const claim = () =>
        repos.transaction(async (tx) => {
          const claimed = await tx.accounts.claimResetCode('c1', at(0.1));
          await sleep(50); // hold the transaction open while the other claims
          return claimed;
        });
      const results = await Promise.all([claim(), claim(), claim()]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await repos.accounts.resetCode('u1', 'hash-c1'))?.usedAt).toEqual(at(0.1));
    });

    it('asked for twice at once: only the newer code stays usable', async () => {
      const actor = { userId: 'u2', ip: 'ip', at: T0 };
      await Promise.all([
        createResetCode(repos, 'u1', actor),
        createResetCode(repos, 'u1', actor),
        createResetCode(repos, 'u1', actor),
      ]);
      const open = await rows(
        'SELECT id FROM password_reset_codes WHERE used_at IS NULL AND revoked_at IS NULL',
      );
      expect(open).toHaveLength(1);
    });
  });

  async function insertTeam(id: string, name: string) {
    const ms = T0.getTime();
    if (t.pool) {
      await t.pool.query(
        'INSERT INTO teams (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)',
        [id, name, ms],
      );
    } else {
      t.sqlite
        .prepare('INSERT INTO teams (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run(id, name, ms, ms);
    }
  }
});
