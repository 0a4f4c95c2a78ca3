import Dexie from 'dexie';
import { uuidv7 } from 'uuidv7';
import type { Author, RecordMeta, SyncedTable, TableRecord } from '$lib/domain/records';
import type { FieldDxDatabase, OutboxRow } from './database';
import { guardQuota } from './errors';
import { knownVersion } from './versions';

/** Fields kept on the device only (indexes), never sent to the server. */
const LOCAL_FIELDS = new Set(['searchTokens', 'familyKey', 'lastVisitAt']);

export function syncedFields(row: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([key]) => !LOCAL_FIELDS.has(key)));
}

/**
 * Writes a record and its outbox mutation in one transaction: both or neither. A pending,
 * unsent mutation of the same record is replaced, so typing in a draft does not pile up edits.
 */
export async function writeRecord<T extends SyncedTable, Row extends TableRecord[T]>(
  db: FieldDxDatabase,
  table: T,
  row: Row,
  op: 'put' | 'delete' = 'put',
): Promise<Row> {
  return guardQuota(() =>
    db.transaction('rw', [db.table(table), db.outbox, db.pushedVersions], async () => {
      const replaced = await db.outbox.where('[table+recordId]').equals([table, row.id]).toArray();
      // The version a push answer gave the record is kept beside it, or implied (versions.ts):
      // this write takes it into the record, and the edit starts from it. A record not stored
      // yet, or with an edit waiting, has had no answer.
      const unanswered =
        replaced.length > 0 || (row.version === 0 && !(await db.table(table).get(row.id)));
      const version = await knownVersion(db, table, row, unanswered);
      const stored = version === row.version ? row : { ...row, version };
      await db.table(table).put(stored);
      await db.outbox.bulkDelete(replaced.map((r) => r.seq!));
      // A newer edit of a conflict's resolution still resolves that conflict.
      const resolvesConflictId = replaced.find((r) => r.resolvesConflictId)?.resolvesConflictId;
      const mutation: OutboxRow = {
        ...(resolvesConflictId ? { resolvesConflictId } : {}),
        mutationId: uuidv7(),
        table,
        recordId: row.id,
        op,
        baseVersion: version,
        data: syncedFields(stored),
        createdAt: new Date().toISOString(),
      };
      await db.outbox.add(mutation);
      return stored;
    }),
  );
}

export function newId(): string {
  return uuidv7();
}

/** The common fields after an edit by this author. */
export function touched<R extends RecordMeta>(record: R, author: Author, now: Date): R {
  return { ...record, updatedAt: now.toISOString(), updatedBy: author.userId };
}

/** Marks a record deleted (a tombstone the server keeps), or brings it back. */
export async function setDeleted<T extends SyncedTable>(
  db: FieldDxDatabase,
  table: T,
  id: string,
  deleted: boolean,
  author: Author,
  now: Date,
): Promise<TableRecord[T]> {
  const current = (await db.table(table).get(id)) as TableRecord[T] | undefined;
  if (!current) throw new Error(`No such record in ${table}: ${id}`);
  return writeRecord(
    db,
    table,
    { ...touched(current, author, now), deleted },
    deleted ? 'delete' : 'put',
  );
}

/**
 * Ids of a table's records with an edit waiting for the server (or refused by it): what the
 * device holds of them is not backed up yet, new or not. Keys only, from the outbox's index.
 */
export async function notBackedUp(db: FieldDxDatabase, table: SyncedTable): Promise<Set<string>> {
  const keys = await db.outbox
    .where('[table+recordId]')
    .between([table, Dexie.minKey], [table, Dexie.maxKey])
    .keys();
  return new Set(keys.map((key) => (key as unknown as [string, string])[1]));
}

/** How many edits wait for the server. */
export function pendingCount(db: FieldDxDatabase): Promise<number> {
  return db.outbox.count();
}
