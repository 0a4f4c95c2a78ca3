/** True for a SQLite UNIQUE / PRIMARY KEY violation (drizzle may wrap the driver's error). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
    if ((e as { cause?: unknown }).cause === e) break;
  }
  return false;
}
