import { desc } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import { auditLog } from '../db/schema';
import type { AuditEntry } from '../protocol';

/** Who acts, from where, and when: passed to every service that changes state. */
export interface Actor {
  userId: string | null;
  ip: string;
  at: Date;
}

export type AuditAction =
  | 'auth.signup'
  | 'auth.signup_failed'
  | 'auth.signup_rate_limited'
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.login_rate_limited'
  | 'auth.login_disabled'
  | 'auth.logout'
  | 'team.create'
  | 'team.update'
  | 'team.member_upsert'
  | 'team.member_remove'
  | 'invitation.create'
  | 'invitation.revoke'
  | 'user.disable'
  | 'user.enable'
  | 'model.upload'
  | 'model.activate'
  | 'model.retire'
  | 'team.model_prevalence'
  | 'review.create'
  | 'comment.create'
  | 'followup.create'
  | 'followup.update'
  | 'review.export';

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

export function listAudit(db: Db, limit: number): AuditEntry[] {
  return db
    .select()
    .from(auditLog)
    .orderBy(desc(auditLog.id))
    .limit(limit)
    .all()
    .map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      userId: r.userId,
      action: r.action,
      target: r.target,
      ip: r.ip,
      detail: r.detail ?? null,
    }));
}
