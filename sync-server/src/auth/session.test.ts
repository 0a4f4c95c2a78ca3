import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Repositories } from '../repositories';
import { DAY, testDatabase, type TestDatabase } from '../test-utils';
import {
  createSession,
  sweepExpiredSessions,
  generateSessionToken,
  invalidateSession,
  invalidateUserSessions,
  sessionIdFromToken,
  validateSessionToken,
} from './session';

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);

// On the database TEST_DB names (SQLite by default), through the repositories only.
let database: TestDatabase;
let repos: Repositories;
beforeEach(async () => {
  database = await testDatabase();
  repos = database.repos;
  for (const id of ['u1', 'u2']) {
    await repos.accounts.insertUser(
      {
        id,
        email: `${id}@example.org`,
        name: id,
        passwordHash: 'x',
        isAdmin: false,
        disabledAt: null,
        createdAt: T0,
      },
      null,
    );
  }
}, 60_000);
afterEach(() => database.close());
const sessionRow = async (token: string) =>
  (await repos.accounts.sessionWithUser(sessionIdFromToken(token)))?.session;

describe('tokens', () => {
  it('are 20 random bytes in lower-case base32 without padding', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateSessionToken));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^[a-z2-7]{32}$/);
  });

  it('are stored as the hex SHA-256 of the token', () => {
    const token = generateSessionToken();
    expect(sessionIdFromToken(token)).toBe(
      encodeHexLowerCase(sha256(new TextEncoder().encode(token))),
    );
    expect(sessionIdFromToken('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('validateSessionToken', () => {
  it('finds a session by the hash of its token', async () => {
    const { token, session } = await createSession(repos, 'u1', T0);
    expect(session.expiresAt).toEqual(at(30));
    const result = await validateSessionToken(repos, token, at(1));
    expect(result).toMatchObject({
      renewed: false,
      user: { id: 'u1' },
      session: { id: session.id },
    });
    expect(await validateSessionToken(repos, generateSessionToken(), at(1))).toBeNull();
    expect(await validateSessionToken(repos, 'not a token', at(1))).toBeNull();
  });

  it('deletes an expired session', async () => {
    const { token } = await createSession(repos, 'u1', T0);
    expect(await validateSessionToken(repos, token, at(30))).toBeNull();
    expect(await sessionRow(token)).toBeUndefined();
  });

  it('renews only when less than 15 days are left', async () => {
    const { token } = await createSession(repos, 'u1', T0);
    expect((await validateSessionToken(repos, token, at(15)))!.renewed).toBe(false);
    const renewed = (await validateSessionToken(repos, token, at(15.5)))!;
    expect(renewed.renewed).toBe(true);
    expect(renewed.session.expiresAt).toEqual(at(45.5));
    expect((await sessionRow(token))!.expiresAt).toEqual(at(45.5));
  });

  it('refuses and removes the sessions of a disabled user', async () => {
    const { token } = await createSession(repos, 'u1', T0);
    await repos.accounts.setDisabledAt('u1', T0);
    expect(await validateSessionToken(repos, token, at(1))).toBeNull();
    expect(await sessionRow(token)).toBeUndefined();
  });
});

describe('invalidation', () => {
  it('removes one session, or all of a user', async () => {
    const a = await createSession(repos, 'u1', T0);
    const b = await createSession(repos, 'u1', T0);
    const c = await createSession(repos, 'u2', T0);
    await invalidateSession(repos, a.session.id);
    expect(await validateSessionToken(repos, a.token, at(1))).toBeNull();
    expect(await validateSessionToken(repos, b.token, at(1))).not.toBeNull();
    await invalidateUserSessions(repos, 'u1');
    expect(await validateSessionToken(repos, b.token, at(1))).toBeNull();
    expect(await validateSessionToken(repos, c.token, at(1))).not.toBeNull();
  });
});

describe('sweepExpiredSessions', () => {
  it('removes only the expired sessions', async () => {
    const old = await createSession(repos, 'u1', T0);
    const fresh = await createSession(repos, 'u2', at(10));
    expect(await sweepExpiredSessions(repos, at(30))).toBe(1);
    expect(await sessionRow(old.token)).toBeUndefined();
    expect(await sessionRow(fresh.token)).toBeDefined();
  });
});
