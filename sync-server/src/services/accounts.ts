import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';
import type { z } from 'zod';
import { gateLoginAttempt, isKnownIp, withdrawLoginAttempt } from '../auth/rate-limit';
import { invalidateUserSessions } from '../auth/session';
import type { SessionRow, UserRow } from '../db/schema';
import { ApiError, notFound } from '../errors';
import {
  passwordMatchesEmail,
  type ChangePasswordRequest,
  type PasswordResetRequest,
  type ResetCodeResponse,
} from '../protocol';
import type { Repositories, TxRepositories } from '../repositories';
import { writeAudit, type Actor, type AuditAction } from './audit';
import type { AuthDeps } from './auth';
import { generateInvitationCode } from './invitations';

/*
 * Account security (issue 15): sign out everywhere, change of password, and the admin's one-time
 * reset code for a user who forgot theirs. Password checks share sign-in's throttling
 * (auth/rate-limit.ts): the attempt is reserved before any hash, so parallel guesses count.
 */

/** How long a reset code stays usable. */
export const RESET_CODE_LIFETIME_MS = 24 * 60 * 60 * 1000;
/**
 * Reset attempts are counted in sign-in's buckets under this prefix: per (account, IP), per account
 * and per IP, with the same progressive delays, apart from the account's sign-in failures.
 */
export const RESET_KEY_PREFIX = 'reset:';

const hashCode = (code: string) => encodeHexLowerCase(sha256(new TextEncoder().encode(code)));

async function rateLimited(
  repos: Pick<TxRepositories, 'audit'>,
  actor: Actor,
  action: AuditAction,
  target: string,
  wait: number,
) {
  await writeAudit(repos, actor, action, target);
  const words = wait < 60 ? `${wait} second(s)` : `${Math.ceil(wait / 60)} minute(s)`;
  return new ApiError(429, 'rate_limited', `Too many failed attempts. Try again in ${words}.`, {
    'Retry-After': String(wait),
  });
}

const policyError = (field: string) =>
  new ApiError(400, 'invalid_request', `${field}: must not be your email address`);

/** Ends every session of the user, this one included. */
export function logoutEverywhere(
  repos: Repositories,
  userId: string,
  actor: Actor,
): Promise<number> {
  return repos.transaction(async (tx) => {
    const ended = await tx.accounts.deleteUserSessions(userId);
    await writeAudit(tx, actor, 'auth.logout_all', userId, { sessionsEnded: ended });
    return ended;
  });
}

/**
 * Changes the signed-in user's password after checking the current one (throttled like sign-in,
 * in the same buckets: a stolen session cannot be used to guess the password faster). Every other
 * session of the user ends; this one stays.
 */
export async function changePassword(
  { repos, passwords }: AuthDeps,
  user: UserRow,
  session: SessionRow,
  input: z.output<typeof ChangePasswordRequest>,
  actor: Actor,
): Promise<void> {
  if (passwordMatchesEmail(input.newPassword, user.email)) throw policyError('newPassword');
  const known = await isKnownIp(repos, user.id, actor.ip, actor.at);
  const gate = await gateLoginAttempt(repos, user.email, actor.ip, actor.at, known);
  if ('retryAfter' in gate) {
    throw await rateLimited(
      repos,
      actor,
      'auth.password_change_rate_limited',
      user.id,
      gate.retryAfter,
    );
  }
  const { attempt } = gate;
  if (!(await passwords.verify(user.passwordHash, input.currentPassword))) {
    await writeAudit(repos, actor, 'auth.password_change_failed', user.id, {
      reason: 'wrong_password',
    });
    throw new ApiError(401, 'invalid_credentials', 'The current password is wrong');
  }
  await withdrawLoginAttempt(repos, attempt);
  const passwordHash = await passwords.hash(input.newPassword);
  await repos.transaction(async (tx) => {
    await tx.accounts.setPasswordHash(user.id, passwordHash);
    const ended = await tx.accounts.deleteUserSessions(user.id, session.id);
    await writeAudit(tx, actor, 'auth.password_change', user.id, { otherSessionsEnded: ended });
  });
}

/**
 * A one-time reset code for `userId`, shown once to the admin who asked: only its SHA-256 is
 * stored, it expires in 24 hours, and it replaces any earlier unused code of the user.
 */
export async function createResetCode(
  repos: Repositories,
  userId: string,
  actor: Actor,
): Promise<ResetCodeResponse> {
  const code = generateInvitationCode();
  const expiresAt = new Date(actor.at.getTime() + RESET_CODE_LIFETIME_MS);
  await repos.transaction(async (tx) => {
    // The user's row is held (SELECT … FOR UPDATE on PostgreSQL) so that two admins asking at
    // once run one after the other, and only the newer code stays usable.
    if (!(await tx.accounts.userForUpdate(userId))) throw notFound('User');
    await tx.accounts.revokeResetCodes(userId, actor.at);
    await tx.accounts.insertResetCode({
      id: crypto.randomUUID(),
      userId,
      codeHash: hashCode(code),
      createdBy: actor.userId ?? '',
      createdAt: actor.at,
      expiresAt,
      usedAt: null,
      revokedAt: null,
    });
    await writeAudit(tx, actor, 'auth.reset_code_create', userId, {
      expiresAt: expiresAt.toISOString(),
    });
  });
  return { code, expiresAt: expiresAt.toISOString() };
}

const invalidCode = () =>
  new ApiError(
    400,
    'invalid_reset_code',
    'This email and reset code do not match a valid code. Codes work once and for 24 hours; ask your administrator for a new one.',
  );

/**
 * Sets a new password with a reset code. Throttled per (account, IP), account and IP before
 * anything is checked; the same answer for an unknown email, a wrong, used or expired code. The
 * code is claimed by a conditional UPDATE (`used_at IS NULL`, accounts.claimResetCode) in the
 * transaction that changes the password, so it works once even when sent twice at once to two
 * instances; every session of the account ends.
 */
export async function resetPassword(
  { repos, passwords }: AuthDeps,
  input: z.output<typeof PasswordResetRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<void> {
  const anonymous = { ...actor, userId: null };
  const key = RESET_KEY_PREFIX + input.email;
  const gate = await gateLoginAttempt(repos, key, actor.ip, actor.at, false);
  if ('retryAfter' in gate) {
    throw await rateLimited(
      repos,
      anonymous,
      'auth.password_reset_rate_limited',
      input.email,
      gate.retryAfter,
    );
  }
  const { attempt } = gate;
  const user = await repos.accounts.userByEmail(input.email);
  const row = user ? await repos.accounts.resetCode(user.id, hashCode(input.code)) : undefined;
  const reason = !user
    ? 'unknown_email'
    : !row
      ? 'wrong_code'
      : row.usedAt
        ? 'used'
        : row.revokedAt
          ? 'replaced'
          : row.expiresAt.getTime() <= actor.at.getTime()
            ? 'expired'
            : null;
  if (reason || !user || !row) {
    await writeAudit(
      repos,
      { ...actor, userId: user?.id ?? null },
      'auth.password_reset_failed',
      input.email,
      { reason },
    );
    throw invalidCode();
  }
  await withdrawLoginAttempt(repos, attempt);
  const passwordHash = await passwords.hash(input.newPassword); // slow: outside the transaction
  await repos.transaction(async (tx) => {
    if (!(await tx.accounts.claimResetCode(row.id, actor.at))) throw invalidCode(); // used meanwhile
    await tx.accounts.setPasswordHash(user.id, passwordHash);
    await invalidateUserSessions(tx, user.id);
    await writeAudit(tx, { ...actor, userId: user.id }, 'auth.password_reset', user.id);
  });
}
