import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';
import { and, eq, gt, isNull, ne } from 'drizzle-orm';
import type { z } from 'zod';
import { gateLoginAttempt, isKnownIp, withdrawLoginAttempt } from '../auth/rate-limit';
import { invalidateUserSessions } from '../auth/session';
import type { Db } from '../db/connection';
import { passwordResetCodes, sessions, users, type SessionRow, type UserRow } from '../db/schema';
import { ApiError, notFound } from '../errors';
import {
  passwordMatchesEmail,
  type ChangePasswordRequest,
  type PasswordResetRequest,
  type ResetCodeResponse,
} from '../protocol';
import { writeAuditDb, type Actor, type AuditAction } from './audit';
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

function rateLimited(db: Db, actor: Actor, action: AuditAction, target: string, wait: number) {
  writeAuditDb(db, actor, action, target);
  const words = wait < 60 ? `${wait} second(s)` : `${Math.ceil(wait / 60)} minute(s)`;
  return new ApiError(429, 'rate_limited', `Too many failed attempts. Try again in ${words}.`, {
    'Retry-After': String(wait),
  });
}

const policyError = (field: string) =>
  new ApiError(400, 'invalid_request', `${field}: must not be your email address`);

/** Ends every session of the user, this one included. */
export function logoutEverywhere(db: Db, userId: string, actor: Actor): number {
  return db.transaction((tx) => {
    const ended = tx.delete(sessions).where(eq(sessions.userId, userId)).run().changes;
    writeAuditDb(tx, actor, 'auth.logout_all', userId, { sessionsEnded: ended });
    return ended;
  });
}

/**
 * Changes the signed-in user's password after checking the current one (throttled like sign-in,
 * in the same buckets: a stolen session cannot be used to guess the password faster). Every other
 * session of the user ends; this one stays.
 */
export async function changePassword(
  { db, passwords }: AuthDeps,
  user: UserRow,
  session: SessionRow,
  input: z.output<typeof ChangePasswordRequest>,
  actor: Actor,
): Promise<void> {
  if (passwordMatchesEmail(input.newPassword, user.email)) throw policyError('newPassword');
  const known = isKnownIp(db, user.id, actor.ip, actor.at);
  const gate = gateLoginAttempt(db, user.email, actor.ip, actor.at, known);
  if ('retryAfter' in gate) {
    throw rateLimited(db, actor, 'auth.password_change_rate_limited', user.id, gate.retryAfter);
  }
  const { attempt } = gate;
  if (!(await passwords.verify(user.passwordHash, input.currentPassword))) {
    writeAuditDb(db, actor, 'auth.password_change_failed', user.id, { reason: 'wrong_password' });
    throw new ApiError(401, 'invalid_credentials', 'The current password is wrong');
  }
  withdrawLoginAttempt(db, attempt);
  const passwordHash = await passwords.hash(input.newPassword);
  db.transaction((tx) => {
    tx.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
    const ended = tx
      .delete(sessions)
      .where(and(eq(sessions.userId, user.id), ne(sessions.id, session.id)))
      .run().changes;
    writeAuditDb(tx, actor, 'auth.password_change', user.id, { otherSessionsEnded: ended });
  });
}

/**
 * A one-time reset code for `userId`, shown once to the admin who asked: only its SHA-256 is
 * stored, it expires in 24 hours, and it replaces any earlier unused code of the user.
 */
export function createResetCode(db: Db, userId: string, actor: Actor): ResetCodeResponse {
  const code = generateInvitationCode();
  const expiresAt = new Date(actor.at.getTime() + RESET_CODE_LIFETIME_MS);
  db.transaction((tx) => {
    const user = tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).get();
    if (!user) throw notFound('User');
    tx.update(passwordResetCodes)
      .set({ revokedAt: actor.at })
      .where(
        and(
          eq(passwordResetCodes.userId, userId),
          isNull(passwordResetCodes.usedAt),
          isNull(passwordResetCodes.revokedAt),
        ),
      )
      .run();
    tx.insert(passwordResetCodes)
      .values({
        id: crypto.randomUUID(),
        userId,
        codeHash: hashCode(code),
        createdBy: actor.userId ?? '',
        createdAt: actor.at,
        expiresAt,
      })
      .run();
    writeAuditDb(tx, actor, 'auth.reset_code_create', userId, {
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
 * code is marked used in the transaction that changes the password, so it works once even when
 * sent twice at once; every session of the account ends.
 */
export async function resetPassword(
  { db, passwords }: AuthDeps,
  input: z.output<typeof PasswordResetRequest>,
  actor: Omit<Actor, 'userId'>,
): Promise<void> {
  const anonymous = { ...actor, userId: null };
  const key = RESET_KEY_PREFIX + input.email;
  const gate = gateLoginAttempt(db, key, actor.ip, actor.at, false);
  if ('retryAfter' in gate) {
    throw rateLimited(
      db,
      anonymous,
      'auth.password_reset_rate_limited',
      input.email,
      gate.retryAfter,
    );
  }
  const { attempt } = gate;
  const user = db.select().from(users).where(eq(users.email, input.email)).get();
  const row = user
    ? db
        .select()
        .from(passwordResetCodes)
        .where(
          and(
            eq(passwordResetCodes.userId, user.id),
            eq(passwordResetCodes.codeHash, hashCode(input.code)),
          ),
        )
        .get()
    : undefined;
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
    writeAuditDb(
      db,
      { ...actor, userId: user?.id ?? null },
      'auth.password_reset_failed',
      input.email,
      {
        reason,
      },
    );
    throw invalidCode();
  }
  withdrawLoginAttempt(db, attempt);
  const passwordHash = await passwords.hash(input.newPassword); // slow: outside the transaction
  db.transaction(
    (tx) => {
      const claimed = tx
        .update(passwordResetCodes)
        .set({ usedAt: actor.at })
        .where(
          and(
            eq(passwordResetCodes.id, row.id),
            isNull(passwordResetCodes.usedAt),
            isNull(passwordResetCodes.revokedAt),
            gt(passwordResetCodes.expiresAt, actor.at),
          ),
        )
        .run().changes;
      if (claimed === 0) throw invalidCode(); // another request used it meanwhile
      tx.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
      invalidateUserSessions(tx, user.id);
      writeAuditDb(tx, { ...actor, userId: user.id }, 'auth.password_reset', user.id);
    },
    { behavior: 'immediate' },
  );
}
