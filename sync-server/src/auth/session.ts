import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { SessionRow, UserRow } from '../db/schema';
import type { TxRepositories } from '../repositories';

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

export async function createSession(
  repos: Pick<TxRepositories, 'accounts'>,
  userId: string,
  now: Date,
): Promise<{ token: string; session: SessionRow }> {
  const token = generateSessionToken();
  const session: SessionRow = {
    id: sessionIdFromToken(token),
    userId,
    expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS),
    createdAt: now,
    deviceId: null,
  };
  await repos.accounts.insertSession(session);
  return { token, session };
}

export interface ValidatedSession {
  session: SessionRow;
  user: UserRow;
  /** The expiry was extended: the cookie must be set again. */
  renewed: boolean;
}

/**
 * Looks the token's hash up; deletes it when expired or when its user is disabled; extends it
 * (sliding expiry) when less than 15 days are left. Run on every request: one indexed query (the
 * session's primary key, joined to its user's), and a write only when something changes. The
 * session lives in the database only, so any server instance can validate it, and signing out on
 * one is seen by every other on the next request.
 */
export async function validateSessionToken(
  repos: Pick<TxRepositories, 'accounts'>,
  token: string,
  now: Date,
): Promise<ValidatedSession | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const id = sessionIdFromToken(token);
  const row = await repos.accounts.sessionWithUser(id);
  if (!row) return null;
  const { session, user } = row;
  if (now.getTime() >= session.expiresAt.getTime()) {
    await repos.accounts.deleteSession(id);
    return null;
  }
  if (user.disabledAt) {
    // Disabling deletes sessions already; this is belt and braces.
    await repos.accounts.deleteUserSessions(user.id);
    return null;
  }
  let renewed = false;
  if (session.expiresAt.getTime() - now.getTime() < SESSION_RENEW_THRESHOLD_MS) {
    session.expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
    await repos.accounts.setSessionExpiry(id, session.expiresAt);
    renewed = true;
  }
  return { session, user, renewed };
}

export async function invalidateSession(
  repos: Pick<TxRepositories, 'accounts'>,
  sessionId: string,
): Promise<void> {
  await repos.accounts.deleteSession(sessionId);
}

export async function invalidateUserSessions(
  repos: Pick<TxRepositories, 'accounts'>,
  userId: string,
): Promise<void> {
  await repos.accounts.deleteUserSessions(userId);
}

/** Housekeeping: sessions that expired without being presented again. */
export function sweepExpiredSessions(
  repos: Pick<TxRepositories, 'accounts'>,
  now: Date,
): Promise<number> {
  return repos.accounts.deleteExpiredSessions(now);
}
