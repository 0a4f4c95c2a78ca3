import type { TxRepositories } from '../repositories';
import { LOGIN_WINDOW_MS } from './rate-limit';

/**
 * Failed attempts per key (an IP) in a sliding window: for sign-up, where a failure costs no
 * password hash any more (the code is checked first) but must not be repeated at will. The
 * attempts live in the database (limiter_attempts), never in a process's memory, so every server
 * instance on it counts the same ones. An attempt is reserved before it is checked, the check and
 * the reservation in one atomic step (limits.reserveAttempt: an IMMEDIATE transaction on SQLite,
 * an advisory lock on the key on PostgreSQL), so attempts sent at once count each other, from any
 * instance; a success withdraws its reservation. Rows are pruned as the limiter is used (out of
 * the window) and the table keeps at most `maxRows`, the oldest forgotten first (10,000 addresses
 * at 10 failures each by default), so a flood of addresses cannot grow it without limit or make
 * each reservation slow.
 */
export interface AttemptLimiter {
  /** A reservation, or the seconds to wait (Retry-After) when the key is over its limit. */
  reserve(key: string, now: Date): Promise<{ withdraw(): Promise<void> } | { retryAfter: number }>;
}

export function createAttemptLimiter(
  repos: Pick<TxRepositories, 'limits'>,
  scope: string,
  maxFailures: number,
  windowMs: number,
  maxRows = 100_000,
): AttemptLimiter {
  return {
    async reserve(key, at) {
      const outcome = await repos.limits.reserveAttempt(
        scope,
        key,
        at,
        maxFailures,
        windowMs,
        maxRows,
      );
      if ('retryAfter' in outcome) return outcome;
      return { withdraw: () => repos.limits.deleteAttempt(outcome.id) };
    },
  };
}

/** Longer than any limiter's window (sign-up: 15 minutes; sign-in: an hour). */
export const STALE_ATTEMPT_MS = 24 * 60 * 60 * 1000;

/**
 * Housekeeping: the attempts of keys never tried again (each reserve prunes its own scope only
 * when that limiter is used) and sign-in failures past their window. Returns the rows deleted.
 */
export async function sweepStaleAttempts(
  repos: Pick<TxRepositories, 'limits'>,
  now: Date,
): Promise<number> {
  const limiter = await repos.limits.deleteAttemptsBefore(
    new Date(now.getTime() - STALE_ATTEMPT_MS),
  );
  const login = await repos.limits.pruneLoginAttempts(new Date(now.getTime() - LOGIN_WINDOW_MS));
  return limiter + login;
}
