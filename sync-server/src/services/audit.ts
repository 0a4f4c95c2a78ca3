import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db, DbOrTx } from '../db/connection';
import { auditLog, users } from '../db/schema';
import {
  endOf,
  startOf,
  type AuditAction,
  type AuditListResponse,
  type AuditQuery,
} from '../protocol';

/** Who acts, from where, and when: passed to every service that changes state. */
export interface Actor {
  userId: string | null;
  ip: string;
  at: Date;
}

export type { AuditAction };

/**
 * Appends one audit row. `detail` holds ids, roles, names of teams and reasons — never passwords,
 * tokens, cookies or patient data.
 */
export function writeAudit(
  db: DbOrTx,
  actor: Actor,
  action: AuditAction,
  target: string | null = null,
  detail: Record<string, unknown> | null = null,
): void {
  db.insert(auditLog)
    .values({ at: actor.at, userId: actor.userId, action, target, ip: actor.ip, detail })
    .run();
}

/**
 * A page of the log, newest first, filtered by acting user, action and time (keyset pagination on
 * the id, so a page costs the same however deep it is and new entries do not shift pages).
 */
export function listAudit(db: Db, q: z.output<typeof AuditQuery>): AuditListResponse {
  const where: SQL[] = [];
  if (q.before !== undefined) where.push(lt(auditLog.id, q.before));
  if (q.userId) where.push(eq(auditLog.userId, q.userId));
  if (q.action) where.push(eq(auditLog.action, q.action));
  if (q.from) where.push(gte(auditLog.at, new Date(startOf(q.from))));
  if (q.to) where.push(lt(auditLog.at, new Date(endOf(q.to))));
  const rows = db
    .select({ entry: auditLog, userEmail: users.email })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.userId))
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  return {
    entries: page.map(({ entry: r, userEmail }) => ({
      id: r.id,
      at: r.at.toISOString(),
      userId: r.userId,
      userEmail: userEmail ?? null,
      action: r.action,
      target: r.target,
      ip: r.ip,
      detail: r.detail ?? null,
    })),
    nextBefore: rows.length > q.limit ? page[page.length - 1]!.entry.id : null,
  };
}
