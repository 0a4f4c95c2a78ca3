import { and, count, desc, eq, gt, inArray, lte, max, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/connection';
import { auditLog, limiterAttempts, loginAttempts } from '../../db/schema';
import { retryAfterOf, type LimitsRepository, type Reservation } from '../limits.repository';
import type { SqliteRunner } from './runner';

export class SqliteLimitsRepository implements LimitsRepository {
  constructor(private readonly r: SqliteRunner) {}

  signedInFrom(userId: string, ip: string, since: Date) {
    return this.r.run(
      () =>
        this.r.db
          .select({ id: auditLog.id })
          .from(auditLog)
          .where(
            and(
              eq(auditLog.userId, userId),
              eq(auditLog.ip, ip),
              inArray(auditLog.action, ['auth.login', 'auth.signup']),
              gt(auditLog.at, since),
            ),
          )
          .limit(1)
          .get() !== undefined,
    );
  }

  lockLoginKeys() {
    // The caller's transaction is BEGIN IMMEDIATE: other connections' checks wait for its commit.
    return Promise.resolve();
  }

  pruneLoginAttempts(before: Date) {
    return this.r.run(
      () => this.r.db.delete(loginAttempts).where(lte(loginAttempts.at, before)).run().changes,
    );
  }

  loginBucket(key: { email?: string; ip?: string }, since: Date) {
    const where: SQL[] = [gt(loginAttempts.at, since)];
    if (key.email !== undefined) where.push(eq(loginAttempts.email, key.email));
    if (key.ip !== undefined) where.push(eq(loginAttempts.ip, key.ip));
    return this.r.run(() => {
      const row = this.r.db
        .select({ failures: count(), latest: max(loginAttempts.at) })
        .from(loginAttempts)
        .where(and(...where))
        .get();
      return { failures: row?.failures ?? 0, latest: row?.latest?.getTime() ?? 0 };
    });
  }

  insertLoginAttempt(email: string, ip: string, at: Date) {
    return this.r.run(
      () =>
        this.r.db
          .insert(loginAttempts)
          .values({ at, email, ip })
          .returning({ id: loginAttempts.id })
          .get().id,
    );
  }

  deleteLoginAttempt(id: number) {
    return this.r.run(() => {
      this.r.db.delete(loginAttempts).where(eq(loginAttempts.id, id)).run();
    });
  }

  reserveAttempt(
    scope: string,
    key: string,
    at: Date,
    maxFailures: number,
    windowMs: number,
    maxRows: number,
  ) {
    const now = at.getTime();
    const inScope = eq(limiterAttempts.scope, scope);
    const reserve = (tx: DbOrTx): Reservation => {
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
      const retryAfter = retryAfterOf(
        counted.map((c) => c.at),
        maxFailures,
        windowMs,
        now,
      );
      if (retryAfter !== null) return { retryAfter };
      const { id } = tx
        .insert(limiterAttempts)
        .values({ scope, key, at })
        .returning({ id: limiterAttempts.id })
        .get();
      // The newest maxRows ids hold at most maxRows rows: dropping the older ones is one range
      // delete on the primary key, of every scope (counting rows or keys, or a scope condition
      // here, would read every row of the scope on each reservation).
      if (id > maxRows) {
        tx.delete(limiterAttempts)
          .where(lte(limiterAttempts.id, id - maxRows))
          .run();
      }
      return { id };
    };
    // Prune, count and insert in one IMMEDIATE transaction: its write lock, taken at BEGIN, makes
    // reservations from other connections (other instances) wait, so parallel ones count each
    // other. Inside a caller's transaction (BEGIN IMMEDIATE too) the lock is already held.
    return this.r.run(() =>
      this.r.inTransaction
        ? reserve(this.r.db)
        : this.r.db.transaction(reserve, { behavior: 'immediate' }),
    );
  }

  deleteAttempt(id: number) {
    return this.r.run(() => {
      this.r.db.delete(limiterAttempts).where(eq(limiterAttempts.id, id)).run();
    });
  }

  deleteAttemptsBefore(before: Date) {
    return this.r.run(
      () => this.r.db.delete(limiterAttempts).where(lte(limiterAttempts.at, before)).run().changes,
    );
  }
}
