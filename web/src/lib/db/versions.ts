import type { SyncedTable } from '$lib/domain/records';
import type { FieldDxDatabase } from './database';

/**
 * Server versions this device learnt from push answers (docs/sync-no-echo.md), kept beside the
 * records rather than in them: a record is stored sealed (encryption.ts), so writing a new
 * version into 10,000 pushed records meant opening and sealing each again, about 3 s of a push.
 * A row here is a table name, a record id and a number: nothing about the patient.
 *
 * A record's version as the device knows it is the higher of its stored `version` and its row
 * here; a record stored later from the server (a pull, a merge) carries its own, newer version.
 */
export interface VersionRow {
  table: SyncedTable;
  id: string;
  version: number;
}

/** Records the versions of records the server stored exactly as this device sent them. */
export async function recordVersions(
  db: FieldDxDatabase,
  table: SyncedTable,
  byRecord: ReadonlyMap<string, number>,
): Promise<void> {
  const rows: VersionRow[] = [];
  for (const [id, version] of byRecord) rows.push({ table, id, version });
  await db.pushedVersions.bulkPut(rows);
}

/** The version the device knows for each of these records held here, by `table\0id`. */
export async function knownVersions(
  db: FieldDxDatabase,
  held: readonly { table: SyncedTable; id: string; version?: unknown }[],
): Promise<Map<string, number>> {
  const known = new Map<string, number>();
  if (held.length === 0) return known;
  const rows = await db.pushedVersions.bulkGet(held.map((r) => [r.table, r.id]));
  held.forEach((record, i) => {
    const stored = typeof record.version === 'number' ? record.version : 0;
    known.set(versionKey(record.table, record.id), Math.max(stored, rows[i]?.version ?? 0));
  });
  return known;
}

/** The version the device knows for one record (its edit's base). */
export async function knownVersion(
  db: FieldDxDatabase,
  table: SyncedTable,
  record: { id: string; version?: unknown },
): Promise<number> {
  const stored = typeof record.version === 'number' ? record.version : 0;
  const row = await db.pushedVersions.get([table, record.id]);
  return Math.max(stored, row?.version ?? 0);
}

export const versionKey = (table: string, id: string) => `${table}\u0000${id}`;
