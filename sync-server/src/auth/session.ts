import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { eq, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/connection';
import { sessions, users, type SessionRow, type UserRow } from '../db/schema';

/**
 * Sessions as Lucia's maintainers now describe them: the client holds a random token; the server
 * stores only its SHA-256, so a leaked database cannot be replayed as cookies.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
export const SESSION_LIFETIME_MS = 30 * DAY_MS;
/** When less than this is left, a validated session is extended to a full lifetime again. */
export const SESSION_RENEW_THRESHOLD_MS = 15 * DAY_MS;

const TOKEN_PATTERN = /^[a-z2-7]{32}$/; // 20 bytes of base32 without padding

export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdFromToken(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export function createSession(
  db: DbOrTx,
  userId: string,
  now: Date,
): { token: string; session: SessionRow } {
  const token = generateSessionToken();
  const session: SessionRow = {
    id: sessionIdFromToken(token),
    userId,
    expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS),
    createdAt: now,
    deviceId: null,
  };
  db.insert(sessions).values(session).run();
  return { token, session };
}

// The hot path of every authenticated request: a prepared statement per connection.
const prepareLookup = (db: DbOrTx) =>
  db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare();
const lookups = new WeakMap<DbOrTx, ReturnType<typeof prepareLookup>>();
function sessionLookup(db: DbOrTx) {
  let statement = lookups.get(db);
  if (!statement) lookups.set(db, (statement = prepareLookup(db)));
  return statement;
}

export interface ValidatedSession {
  session: SessionRow;
  user: UserRow;
  /** The expiry was extended: the cookie must be set again. */
  renewed: boolean;
}

/**
 * Looks the token's hash up; deletes it when expired or when its user is disabled; extends it
 * (sliding expiry) when less than 15 days are left.
 */
export function validateSessionToken(
  db: DbOrTx,
  token: string,
  now: Date,
): ValidatedSession | null {
  if (!TOKEN_PATTERN.test(token)) return null;
  const id = sessionIdFromToken(token);
  const row = sessionLookup(db).get({ id });
  if (!row) return null;
  const { session, user } = row;
  if (now.getTime() >= session.expiresAt.getTime()) {
    db.delete(sessions).where(eq(sessions.id, id)).run();
    return null;
  }
  if (user.disabledAt) {
    // Disabling deletes sessions already; this is belt and braces.
    db.delete(sessions).where(eq(sessions.userId, user.id)).run();
    return null;
  }
  let renewed = false;
  if (session.expiresAt.getTime() - now.getTime() < SESSION_RENEW_THRESHOLD_MS) {
    session.expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
    db.update(sessions).set({ expiresAt: session.expiresAt }).where(eq(sessions.id, id)).run();
    renewed = true;
  }
  return { session, user, renewed };
}

export function invalidateSession(db: DbOrTx, sessionId: string): void {
  db.delete(sessions).where(eq(sessions.id, sessionId)).run();
}

export function invalidateUserSessions(db: DbOrTx, userId: string): void {
  db.delete(sessions).where(eq(sessions.userId, userId)).run();
}

/** Housekeeping: sessions that expired without being presented again. */
export function deleteExpiredSessions(db: DbOrTx, now: Date): number {
  return db.delete(sessions).where(lte(sessions.expiresAt, now)).run().changes;
}
