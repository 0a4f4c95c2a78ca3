import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../db/connection';
import { sessions, users } from '../db/schema';
import { DAY } from '../test-utils';
import {
  createSession,
  deleteExpiredSessions,
  generateSessionToken,
  invalidateSession,
  invalidateUserSessions,
  sessionIdFromToken,
  validateSessionToken,
} from './session';

const T0 = new Date('2026-03-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);

let database: OpenedDatabase;
beforeEach(() => {
  database = openDatabase(':memory:');
  for (const id of ['u1', 'u2']) {
    database.db
      .insert(users)
      .values({ id, email: `${id}@example.org`, name: id, passwordHash: 'x', createdAt: T0 })
      .run();
  }
});
afterEach(() => database.close());

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
  it('finds a session by the hash of its token', () => {
    const { token, session } = createSession(database.db, 'u1', T0);
    expect(session.expiresAt).toEqual(at(30));
    const result = validateSessionToken(database.db, token, at(1));
    expect(result).toMatchObject({
      renewed: false,
      user: { id: 'u1' },
      session: { id: session.id },
    });
    expect(validateSessionToken(database.db, generateSessionToken(), at(1))).toBeNull();
    expect(validateSessionToken(database.db, 'not a token', at(1))).toBeNull();
  });

  it('deletes an expired session', () => {
    const { token } = createSession(database.db, 'u1', T0);
    expect(validateSessionToken(database.db, token, at(30))).toBeNull();
    expect(database.db.select().from(sessions).all()).toHaveLength(0);
  });

  it('renews only when less than 15 days are left', () => {
    const { token } = createSession(database.db, 'u1', T0);
    expect(validateSessionToken(database.db, token, at(15))!.renewed).toBe(false);
    const renewed = validateSessionToken(database.db, token, at(15.5))!;
    expect(renewed.renewed).toBe(true);
    expect(renewed.session.expiresAt).toEqual(at(45.5));
    expect(database.db.select().from(sessions).get()!.expiresAt).toEqual(at(45.5));
  });

  it('refuses and removes the sessions of a disabled user', () => {
    const { token } = createSession(database.db, 'u1', T0);
    database.db.update(users).set({ disabledAt: T0 }).run();
    expect(validateSessionToken(database.db, token, at(1))).toBeNull();
    expect(database.db.select().from(sessions).all()).toHaveLength(0);
  });
});

describe('invalidation', () => {
  it('removes one session, or all of a user', () => {
    const a = createSession(database.db, 'u1', T0);
    const b = createSession(database.db, 'u1', T0);
    const c = createSession(database.db, 'u2', T0);
    invalidateSession(database.db, a.session.id);
    expect(validateSessionToken(database.db, a.token, at(1))).toBeNull();
    expect(validateSessionToken(database.db, b.token, at(1))).not.toBeNull();
    invalidateUserSessions(database.db, 'u1');
    expect(validateSessionToken(database.db, b.token, at(1))).toBeNull();
    expect(validateSessionToken(database.db, c.token, at(1))).not.toBeNull();
  });
});

describe('deleteExpiredSessions', () => {
  it('removes only the expired sessions', () => {
    createSession(database.db, 'u1', T0);
    const fresh = createSession(database.db, 'u2', at(10));
    expect(deleteExpiredSessions(database.db, at(30))).toBe(1);
    expect(
      database.db
        .select()
        .from(sessions)
        .all()
        .map((s) => s.id),
    ).toEqual([fresh.session.id]);
  });
});
