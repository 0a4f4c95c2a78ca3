import type { z } from 'zod';
import {
  endOf,
  startOf,
  type AuditAction,
  type AuditListResponse,
  type AuditQuery,
} from '../protocol';
import type { TxRepositories } from '../repositories';

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
  repos: Pick<TxRepositories, 'audit'>,
  actor: Actor,
  action: AuditAction,
  target: string | null = null,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  return repos.audit.insert({
    at: actor.at,
    userId: actor.userId,
    action,
    target,
    ip: actor.ip,
    detail,
  });
}
/**
 * A page of the log, newest first, filtered by acting user, action and time (keyset pagination on
 * the id, so a page costs the same however deep it is and new entries do not shift pages).
 */
export async function listAudit(
  repos: Pick<TxRepositories, 'audit'>,
  q: z.output<typeof AuditQuery>,
): Promise<AuditListResponse> {
  const rows = await repos.audit.list({
    before: q.before,
    userId: q.userId,
    action: q.action,
    from: q.from ? new Date(startOf(q.from)) : undefined,
    to: q.to ? new Date(endOf(q.to)) : undefined,
    limit: q.limit + 1,
  });
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
