/** Failures in one sign-in throttling bucket (auth/rate-limit.ts). */
export interface LoginBucket {
  failures: number;
  /** The latest failure's time in ms; 0 when there is none. */
  latest: number;
}

/** A reserved attempt's id, or the seconds to wait (Retry-After) when its key is over the limit. */
export type Reservation = { id: number } | { retryAfter: number };

/**
 * What the services need from the sign-in and attempt limiters (login_attempts, limiter_attempts).
 * Every attempt is a row, never a process's memory: every server instance on the database counts
 * the same ones (docs/postgresql.md, "Limiter state").
 */
export interface LimitsRepository {
  // Sign-in, password change and reset (auth/rate-limit.ts): the service runs a check and its
  // reservation in one repos.transaction, after lockLoginKeys.
  /**
   * Whether `userId` signed in or signed up from `ip` after `since` (read from the audit log: a
   * question of the limiter, not of the log).
   */
  signedInFrom(userId: string, ip: string, since: Date): Promise<boolean>;
  /**
   * Serialises, until the transaction ends, the sign-in checks of this email and of this IP across
   * every instance. SQLite: nothing to do (BEGIN IMMEDIATE holds the write lock); PostgreSQL: one
   * advisory transaction lock per key, email first then IP, so two attempts cannot deadlock.
   */
  lockLoginKeys(email: string, ip: string): Promise<void>;
  /** Deletes sign-in failures at or before `before`: how many. */
  pruneLoginAttempts(before: Date): Promise<number>;
  /** The failures after `since` of one email, one IP, or the pair when both are given. */
  loginBucket(key: { email?: string; ip?: string }, since: Date): Promise<LoginBucket>;
  insertLoginAttempt(email: string, ip: string, at: Date): Promise<number>;
  deleteLoginAttempt(id: number): Promise<void>;

  // Sliding-window attempt limiters (auth/attempt-limiter.ts): the whole reservation is one atomic
  // step of the repository, in its own transaction (a savepoint inside a caller's).
  /**
   * Prunes the scope's attempts out of the window, counts the key's, and reserves one more unless
   * `maxFailures` are counted already; keeps the newest `maxRows` rows of the table.
   */
  reserveAttempt(
    scope: string,
    key: string,
    at: Date,
    maxFailures: number,
    windowMs: number,
    maxRows: number,
  ): Promise<Reservation>;
  deleteAttempt(id: number): Promise<void>;
  /** Deletes every limiter's attempts at or before `before`: how many. */
  deleteAttemptsBefore(before: Date): Promise<number>;
}

/**
 * The wait when a key is over its limit, from its newest attempts (newest first, at most
 * `maxFailures`); null when one more may be reserved. Shared by both dialects' reserveAttempt.
 */
export function retryAfterOf(
  newestFirst: readonly Date[],
  maxFailures: number,
  windowMs: number,
  now: number,
): number | null {
  if (newestFirst.length < maxFailures) return null;
  const oldestThatCounts = newestFirst[maxFailures - 1]!.getTime();
  return Math.max(1, Math.ceil((oldestThatCounts + windowMs - now) / 1000));
}
