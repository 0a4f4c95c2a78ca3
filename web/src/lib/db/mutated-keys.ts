import { RangeSet, type DBCore, type Middleware, type ObservabilitySet } from 'dexie';

/** The report part where writes to a table name their exact primary keys (see exactKeys). */
const exactPart = (dbName: string, table: string) => `fielddx-keys://${dbName}/${table}`;
const EVERYTHING = () => new RangeSet(-Infinity, [[]]);

/**
 * A Dexie middleware that names, in the change report of each write to `tables`, the exact
 * primary keys written. Dexie's own report gives keys only for writes of fewer than 50 rows (a
 * range otherwise), and a sync page writes hundreds of patients: with the keys, those can be read
 * back by key instead of reading every patient again. Dexie carries the part to 'storagemutated'
 * listeners, here and in other tabs, as it does its own.
 */
export function exactKeys(tables: readonly string[]): Middleware<DBCore> {
  return {
    stack: 'dbcore',
    name: 'ExactKeys',
    create: (down) => ({
      ...down,
      table(name) {
        const table = down.table(name);
        if (!tables.includes(name)) return table;
        const { extractKey } = table.schema.primaryKey;
        const part = exactPart(down.schema.name, name);
        return {
          ...table,
          mutate(req) {
            const keys =
              req.type === 'deleteRange'
                ? null // a range: whoever follows reads everything again
                : req.type === 'delete'
                  ? req.keys
                  : (req.keys ?? (extractKey ? req.values.map(extractKey) : null));
            const named = keys ? new RangeSet().addKeys(keys) : EVERYTHING();
            const mutatedParts = { ...req.mutatedParts, [part]: named };
            return table.mutate({ ...req, mutatedParts });
          },
        };
      },
    }),
  };
}

/**
 * The primary keys of a table that a committed write changed, read from what Dexie reports to
 * its 'storagemutated' event (the same report its liveQuery uses, from this tab or another one).
 * Returns 'all' when the report names a range rather than keys (deleteRange, clear, or a bulk
 * write without the exactKeys middleware), and [] when the table was not touched.
 */
export function mutatedKeys(
  parts: ObservabilitySet,
  dbName: string,
  table: string,
): string[] | 'all' {
  // Dexie's own "everything may have changed" (a page restored from the back/forward cache).
  if ('all' in parts) return 'all';
  const tree = parts[exactPart(dbName, table)] ?? parts[`idb://${dbName}/${table}/`];
  if (!tree) return [];
  const keys: string[] = [];
  // A report that crossed from another tab is a plain object: RangeSet() makes it iterable.
  for (const node of RangeSet(tree)) {
    if (typeof node.from !== 'string' || node.from !== node.to) return 'all';
    keys.push(node.from);
  }
  return keys;
}
