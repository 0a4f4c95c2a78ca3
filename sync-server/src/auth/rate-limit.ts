import type { Repositories, TxRepositories } from '../repositories';

/*
 * Login throttling by progressive delays, never a hard lock a stranger can set off (see
 * sync-server/README.md, "Sign-in throttling"). Failures are counted in three buckets over the
 * last hour: the (account, IP) pair, the account from every IP, and the IP across accounts. Past
 * a bucket's free failures, each further attempt must wait 1 s, 2 s, 4 s, … (at most 15 minutes)
 * after that bucket's latest failure. The account-wide and IP-wide buckets do not apply from an
 * IP where the account has signed in before ("known"): a distributed attack on an account does not
 * keep its owner out at their clinic, and someone guessing other accounts from the clinic's
 * shared connection does not keep its staff out.
 *
 * Every failure is a row (login_attempts), never a process's memory: every server instance on the
 * database counts the same ones.
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
export async function isKnownIp(
  repos: Pick<TxRepositories, 'limits'>,
  userId: string | null,
  ip: string,
  now: Date,
): Promise<boolean> {
  if (!userId || ip === 'unknown') return false;
  return repos.limits.signedInFrom(userId, ip, new Date(now.getTime() - KNOWN_IP_MS));
}

/**
 * Seconds until the next attempt for `email` from `ip` may be made, or null when it may be made
 * now. Refused attempts are not counted, so waiting out a delay is never extended by retrying.
 * `known`: the account has signed in from this IP before (isKnownIp).
 */
export async function loginDelay(
  repos: Pick<TxRepositories, 'limits'>,
  email: string,
  ip: string,
  now: Date,
  known: boolean,
): Promise<number | null> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  await repos.limits.pruneLoginAttempts(since);
  const buckets: [{ email?: string; ip?: string }, number][] = [
    [{ email, ip }, LOGIN_FREE_FAILURES.pair],
  ];
  if (!known) {
    buckets.push([{ email }, LOGIN_FREE_FAILURES.account]);
    buckets.push([{ ip }, LOGIN_FREE_FAILURES.ip]);
  }
  let until = 0;
  for (const [key, free] of buckets) {
    const { failures, latest } = await repos.limits.loginBucket(key, since);
    const delay = delayAfter(failures, free);
    if (delay > 0) until = Math.max(until, latest + delay * 1000);
  }
  if (until <= now.getTime()) return null;
  return Math.max(1, Math.ceil((until - now.getTime()) / 1000));
}

/**
 * Counts an attempt as a failure before its password is checked, and returns the row's id, so
 * that attempts sent at once see each other (gateLoginAttempt). A correct password then withdraws
 * it (`withdrawLoginAttempt`).
 */
export function reserveLoginAttempt(
  repos: Pick<TxRepositories, 'limits'>,
  email: string,
  ip: string,
  now: Date,
): Promise<number> {
  return repos.limits.insertLoginAttempt(email, ip, now);
}

/**
 * loginDelay and reserveLoginAttempt in one transaction: an attempt either waits or is counted,
 * and attempts sent at once, to any server instance on the database, count each other. SQLite:
 * the transaction is BEGIN IMMEDIATE, whose write lock makes other connections' checks wait for
 * its commit. PostgreSQL (READ COMMITTED takes no lock for a count): advisory transaction locks on
 * the email and on the IP (limits.lockLoginKeys) serialise the checks that share a bucket.
 */
export function gateLoginAttempt(
  repos: Pick<Repositories, 'transaction'>,
  email: string,
  ip: string,
  now: Date,
  known: boolean,
): Promise<{ retryAfter: number } | { attempt: number }> {
  return repos.transaction(async (tx) => {
    await tx.limits.lockLoginKeys(email, ip);
    const retryAfter = await loginDelay(tx, email, ip, now, known);
    if (retryAfter !== null) return { retryAfter };
    return { attempt: await reserveLoginAttempt(tx, email, ip, now) };
  });
}

export async function withdrawLoginAttempt(
  repos: Pick<TxRepositories, 'limits'>,
  id: number,
): Promise<void> {
  await repos.limits.deleteLoginAttempt(id);
}
