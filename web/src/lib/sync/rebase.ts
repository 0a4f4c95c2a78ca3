/**
 * Replays a device's newer local edits on top of the record the server returned: a field the
 * device changed since it pushed `sent` keeps the device's value; every other field takes the
 * server's. Pure; used when a push result arrives while the user kept editing.
 */
export function rebase(
  sent: Record<string, unknown>,
  local: Record<string, unknown>,
  server: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...server };
  for (const key of new Set([...Object.keys(local), ...Object.keys(sent)])) {
    if (!sameValue(local[key], sent[key])) result[key] = local[key];
  }
  return result;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
