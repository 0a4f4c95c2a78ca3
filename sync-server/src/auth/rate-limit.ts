import { and, count, desc, eq, gt, inArray, lte } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import { auditLog, loginAttempts } from '../db/schema';

/*
 * Login throttling by progressive delays, never a hard lock a stranger can set off (see
 * sync-server/README.md, "Sign-in throttling"). Failures are counted in three buckets over the
 * last hour: the (account, IP) pair, the account from every IP, and the IP across accounts. Past
 * a bucket's free failures, each further attempt must wait 1 s, 2 s, 4 s, … (at most 15 minutes)
 * after that bucket's latest failure. The account-wide and IP-wide buckets do not apply from an
 * IP where the account has signed in before ("known"): a distributed attack on an account does not
 * keep its owner out at their clinic, and someone guessing other accounts from the clinic's
 * shared connection does not keep its staff out.
 */

export const LOGIN_WINDOW_MS = 60 * 60 * 1000;
export const LOGIN_MAX_DELAY_S = 15 * 60;
/** How long a successful sign-in makes its IP known for that account. */
export const KNOWN_IP_MS = 90 * 24 * 60 * 60 * 1000;

export const LOGIN_FREE_FAILURES = {
  /** One account from one IP: the brute-force bucket, applies everywhere. */
  pair: 5,
  /** One account from every IP. */
  account: 10,
  /** One IP across every account (password spraying). */
  ip: 10,
} as const;

/** The wait after `failures` failures in a bucket, in seconds (0 while under its free count). */
export function delayAfter(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(LOGIN_MAX_DELAY_S, 2 ** (failures - free));
}

/** Whether `userId` signed in (or signed up) from `ip` within KNOWN_IP_MS. */
export function isKnownIp(db: DbOrTx, userId: string | null, ip: string, now: Date): boolean {
  if (!userId || ip === 'unknown') return false;
  const row = db
    .select({ id: auditLog.id })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.userId, userId),
        eq(auditLog.ip, ip),
        inArray(auditLog.action, ['auth.login', 'auth.signup']),
        gt(auditLog.at, new Date(now.getTime() - KNOWN_IP_MS)),
      ),
    )
    .limit(1)
    .get();
  return row !== undefined;
}

function bucket(db: DbOrTx, where: ReturnType<typeof and>, since: Date) {
  const filter = and(where, gt(loginAttempts.at, since));
  const n = db.select({ n: count() }).from(loginAttempts).where(filter).get()?.n ?? 0;
  if (n === 0) return { failures: 0, latest: 0 };
  const latest = db
    .select({ at: loginAttempts.at })
    .from(loginAttempts)
    .where(filter)
    .orderBy(desc(loginAttempts.at))
    .limit(1)
    .get()!;
  return { failures: n, latest: latest.at.getTime() };
}

/**
 * Seconds until the next attempt for `email` from `ip` may be made, or null when it may be made
 * now. Refused attempts are not counted, so waiting out a delay is never extended by retrying.
 * `known`: the account has signed in from this IP before (isKnownIp).
 */
export function loginDelay(
  db: DbOrTx,
  email: string,
  ip: string,
  now: Date,
  known: boolean,
): number | null {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  db.delete(loginAttempts).where(lte(loginAttempts.at, since)).run();
  const buckets: [ReturnType<typeof and>, number][] = [
    [and(eq(loginAttempts.email, email), eq(loginAttempts.ip, ip)), LOGIN_FREE_FAILURES.pair],
  ];
  if (!known) {
    buckets.push([eq(loginAttempts.email, email), LOGIN_FREE_FAILURES.account]);
    buckets.push([eq(loginAttempts.ip, ip), LOGIN_FREE_FAILURES.ip]);
  }
  let until = 0;
  for (const [where, free] of buckets) {
    const { failures, latest } = bucket(db, where, since);
    const delay = delayAfter(failures, free);
    if (delay > 0) until = Math.max(until, latest + delay * 1000);
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

/**
 * loginDelay and reserveLoginAttempt in one IMMEDIATE transaction: an attempt either waits or is
 * counted, and the write lock taken at BEGIN makes attempts from other server instances on the same
 * database wait for it, so parallel attempts count each other across instances too, not only
 * within one process (where no await between the two already did it).
 */
export function gateLoginAttempt(
  db: Db,
  email: string,
  ip: string,
  now: Date,
  known: boolean,
): { retryAfter: number } | { attempt: number } {
  return db.transaction(
    (tx) => {
      const retryAfter = loginDelay(tx, email, ip, now, known);
      if (retryAfter !== null) return { retryAfter };
      return { attempt: reserveLoginAttempt(tx, email, ip, now) };
    },
    { behavior: 'immediate' },
  );
}

export function withdrawLoginAttempt(db: DbOrTx, id: number): void {
  db.delete(loginAttempts).where(eq(loginAttempts.id, id)).run();
}
