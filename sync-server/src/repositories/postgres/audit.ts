import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { auditLog, users } from '../../db/schema.pg';
import type { AuditRow } from '../../db/schema';
import type { AuditFilter, AuditInsert, AuditRepository } from '../audit.repository';

export class PgAuditRepository implements AuditRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async insert(entry: AuditInsert) {
    await this.db.insert(auditLog).values(entry);
  }

  async list(f: AuditFilter) {
    const where: SQL[] = [];
    if (f.before !== undefined) where.push(lt(auditLog.id, f.before));
    if (f.userId) where.push(eq(auditLog.userId, f.userId));
    if (f.action) where.push(eq(auditLog.action, f.action));
    if (f.from) where.push(gte(auditLog.at, f.from));
    if (f.to) where.push(lt(auditLog.at, f.to));
    const rows = await this.db
      .select({ entry: auditLog, userEmail: users.email })
      .from(auditLog)
      .leftJoin(users, eq(users.id, auditLog.userId))
      .where(and(...where))
      .orderBy(desc(auditLog.id))
      .limit(f.limit);
    return rows as { entry: AuditRow; userEmail: string | null }[];
  }
}
