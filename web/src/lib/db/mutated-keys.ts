import { RangeSet, type ObservabilitySet } from 'dexie';

/**
 * The primary keys of a table that a committed write changed, read from what Dexie reports to
 * its 'storagemutated' event (the same report its liveQuery uses, from this tab or another one).
 * Returns 'all' when the report names a range rather than keys — Dexie does so for bulk writes of
 * 50 rows or more, deleteRange and clear — and [] when the table was not touched.
 */
export function mutatedKeys(
  parts: ObservabilitySet,
  dbName: string,
  table: string,
): string[] | 'all' {
  // Dexie's own "everything may have changed" (a page restored from the back/forward cache).
  if ('all' in parts) return 'all';
  const tree = parts[`idb://${dbName}/${table}/`];
  if (!tree) return [];
  const keys: string[] = [];
  // A report that crossed from another tab is a plain object: RangeSet() makes it iterable.
  for (const node of RangeSet(tree)) {
    if (typeof node.from !== 'string' || node.from !== node.to) return 'all';
    keys.push(node.from);
  }
  return keys;
}
