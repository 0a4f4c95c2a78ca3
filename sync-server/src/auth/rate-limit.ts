import { and, desc, eq, gt, lte } from 'drizzle-orm';
import type { DbOrTx } from '../db/connection';
import { loginAttempts } from '../db/schema';

/** At most 10 failed logins per account (email) and per IP within 15 minutes. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const LOGIN_MAX_FAILURES = 10;

/**
 * Seconds until the next attempt may be made, or null when not locked out. The lock lifts when the
 * 10th most recent failure leaves the window. Refused attempts are not counted as failures, so the
 * lock is not extended by retrying during it.
 */
export function loginLockout(db: DbOrTx, email: string, ip: string, now: Date): number | null {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  db.delete(loginAttempts).where(lte(loginAttempts.at, since)).run();
  let until = 0;
  for (const condition of [eq(loginAttempts.email, email), eq(loginAttempts.ip, ip)]) {
    const tenth = db
      .select({ at: loginAttempts.at })
      .from(loginAttempts)
      .where(and(condition, gt(loginAttempts.at, since)))
      .orderBy(desc(loginAttempts.at))
      .limit(1)
      .offset(LOGIN_MAX_FAILURES - 1)
      .get();
    if (tenth) until = Math.max(until, tenth.at.getTime() + LOGIN_WINDOW_MS);
  }
  if (until <= now.getTime()) return null;
  return Math.max(1, Math.ceil((until - now.getTime()) / 1000));
}

/**
 * Counts an attempt as a failure before its password is checked, and returns the row's id, so
 * that attempts sent at once see each other: the check and this insert run with no await between
 * them. A correct password then withdraws it (`withdrawLoginAttempt`).
 */
export function reserveLoginAttempt(db: DbOrTx, email: string, ip: string, now: Date): number {
  const row = db
    .insert(loginAttempts)
    .values({ at: now, email, ip })
    .returning({ id: loginAttempts.id })
    .get();
  return row.id;
}

export function withdrawLoginAttempt(db: DbOrTx, id: number): void {
  db.delete(loginAttempts).where(eq(loginAttempts.id, id)).run();
}
