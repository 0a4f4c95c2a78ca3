import {
  SYNC_TABLES,
  type CursorAdvance,
  type MutationResult,
  type PullChange,
} from 'sync-server/protocol';
import { patientLookupFields } from '$lib/domain/patient';
import type { Patient, SyncedTable } from '$lib/domain/records';
import type { ConflictRow, FieldDxDatabase, OutboxRow } from '$lib/db/database';
import { syncedFields } from '$lib/db/records';
import {
  isImpliedVersion,
  knownVersions,
  recordKey as keyOf,
  recordVersions,
} from '$lib/db/versions';
import { rebase } from './rebase';

type Row = Record<string, unknown> & { id: string };

function syncedTables(db: FieldDxDatabase) {
  return SYNC_TABLES.map((table) => db.table(table));
}

/**
 * A patient from the server with its local index fields: its last visit is the later of what the
 * device knew (or the record's date) and the visits arriving with it.
 */
function patientRow(record: Row, previous: Row | undefined, visit: string | undefined): Row {
  const patient = record as unknown as Patient;
  const known =
    (previous?.lastVisitAt as string | undefined) ?? (record.updatedAt as string | undefined) ?? '';
  const lastVisitAt = visit && visit > known ? visit : known;
  return { ...record, ...patientLookupFields(patient), lastVisitAt };
}

/** The end of a visit's day: patients sort by their latest visit. */
const visitedAt = (encounter: Row) => `${encounter.date as string}T23:59:59.999Z`;

/** The latest visit per patient among these encounters (deleted ones do not count). */
function latestVisits(encounters: Row[]): Map<string, string> {
  const latest = new Map<string, string>();
  for (const e of encounters) {
    if (e.deleted) continue;
    const id = e.patientId as string;
    if (visitedAt(e) > (latest.get(id) ?? '')) latest.set(id, visitedAt(e));
  }
  return latest;
}

/**
 * Rows written per bulkPut. A pull stores thousands of records in one transaction; writing them in
 * chunks keeps each synchronous stretch of the page short (the user may be typing meanwhile), and
 * the transaction stays open from one chunk to the next.
 */
const WRITE_CHUNK = 500;

/**
 * Stores records from the server, table by table with bulk writes (IndexedDB round trips dominate
 * sync time on a tablet). `local` holds the device's current rows of these records (absent: not
 * on the device): patients keep their local index fields; visits move their patient up the list.
 */
async function storeServerRecords(
  db: FieldDxDatabase,
  records: { table: SyncedTable; row: Row }[],
  local: ReadonlyMap<string, Row>,
) {
  const byTable = new Map<SyncedTable, Row[]>();
  for (const { table, row } of records) {
    const rows = byTable.get(table);
    if (rows) rows.push(row);
    else byTable.set(table, [row]);
  }
  // Patients arriving with their visits get their last visit as they are written; the visits of
  // patients already stored move those up afterwards.
  const visits = latestVisits(byTable.get('encounters') ?? []);
  // Every chunk is asked for at once: the encryption layer seals the next ones while IndexedDB
  // writes the first, and writes them in this order (encryption.ts).
  const writes: Promise<unknown>[] = [];
  for (const table of SYNC_TABLES) {
    const rows = byTable.get(table);
    if (!rows?.length) continue;
    for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
      const chunk = rows.slice(i, i + WRITE_CHUNK);
      writes.push(
        db
          .table(table)
          .bulkPut(
            table === 'patients'
              ? chunk.map((r) => patientRow(r, local.get(keyOf(table, r.id)), visits.get(r.id)))
              : chunk,
          ),
      );
    }
  }
  await Promise.all(writes);
  for (const patient of byTable.get('patients') ?? []) visits.delete(patient.id);
  if (visits.size > 0) await markVisits(db, visits);
}

