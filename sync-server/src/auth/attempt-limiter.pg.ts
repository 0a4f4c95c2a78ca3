import { and, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { PgDb } from '../db/postgres';
import { limiterAttempts } from '../db/schema.pg';

/*
 * createAttemptLimiter's reservation on PostgreSQL (docs/postgresql.md, "Limiter state"), for the
 * repositories refactor to wire in; the app runs on SQLite until then. READ COMMITTED takes no lock
 * for a count, so a transaction-scoped advisory lock on the key serialises the reservations of one
 * key across every instance; other keys go on in parallel. Rows of other keys are pruned with
 * SKIP LOCKED: two reservations never wait on, or deadlock over, each other's old rows.
 */

/** A reservation's id, or the seconds to wait when the key is over its limit. */
export async function reserveAttemptPg(
  db: PgDb,
  scope: string,
  key: string,
  at: Date,
  maxFailures: number,
  windowMs: number,
  maxRows = 100_000,
): Promise<{ id: number } | { retryAfter: number }> {
  const now = at.getTime();
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${scope}\n${key}`}, 0))`);
    const stale = tx
      .select({ id: limiterAttempts.id })
      .from(limiterAttempts)
      .where(
        and(eq(limiterAttempts.scope, scope), lte(limiterAttempts.at, new Date(now - windowMs))),
      )
      .for('update', { skipLocked: true });
    await tx.delete(limiterAttempts).where(inArray(limiterAttempts.id, stale));
    const counted = await tx
      .select({ at: limiterAttempts.at })
      .from(limiterAttempts)
      .where(and(eq(limiterAttempts.scope, scope), eq(limiterAttempts.key, key)))
      .orderBy(desc(limiterAttempts.at), desc(limiterAttempts.id))
      .limit(maxFailures);
    if (counted.length >= maxFailures) {
      const oldestThatCounts = counted[maxFailures - 1]!.at.getTime();
      return { retryAfter: Math.max(1, Math.ceil((oldestThatCounts + windowMs - now) / 1000)) };
    }
    const [row] = await tx
      .insert(limiterAttempts)
      .values({ scope, key, at })
      .returning({ id: limiterAttempts.id });
    const { id } = row!;
    if (id > maxRows) {
      const oldest = tx
        .select({ id: limiterAttempts.id })
        .from(limiterAttempts)
        .where(lte(limiterAttempts.id, id - maxRows))
        .for('update', { skipLocked: true });
      await tx.delete(limiterAttempts).where(inArray(limiterAttempts.id, oldest));
    }
    return { id };
  });
}

export async function withdrawAttemptPg(db: PgDb, id: number): Promise<void> {
  await db.delete(limiterAttempts).where(eq(limiterAttempts.id, id));
}
