/**
 * PostgreSQL's text and jsonb cannot hold U+0000, so a string with one would fail the query (a
 * 500) on PostgreSQL while SQLite stored it. Every input is checked the same way on both dialects,
 * so that a district moving to PostgreSQL finds nothing it cannot take, and the user is told.
 */
export const NUL_MESSAGE = 'contains a NUL character (U+0000), which cannot be stored';

/** Whether any string (or object key) in a JSON value holds U+0000; iterative, any depth. */
export function hasNulCharacter(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        if (key.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}