/** Moves stored patients up the list to these visits, where they are later than what it shows. */
async function markVisits(db: FieldDxDatabase, latest: Map<string, string>) {
  const ids = [...latest.keys()];
  const patients = await db.patients.bulkGet(ids);
  const changed = patients.filter(
    (p): p is NonNullable<typeof p> => !!p && latest.get(p.id)! > p.lastVisitAt,
  );
  await db.patients.bulkPut(changed.map((p) => ({ ...p, lastVisitAt: latest.get(p.id)! })));
}

/** Keys of the records among `keys` that have an edit waiting in the outbox (index keys only). */
async function pendingKeys(db: FieldDxDatabase, keys: [string, string][]): Promise<Set<string>> {
  const found = await db.outbox.where('[table+recordId]').anyOf(keys).keys();
  return new Set(found.map((key) => keyOf(...(key as unknown as [string, string]))));
}

/**
 * Applies one pull page and stores its cursor in one transaction: an interrupted pull resumes
 * where it stopped. A record with an edit waiting in the outbox is left as the user left it (the
 * server merges that edit when it arrives); a record already here at that version (this device's
 * own push coming back) is not written again.
 */
export async function applyPullPage(
  db: FieldDxDatabase,
  changes: PullChange[],
  cursor: number,
): Promise<{ applied: number; skipped: number }> {
  let skipped = 0;
  const toStore: { table: SyncedTable; row: Row }[] = [];
  await db.transaction(
    'rw',
    [...syncedTables(db), db.outbox, db.syncState, db.pushedVersions],
    async () => {
      const pending = await pendingKeys(
        db,
        changes.map((c) => [c.table, c.id]),
      );
      const local = await localRows(db, changes);
      const held = changes.flatMap((c) => {
        const row = local.get(keyOf(c.table, c.id));
        return row ? [{ table: c.table, id: c.id, version: row.version }] : [];
      });
      const versions = await knownVersions(db, held, pending);
      for (const change of changes) {
        const key = keyOf(change.table, change.id);
        const version = versions.get(key);
        if (pending.has(key) || (version !== undefined && version >= change.version)) {
          skipped++;
          continue;
        }
        toStore.push({ table: change.table, row: { ...change.record, id: change.id } as Row });
      }
      await storeServerRecords(db, toStore, local);
      await db.syncState.put({ key: 'cursor', value: cursor });
    },
  );
  return { applied: toStore.length, skipped };
}

/**
 * The device's rows of the records a page names, by key. Only ids the device holds are read: one
 * key-range read per table finds them, so records new to the device (all of them on a new tablet)
 * cost no read each. When that range holds many other records, every id is read instead.
 */
async function localRows(db: FieldDxDatabase, changes: PullChange[]): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  for (const table of SYNC_TABLES) {
    const ids = changes.filter((c) => c.table === table).map((c) => c.id);
    if (!ids.length) continue;
    const sorted = [...ids].sort();
    const inRange = await db
      .table(table)
      .where(':id')
      .between(sorted[0], sorted[sorted.length - 1], true, true)
      .limit(ids.length * 4 + 1)
      .primaryKeys();
    const present = new Set(inRange);
    const held = present.size > ids.length * 4 ? ids : ids.filter((id) => present.has(id));
    const rows = (await db.table(table).bulkGet(held)) as (Row | undefined)[];
    for (const row of rows) if (row) found.set(keyOf(table, row.id), row);
  }
  return found;
}

/**
 * The server reset this device's download (the user's teams or roles changed): every synced
 * record without an edit waiting for the server leaves the device, with the images only they
 * referenced, and the cursor goes back to 0. The pull from 0 that follows brings back what the
 * user may still see; what they may no longer see does not stay behind.
 */
