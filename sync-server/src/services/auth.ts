import { count, eq } from 'drizzle-orm';
import type { PasswordHasher } from '../auth/password';
import { gateLoginAttempt, isKnownIp, withdrawLoginAttempt } from '../auth/rate-limit';
import { createSession, invalidateSession } from '../auth/session';
import type { AttemptLimiter } from '../auth/attempt-limiter';
import type { Db, DbOrTx } from '../db/connection';
import {
  teamMemberships,
  users,
  type InvitationRow,
  type SessionRow,
  type UserRow,
} from '../db/schema';
import { ApiError } from '../errors';
import type { LoginRequest, MeResponse, SignupRequest } from '../protocol';
import type { z } from 'zod';
import { writeAuditDb, type Actor } from './audit';
import { isUniqueViolation } from './db-errors';
import { findRedeemableInvitationDb, markInvitationUsedDb } from './invitations';
import { meOf } from './users';

export interface AuthDeps {
  db: Db;
  passwords: PasswordHasher;
}

export interface SignedIn {
  /** The session token for the cookie; never stored or logged. */
  token: string;
  me: MeResponse;
}

const emailTaken = () =>
  new ApiError(409, 'email_taken', 'An account with this email already exists');

/** Failed sign-ups per IP: 10 in 15 minutes. Successful ones do not count. */
export const SIGNUP_MAX_FAILURES = 10;
export const SIGNUP_WINDOW_MS = 15 * 60 * 1000;

/**
 * The first account on an empty server becomes admin without a code; every later one needs a
 * valid invitation, which fixes its team and role. The code and the email are checked before the
 * password is hashed (slow, and memory-hungry), and again inside one IMMEDIATE transaction with
 * the emptiness check, the insert and marking the invitation used, so two concurrent first
 * sign-ups cannot both become admin and one invitation cannot be used twice. Failures are
 * audited and limited per IP (`limiter`).
 */
export async function signup(
  { db, passwords }: AuthDeps,
  input: z.output<typeof SignupRequest>,
  actor: Omit<Actor, 'userId'>,
  limiter: AttemptLimiter,
): Promise<SignedIn> {
  const anonymous = { ...actor, userId: null };
  const reservation = limiter.reserve(actor.ip, actor.at);
  if ('retryAfter' in reservation) {
    writeAuditDb(db, anonymous, 'auth.signup_rate_limited', input.email);
    throw new ApiError(
      429,
      'rate_limited',
      `Too many failed sign-ups. Try again in ${Math.ceil(reservation.retryAfter / 60)} minute(s).`,
      { 'Retry-After': String(reservation.retryAfter) },
    );
  }
  try {
    const signedIn = await createAccount({ db, passwords }, input, actor);
    reservation.withdraw();
    return signedIn;
  } catch (err) {
    // The code itself is a credential: only the failure's code is kept.
    const reason = err instanceof ApiError ? err.code : 'internal';
    writeAuditDb(db, anonymous, 'auth.signup_failed', input.email, { reason });
    throw err;
  }
}

/** Whether a new account needs an invitation, and which: 400 invalid_invitation when unusable. */
function invitationFor(
  tx: DbOrTx,
  input: z.output<typeof SignupRequest>,
  at: Date,
): InvitationRow | null {
  const userCount = tx.select({ n: count() }).from(users).get()?.n ?? 0;
  if (userCount === 0) return null;
  if (!input.invitationCode) {
    throw new ApiError(400, 'invalid_invitation', 'An invitation code is required');
  }
  return findRedeemableInvitationDb(tx, input.invitationCode, at);
}

function checkEmailFree(tx: DbOrTx, email: string): void {
  if (tx.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) {
    throw emailTaken();
  }
}

async function createAccount(
  { db, passwords }: AuthDeps,
  input: z.output<typeof SignupRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<SignedIn> {
  invitationFor(db, input, actor.at);
  checkEmailFree(db, input.email);
  const passwordHash = await passwords.hash(input.password); // slow: outside the transaction
  try {
    return db.transaction(
      (tx) => {
        const invitation = invitationFor(tx, input, actor.at);
        checkEmailFree(tx, input.email);
        const user: UserRow = {
          id: crypto.randomUUID(),
          email: input.email,
          name: input.name,
          passwordHash,
          isAdmin: invitation === null,
          disabledAt: null,
          createdAt: actor.at,
        };
        tx.insert(users).values(user).run();
        if (invitation) {
          markInvitationUsedDb(tx, invitation.code, user.id, actor.at);
          tx.insert(teamMemberships)
            .values({
              teamId: invitation.teamId,
              userId: user.id,
              role: invitation.role,
              createdAt: actor.at,
            })
            .run();
        }
        writeAuditDb(
          tx,
          { ...actor, userId: user.id },
          'auth.signup',
          user.id,
          invitation
            ? { teamId: invitation.teamId, role: invitation.role }
            : { firstAccount: true, isAdmin: true },
        );
        const { token } = createSession(tx, user.id, actor.at);
        return { token, me: meOf(tx, user) };
      },
      { behavior: 'immediate' },
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/**
 * Same 401 for an unknown email and a wrong password, with the same argon2 work for both.
 * Throttled first (auth/rate-limit.ts): during a delay even the right password is refused.
 */
export async function login(
  { db, passwords }: AuthDeps,
  input: z.output<typeof LoginRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<SignedIn> {
  const { email, password } = input;
  const user = db.select().from(users).where(eq(users.email, email)).get();
  const known = isKnownIp(db, user?.id ?? null, actor.ip, actor.at);
  const gate = gateLoginAttempt(db, email, actor.ip, actor.at, known);
  if ('retryAfter' in gate) {
    const { retryAfter } = gate;
    writeAuditDb(db, { ...actor, userId: null }, 'auth.login_rate_limited', email);
    const wait =
      retryAfter < 60 ? `${retryAfter} second(s)` : `${Math.ceil(retryAfter / 60)} minute(s)`;
    throw new ApiError(
      429,
      'rate_limited',
      `Too many failed sign-in attempts. Try again in ${wait}.`,
      { 'Retry-After': String(retryAfter) },
    );
  }
  const { attempt } = gate;
  const ok = user
    ? await passwords.verify(user.passwordHash, password)
    : await passwords.verifyDummy(password);
  if (!user || !ok) {
    writeAuditDb(db, { ...actor, userId: user?.id ?? null }, 'auth.login_failed', email, {
      reason: user ? 'wrong_password' : 'unknown_email',
    });
    throw new ApiError(401, 'invalid_credentials', 'Wrong email or password');
  }
  withdrawLoginAttempt(db, attempt);
  if (user.disabledAt) {
    writeAuditDb(db, { ...actor, userId: user.id }, 'auth.login_disabled', user.id);
    throw new ApiError(403, 'account_disabled', 'This account has been disabled');
  }
  return db.transaction((tx) => {
    const { token } = createSession(tx, user.id, actor.at);
    writeAuditDb(tx, { ...actor, userId: user.id }, 'auth.login', user.id);
    return { token, me: meOf(tx, user) };
  });
}

export function logout(db: Db, session: SessionRow, actor: Omit<Actor, 'userId'>): void {
  db.transaction((tx) => {
    invalidateSession(tx, session.id);
    writeAuditDb(tx, { ...actor, userId: session.userId }, 'auth.logout', session.userId);
  });
}
