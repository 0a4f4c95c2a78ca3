import { and, count, desc, eq, gt, inArray, lte, max, sql, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { auditLog, limiterAttempts, loginAttempts } from '../../db/schema.pg';
import { retryAfterOf, type LimitsRepository, type Reservation } from '../limits.repository';

/*
 * READ COMMITTED takes no lock for a count, so a check and its reservation are serialised per key
 * with transaction-scoped advisory locks (docs/postgresql.md, "Limiter state"); other keys go on in
 * parallel. Rows of other keys are pruned with SKIP LOCKED: two reservations never wait on, or
 * deadlock over, each other's old rows.
 */
const advisoryLock = (key: string) =>
  sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;

export class PgLimitsRepository implements LimitsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async signedInFrom(userId: string, ip: string, since: Date) {
    const rows = await this.db
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
      .limit(1);
    return rows.length > 0;
  }

  async lockLoginKeys(email: string, ip: string) {
    // Always email, then IP: every attempt takes its locks in the same order.
    await this.db.execute(advisoryLock(`login\nemail\n${email}`));
    await this.db.execute(advisoryLock(`login\nip\n${ip}`));
  }

  async pruneLoginAttempts(before: Date) {
    const stale = this.db
      .select({ id: loginAttempts.id })
      .from(loginAttempts)
      .where(lte(loginAttempts.at, before))
      .for('update', { skipLocked: true });
    const result = await this.db.delete(loginAttempts).where(inArray(loginAttempts.id, stale));
    return result.rowCount ?? 0;
  }

  async loginBucket(key: { email?: string; ip?: string }, since: Date) {
    const where: SQL[] = [gt(loginAttempts.at, since)];
    if (key.email !== undefined) where.push(eq(loginAttempts.email, key.email));
    if (key.ip !== undefined) where.push(eq(loginAttempts.ip, key.ip));
    const [row] = await this.db
      .select({ failures: count(), latest: max(loginAttempts.at) })
      .from(loginAttempts)
      .where(and(...where));
    return { failures: row?.failures ?? 0, latest: row?.latest?.getTime() ?? 0 };
  }

  async insertLoginAttempt(email: string, ip: string, at: Date) {
    const [row] = await this.db
      .insert(loginAttempts)
      .values({ at, email, ip })
      .returning({ id: loginAttempts.id });
    return row!.id;
  }

  async deleteLoginAttempt(id: number) {
    await this.db.delete(loginAttempts).where(eq(loginAttempts.id, id));
  }

  reserveAttempt(
    scope: string,
    key: string,
    at: Date,
    maxFailures: number,
    windowMs: number,
    maxRows: number,
  ): Promise<Reservation> {
    const now = at.getTime();
    // Its own transaction (a savepoint when the repository is a transaction's): the advisory lock
    // holds until the outermost transaction ends.
    return this.db.transaction(async (tx) => {
      await tx.execute(advisoryLock(`${scope}\n${key}`));
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
      const retryAfter = retryAfterOf(
        counted.map((c) => c.at),
        maxFailures,
        windowMs,
        now,
      );
      if (retryAfter !== null) return { retryAfter };
      const [row] = await tx
        .insert(limiterAttempts)
        .values({ scope, key, at })
        .returning({ id: limiterAttempts.id });
      const { id } = row!;
      // Identity values can commit out of order here: the bound is approximate, not wrong.
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

  async deleteAttempt(id: number) {
    await this.db.delete(limiterAttempts).where(eq(limiterAttempts.id, id));
  }

  async deleteAttemptsBefore(before: Date) {
    const result = await this.db.delete(limiterAttempts).where(lte(limiterAttempts.at, before));
    return result.rowCount ?? 0;
  }
}