export async function dropForReset(db: FieldDxDatabase): Promise<number> {
  let dropped = 0;
  const tables = [...syncedTables(db), db.outbox, db.blobs, db.syncState, db.pushedVersions];
  await db.transaction('rw', tables, async () => {
    const pending = new Set(
      (await db.outbox.toArray()).map((row) => keyOf(row.table, row.recordId)),
    );
    for (const table of SYNC_TABLES) {
      const ids = (await db.table(table).toCollection().primaryKeys()) as string[];
      const leaving = ids.filter((id) => !pending.has(keyOf(table, id)));
      await db.table(table).bulkDelete(leaving);
      await db.pushedVersions.bulkDelete(leaving.map((id) => [table, id]));
      dropped += leaving.length;
    }
    const kept = new Set(
      ((await db.attachments.toArray()) as { sha256: string }[]).map((a) => a.sha256),
    );
    const blobs = (await db.blobs.toCollection().primaryKeys()) as string[];
    await db.blobs.bulkDelete(blobs.filter((sha) => !kept.has(sha)));
    await db.syncState.bulkPut([
      { key: 'cursor', value: 0 },
      // The records are gone: no write of this device may be left out of the pull from 0.
      { key: 'acked', value: 0 },
    ]);
  });
  return dropped;
}

export async function readCursor(db: FieldDxDatabase): Promise<number> {
  const value = (await db.syncState.get('cursor'))?.value;
  return typeof value === 'number' ? value : 0;
}

/**
 * The highest seq among the push answers this device recorded (docs/sync-no-echo.md): its pulls
 * name it so that the server leaves out the writes the device already holds. Stored in the
 * transaction that records the answers, so a store restored from a backup names an older one.
 */
export async function readAcked(db: FieldDxDatabase): Promise<number> {
  const value = (await db.syncState.get('acked'))?.value;
  return typeof value === 'number' ? value : 0;
}

export interface PushOutcome {
  applied: number;
  merged: number;
  conflicts: number;
  rejected: { recordId: string; table: SyncedTable; reason: string }[];
}

/**
 * Records what the server did with each pushed mutation, in one transaction. A mutation applied as
 * sent leaves the outbox; when its answer carries a seq (the server stored exactly this record),
 * the record takes the new version here and the highest such seq is kept as `acked`, so that the
 * pull leaves these records out (docs/sync-no-echo.md). Without a seq the record learns its
 * version from the pull that follows (the server takes the device's own accepted edits as the
 * base of its next ones meanwhile). When the user edited the record again while the push was in
 * flight, that newer edit is kept: it is rebased on the server's record and its base version
 * moves to the server's new version.
 */
