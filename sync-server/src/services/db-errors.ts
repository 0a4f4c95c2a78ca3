/**
 * True for a UNIQUE / PRIMARY KEY violation on either dialect: SQLite's SQLITE_CONSTRAINT_UNIQUE
 * or _PRIMARYKEY, PostgreSQL's 23505 (drizzle may wrap the driver's error: its causes are read).
 * With `constraint`, only a violation of that index: PostgreSQL names it in `constraint`, SQLite
 * only in the message ("UNIQUE constraint failed: index 'teams_name_unique'").
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, message, constraint: pgConstraint } = e as Record<string, unknown>;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return (
        constraint === undefined || (typeof message === 'string' && message.includes(constraint))
      );
    }
    if (code === '23505') return constraint === undefined || pgConstraint === constraint;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
