import type { SyncedTable } from '$lib/domain/records';
import type { FieldDxDatabase } from './database';

/**
 * Server versions this device learnt from push answers (docs/sync-no-echo.md), kept beside the
 * records rather than in them: a record is stored sealed (encryption.ts), so writing a new
 * version into 10,000 pushed records meant opening and sealing each again, about 3 s of a push.
 * A row here is a table name, a record id and a number: nothing about the patient.
 *
 * A record's version as the device knows it is the highest of:
 * - its stored `version` (a record stored from the server, by a pull or a merge, carries its own);
 * - its row here;
 * - 1, for a record made on this device (stored version 0) with no edit waiting and no row here:
 *   its creation was answered, and a creation the server stored exactly as sent is always version 1
 *   (`isImpliedVersion`), so those answers, most of a tablet's pushes, write no row here. A
 *   creation the server applied but changed (a report's revision: no `seq`) gets a row of version
 *   0 instead, so that the pull that follows brings the server's record.
 */
export interface VersionRow {
  table: SyncedTable;
  id: string;
  version: number;
}

/** The answer to a creation stored as sent: the device infers it, no row needed. */
export const isImpliedVersion = (baseVersion: number, version: number) =>
  baseVersion === 0 && version === 1;

/** Records the versions of records the server stored exactly as this device sent them. */
export async function recordVersions(
  db: FieldDxDatabase,
  table: SyncedTable,
  byRecord: ReadonlyMap<string, number>,
): Promise<void> {
  const rows: VersionRow[] = [];
  for (const [id, version] of byRecord) rows.push({ table, id, version });
  if (rows.length > 0) await db.pushedVersions.bulkPut(rows);
}

function highest(stored: unknown, recorded: number | undefined, pending: boolean): number {
  const version = typeof stored === 'number' ? stored : 0;
  if (recorded !== undefined) return Math.max(version, recorded);
  return version === 0 && !pending ? 1 : version;
}

/**
 * The version the device knows for each of these records held here, by `table\0id`; `pending`
 * names the keys (`table\0id`) with an edit waiting in the outbox.
 */
export async function knownVersions(
  db: FieldDxDatabase,
  held: readonly { table: SyncedTable; id: string; version?: unknown }[],
  pending: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const known = new Map<string, number>();
  if (held.length === 0) return known;
  const rows = await db.pushedVersions.bulkGet(held.map((r) => [r.table, r.id]));
  held.forEach((record, i) => {
    const key = recordKey(record.table, record.id);
    known.set(key, highest(record.version, rows[i]?.version, pending.has(key)));
  });
  return known;
}

/**
 * The version the device knows for one stored record (its next edit's base); `pending`: the record
 * has an edit waiting, or is not stored yet.
 */
export async function knownVersion(
  db: FieldDxDatabase,
  table: SyncedTable,
  record: { id: string; version?: unknown },
  pending: boolean,
): Promise<number> {
  const row = await db.pushedVersions.get([table, record.id]);
  return highest(record.version, row?.version, pending);
}

/** A record's key in the maps of sync (`table\0id`): the pending set, the known versions. */
export const recordKey = (table: string, id: string) => `${table}\u0000${id}`;
