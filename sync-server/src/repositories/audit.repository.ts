import type { AuditRow } from '../db/schema';
import type { AuditAction } from '../protocol';

/** A row to append to the audit log (services/audit.ts writeAudit). */
export interface AuditInsert {
  at: Date;
  userId: string | null;
  action: AuditAction;
  target: string | null;
  ip: string;
  detail: Record<string, unknown> | null;
}

/** Which rows a page of the log holds (services/audit.ts listAudit). */
export interface AuditFilter {
  /** Only ids below this one (keyset pagination, newest first). */
  before?: number;
  userId?: string;
  action?: AuditAction;
  /** Inclusive lower bound of `at`. */
  from?: Date;
  /** Exclusive upper bound of `at`. */
  to?: Date;
  limit: number;
}

/** What the services need from the audit log. */
export interface AuditRepository {
  insert(entry: AuditInsert): Promise<void>;
  /** Newest first, with the acting user's email when the user still exists. */
  list(filter: AuditFilter): Promise<{ entry: AuditRow; userEmail: string | null }[]>;
}
