import { and, desc, eq, lte } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { limiterAttempts, loginAttempts } from '../db/schema';
import { LOGIN_WINDOW_MS } from './rate-limit';

/**
 * Failed attempts per key (an IP) in a sliding window: for sign-up, where a failure costs no
 * password hash any more (the code is checked first) but must not be repeated at will. The
 * attempts live in the database (limiter_attempts), so every server instance on it counts the
 * same ones. An attempt is reserved before it is checked, the check and the reservation in one
 * IMMEDIATE transaction, so attempts sent at once count each other, from any instance; a success
 * withdraws its reservation. Rows are pruned as the limiter is used (out of the window) and the
 * table keeps at most `maxRows`, the oldest forgotten first (10,000 addresses at 10 failures each
 * by default), so a flood of addresses cannot grow it without limit or make each reservation slow.
 */
export interface AttemptLimiter {
  /** A reservation, or the seconds to wait (Retry-After) when the key is over its limit. */
  reserve(key: string, now: Date): { withdraw(): void } | { retryAfter: number };
}

export function createAttemptLimiter(
  db: Db,
  scope: string,
  maxFailures: number,
  windowMs: number,
  maxRows = 100_000,
): AttemptLimiter {
  const inScope = eq(limiterAttempts.scope, scope);
  return {
    reserve(key, at) {
      const now = at.getTime();
      const outcome = db.transaction(
        (tx): { retryAfter: number } | { id: number } => {
          tx.delete(limiterAttempts)
            .where(and(inScope, lte(limiterAttempts.at, new Date(now - windowMs))))
            .run();
          const counted = tx
            .select({ at: limiterAttempts.at })
            .from(limiterAttempts)
            .where(and(inScope, eq(limiterAttempts.key, key)))
            .orderBy(desc(limiterAttempts.at), desc(limiterAttempts.id))
            .limit(maxFailures)
            .all();
          if (counted.length >= maxFailures) {
            const oldestThatCounts = counted[maxFailures - 1]!.at.getTime();
            return {
              retryAfter: Math.max(1, Math.ceil((oldestThatCounts + windowMs - now) / 1000)),
            };
          }
          const { id } = tx
            .insert(limiterAttempts)
            .values({ scope, key, at })
            .returning({ id: limiterAttempts.id })
            .get();
          // The newest maxRows ids hold at most maxRows rows: dropping the older ones is one
          // range delete on the primary key, of every scope (counting rows or keys, or a scope
          // condition here, would read every row of the scope on each reservation).
          if (id > maxRows) {
            tx.delete(limiterAttempts)
              .where(lte(limiterAttempts.id, id - maxRows))
              .run();
          }
          return { id };
        },
        { behavior: 'immediate' },
      );
      if ('retryAfter' in outcome) return outcome;
      return {
        withdraw() {
          db.delete(limiterAttempts).where(eq(limiterAttempts.id, outcome.id)).run();
        },
      };
    },
  };
}

/** Longer than any limiter's window (sign-up: 15 minutes; sign-in: an hour). */
export const STALE_ATTEMPT_MS = 24 * 60 * 60 * 1000;

/**
 * Housekeeping: the attempts of keys never tried again (each reserve prunes its own scope only
 * when that limiter is used) and sign-in failures past their window. Returns the rows deleted.
 */
export function deleteStaleAttempts(db: Db, now: Date): number {
  const limiter = db
    .delete(limiterAttempts)
    .where(lte(limiterAttempts.at, new Date(now.getTime() - STALE_ATTEMPT_MS)))
    .run().changes;
  const login = db
    .delete(loginAttempts)
    .where(lte(loginAttempts.at, new Date(now.getTime() - LOGIN_WINDOW_MS)))
    .run().changes;
  return limiter + login;
}
