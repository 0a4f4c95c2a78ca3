import type { PasswordHasher } from '../auth/password';
import { gateLoginAttempt, isKnownIp, withdrawLoginAttempt } from '../auth/rate-limit';
import { createSession, invalidateSession } from '../auth/session';
import type { AttemptLimiter } from '../auth/attempt-limiter';
import type { InvitationRow, SessionRow, UserRow } from '../db/schema';
import { ApiError } from '../errors';
import type { LoginRequest, MeResponse, SignupRequest } from '../protocol';
import type { Repositories, TxRepositories } from '../repositories';
import type { z } from 'zod';
import { writeAudit, type Actor } from './audit';
import { isUniqueViolation } from './db-errors';
import { findRedeemableInvitation, markInvitationUsed } from './invitations';
import { meOf } from './users';

export interface AuthDeps {
  repos: Repositories;
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
 * password is hashed (slow, and memory-hungry), and again inside one transaction with the
 * emptiness check, the insert and marking the invitation used, so two concurrent first sign-ups
 * cannot both become admin and one invitation cannot be used twice, on any instance. Failures
 * are audited and limited per IP (`limiter`).
 */
export async function signup(
  { repos, passwords }: AuthDeps,
  input: z.output<typeof SignupRequest>,
  actor: Omit<Actor, 'userId'>,
  limiter: AttemptLimiter,
): Promise<SignedIn> {
  const anonymous = { ...actor, userId: null };
  const reservation = await limiter.reserve(actor.ip, actor.at);
  if ('retryAfter' in reservation) {
    await writeAudit(repos, anonymous, 'auth.signup_rate_limited', input.email);
    throw new ApiError(
      429,
      'rate_limited',
      `Too many failed sign-ups. Try again in ${Math.ceil(reservation.retryAfter / 60)} minute(s).`,
      { 'Retry-After': String(reservation.retryAfter) },
    );
  }
  try {
    const signedIn = await createAccount({ repos, passwords }, input, actor);
    await reservation.withdraw();
    return signedIn;
  } catch (err) {
    // The code itself is a credential: only the failure's code is kept.
    const reason = err instanceof ApiError ? err.code : 'internal';
    await writeAudit(repos, anonymous, 'auth.signup_failed', input.email, { reason });
    throw err;
  }
}

/** Whether a new account needs an invitation, and which: 400 invalid_invitation when unusable. */
async function invitationFor(
  tx: Pick<TxRepositories, 'accounts' | 'teams'>,
  input: z.output<typeof SignupRequest>,
  at: Date,
): Promise<InvitationRow | null> {
  if ((await tx.accounts.countUsers()) === 0) return null;
  if (!input.invitationCode) {
    throw new ApiError(400, 'invalid_invitation', 'An invitation code is required');
  }
  return findRedeemableInvitation(tx, input.invitationCode, at);
}

async function checkEmailFree(tx: Pick<TxRepositories, 'accounts'>, email: string) {
  if (await tx.accounts.userByEmail(email)) throw emailTaken();
}

async function createAccount(
  { repos, passwords }: AuthDeps,
  input: z.output<typeof SignupRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<SignedIn> {
  await invitationFor(repos, input, actor.at);
  await checkEmailFree(repos, input.email);
  const passwordHash = await passwords.hash(input.password); // slow: outside the transaction
  try {
    const { token, user } = await repos.transaction(async (tx) => {
      // Serialises sign-ups until the commit (an advisory lock on PostgreSQL, whose READ COMMITTED
      // would let two first sign-ups both count no users; SQLite's BEGIN IMMEDIATE already does).
      // The invitation is claimed by a conditional UPDATE (markInvitationUsed) and the email by
      // its unique index, so neither can be taken twice even without the lock.
      await tx.accounts.lockSignups();
      const invitation = await invitationFor(tx, input, actor.at);
      await checkEmailFree(tx, input.email);
      const user: UserRow = {
        id: crypto.randomUUID(),
        email: input.email,
        name: input.name,
        passwordHash,
        isAdmin: invitation === null,
        disabledAt: null,
        createdAt: actor.at,
      };
      await tx.accounts.insertUser(
        user,
        invitation ? { teamId: invitation.teamId, role: invitation.role } : null,
      );
      if (invitation) await markInvitationUsed(tx, invitation.code, user.id, actor.at);
      await writeAudit(
        tx,
        { ...actor, userId: user.id },
        'auth.signup',
        user.id,
        invitation
          ? { teamId: invitation.teamId, role: invitation.role }
          : { firstAccount: true, isAdmin: true },
      );
      const { token } = await createSession(tx, user.id, actor.at);
      return { token, user };
    });
    return { token, me: await meOf(repos, user) };
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
  { repos, passwords }: AuthDeps,
  input: z.output<typeof LoginRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<SignedIn> {
  const { email, password } = input;
  const user = await repos.accounts.userByEmail(email);
  const known = await isKnownIp(repos, user?.id ?? null, actor.ip, actor.at);
  const gate = await gateLoginAttempt(repos, email, actor.ip, actor.at, known);
  if ('retryAfter' in gate) {
    const { retryAfter } = gate;
    await writeAudit(repos, { ...actor, userId: null }, 'auth.login_rate_limited', email);
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
    await writeAudit(repos, { ...actor, userId: user?.id ?? null }, 'auth.login_failed', email, {
      reason: user ? 'wrong_password' : 'unknown_email',
    });
    throw new ApiError(401, 'invalid_credentials', 'Wrong email or password');
  }
  await withdrawLoginAttempt(repos, attempt);
  if (user.disabledAt) {
    await writeAudit(repos, { ...actor, userId: user.id }, 'auth.login_disabled', user.id);
    throw new ApiError(403, 'account_disabled', 'This account has been disabled');
  }
  const token = await repos.transaction(async (tx) => {
    const { token } = await createSession(tx, user.id, actor.at);
    await writeAudit(tx, { ...actor, userId: user.id }, 'auth.login', user.id);
    return token;
  });
  return { token, me: await meOf(repos, user) };
}

export function logout(
  repos: Repositories,
  session: SessionRow,
  actor: Omit<Actor, 'userId'>,
): Promise<void> {
  return repos.transaction(async (tx) => {
    await invalidateSession(tx, session.id);
    await writeAudit(tx, { ...actor, userId: session.userId }, 'auth.logout', session.userId);
  });
}
