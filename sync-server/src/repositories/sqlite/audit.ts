import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { auditLog, users } from '../../db/schema';
import type { AuditFilter, AuditInsert, AuditRepository } from '../audit.repository';
import type { SqliteRunner } from './runner';

export class SqliteAuditRepository implements AuditRepository {
  constructor(private readonly r: SqliteRunner) {}

  insert(entry: AuditInsert) {
    return this.r.run(() => {
      this.r.db.insert(auditLog).values(entry).run();
    });
  }

  list(f: AuditFilter) {
    const where: SQL[] = [];
    if (f.before !== undefined) where.push(lt(auditLog.id, f.before));
    if (f.userId) where.push(eq(auditLog.userId, f.userId));
    if (f.action) where.push(eq(auditLog.action, f.action));
    if (f.from) where.push(gte(auditLog.at, f.from));
    if (f.to) where.push(lt(auditLog.at, f.to));
    return this.r.run(() =>
      this.r.db
        .select({ entry: auditLog, userEmail: users.email })
        .from(auditLog)
        .leftJoin(users, eq(users.id, auditLog.userId))
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(f.limit)
        .all(),
    );
  }
}