export async function applyPushResults(
  db: FieldDxDatabase,
  sent: OutboxRow[],
  results: MutationResult[],
  cursorAdvance?: CursorAdvance,
  now = new Date(),
): Promise<PushOutcome> {
  const outcome: PushOutcome = { applied: 0, merged: 0, conflicts: 0, rejected: [] };
  const first = sent[0]?.seq;
  const last = sent[sent.length - 1]?.seq;
  if (first === undefined || last === undefined) return outcome;
  const byId = new Map(results.map((r) => [r.mutationId, r]));
  await db.transaction(
    'rw',
    [...syncedTables(db), db.outbox, db.conflicts, db.syncState, db.pushedVersions],
    async () => {
      // The batch is a stretch of the outbox: one read of its keys finds which sent rows are still
      // there. An edit since replaced its row with a newer one further on (a seq is never reused),
      // so a sent row whose seq is still there is the row that was sent.
      const range = () => db.outbox.where('seq').between(first, last, true, true);
      const stillThere = new Set(await range().primaryKeys());
      const acknowledged: number[] = [];
      const versions = new Map<SyncedTable, Map<string, number>>();
      let acked = 0;
      let leaving = 0;
      for (const mutation of sent) {
        const result = byId.get(mutation.mutationId);
        if (!result) continue;
        const same = stillThere.has(mutation.seq!) ? mutation : undefined;
        if (same && result.status !== 'rejected') leaving++;
        // Also for an edit replaced since: that record has an edit waiting, which no pull overwrites.
        if (result.status === 'applied' && result.seq !== undefined) {
          acked = Math.max(acked, result.seq);
        }
        if (result.status === 'applied' && same) {
          outcome.applied++;
          acknowledged.push(same.seq!);
          // The version to keep beside the record (versions.ts): none when implied; 0 for a
          // creation the server changed, whose record the next pull brings.
          const learnt =
            result.seq === undefined
              ? mutation.baseVersion === 0
                ? 0
                : undefined
              : isImpliedVersion(mutation.baseVersion, result.version)
                ? undefined
                : result.version;
          if (learnt !== undefined) {
            const byRecord = versions.get(mutation.table);
            if (byRecord) byRecord.set(mutation.recordId, learnt);
            else versions.set(mutation.table, new Map([[mutation.recordId, learnt]]));
          }
          continue;
        }
        const newer = same
          ? undefined
          : await db.outbox
              .where('[table+recordId]')
              .equals([mutation.table, mutation.recordId])
              .first();
        await applyOneResult(db, mutation, result, same, newer, outcome, now);
      }
      // Usually the whole stretch leaves: one range delete rather than one delete per row.
      if (leaving === stillThere.size) await range().delete();
      else await db.outbox.bulkDelete(acknowledged);
      for (const [table, byRecord] of versions) await recordVersions(db, table, byRecord);
      if (acked > 0 && acked > (await readAcked(db))) {
        await db.syncState.put({ key: 'acked', value: acked });
      }
      // All the device's pull would walk between the two is this push's own writes as sent
      // (docs/sync-no-echo.md): with its cursor there, the device holds all of it, and its next
      // pull starts after it.
      if (cursorAdvance) {
        const cursor = await readCursor(db);
        if (cursor >= cursorAdvance.from && cursor < cursorAdvance.to) {
          await db.syncState.put({ key: 'cursor', value: cursorAdvance.to });
        }
      }
    },
  );
  return outcome;
}

/** Everything but a plain acknowledgement: rejections, merges, conflicts, and edits made meanwhile. */
async function applyOneResult(
  db: FieldDxDatabase,
  mutation: OutboxRow,
  result: MutationResult,
  same: OutboxRow | undefined,
  newer: OutboxRow | undefined,
  outcome: PushOutcome,
  now: Date,
) {
  if (result.status === 'rejected') {
    if (same)
      await db.outbox.update(same.seq!, { rejected: { code: result.code, reason: result.reason } });
    outcome.rejected.push({
      recordId: mutation.recordId,
      table: mutation.table,
      reason: result.reason,
    });
    return;
  }
  if (same) await db.outbox.delete(same.seq!);
  const table = db.table(mutation.table);
  const local = (await table.get(mutation.recordId)) as Row | undefined;

  if (result.status === 'applied') {
    outcome.applied++;
    if (local) await table.update(mutation.recordId, { version: result.version });
  } else {
    if (result.status === 'merged') outcome.merged++;
    else outcome.conflicts++;
    const server = { ...result.record, id: mutation.recordId } as Row;
    const merged =
      newer && local ? (rebase(mutation.data, syncedFields(local), server) as Row) : server;
    const stored = { ...merged, version: result.version };
    const known = new Map(local ? [[keyOf(mutation.table, mutation.recordId), local]] : []);
    await storeServerRecords(db, [{ table: mutation.table, row: stored }], known);
    if (newer) await db.outbox.update(newer.seq!, { data: syncedFields(stored) });
    if (result.status === 'conflict') {
      const conflict: ConflictRow = {
        id: result.conflictId,
        table: mutation.table,
        recordId: mutation.recordId,
        fields: result.fields,
        deviceValues: Object.fromEntries(result.fields.map((f) => [f, mutation.data[f]])),
        serverVersion: result.version,
        createdAt: now.toISOString(),
      };
      await db.conflicts.put(conflict);
    }
  }
  if (newer) await db.outbox.update(newer.seq!, { baseVersion: result.version });
}
