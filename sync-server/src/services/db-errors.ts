/**
 * True for a UNIQUE / PRIMARY KEY violation: SQLite's codes, or PostgreSQL's SQLSTATE 23505
 * (drizzle may wrap the driver's error).
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
    if (code === '23505') return true;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
