import { SYNC_TABLES, type MutationResult, type PullChange } from 'sync-server/protocol';
import { searchTokens } from '$lib/domain/patient';
import type { Patient, SyncedTable } from '$lib/domain/records';
import type { ConflictRow, FieldDxDatabase, OutboxRow } from '$lib/db/database';
import { syncedFields } from '$lib/db/records';
import { rebase } from './rebase';

type Row = Record<string, unknown> & { id: string };

function syncedTables(db: FieldDxDatabase) {
  return SYNC_TABLES.map((table) => db.table(table));
}

/** A record from the server as this device stores it (patients get their local index fields). */
async function storeServerRecord(
  db: FieldDxDatabase,
  table: SyncedTable,
  record: Row,
  previous: Row | undefined,
) {
  if (table === 'patients') {
    const lastVisitAt =
      (previous?.lastVisitAt as string | undefined) ??
      (record.updatedAt as string | undefined) ??
      '';
    const patient = record as unknown as Patient;
    await db.patients.put({ ...patient, searchTokens: searchTokens(patient), lastVisitAt });
    return;
  }
  await db.table(table).put(record);
  if (table === 'encounters' && !record.deleted) {
    const visited = `${record.date as string}T23:59:59.999Z`;
    await db.patients
      .where('id')
      .equals(record.patientId as string)
      .modify((p) => {
        if (visited > p.lastVisitAt) p.lastVisitAt = visited;
      });
  }
}

/**
 * Applies one pull page and stores its cursor in one transaction: an interrupted pull resumes
 * where it stopped. A record with an edit waiting in the outbox is left as the user left it (the
 * server merges that edit when it arrives).
 */
export async function applyPullPage(
  db: FieldDxDatabase,
  changes: PullChange[],
  cursor: number,
): Promise<{ applied: number; skipped: number }> {
  let applied = 0;
  let skipped = 0;
  await db.transaction('rw', [...syncedTables(db), db.outbox, db.syncState], async () => {
    for (const change of changes) {
      const pending = await db.outbox
        .where('[table+recordId]')
        .equals([change.table, change.id])
        .count();
      if (pending > 0) {
        skipped++;
        continue;
      }
      const previous = (await db.table(change.table).get(change.id)) as Row | undefined;
      if (previous && typeof previous.version === 'number' && previous.version > change.version) {
        skipped++;
        continue;
      }
      await storeServerRecord(
        db,
        change.table,
        { ...change.record, id: change.id } as Row,
        previous,
      );
      applied++;
    }
    await db.syncState.put({ key: 'cursor', value: cursor });
  });
  return { applied, skipped };
}

export async function readCursor(db: FieldDxDatabase): Promise<number> {
  const value = (await db.syncState.get('cursor'))?.value;
  return typeof value === 'number' ? value : 0;
}

export interface PushOutcome {
  applied: number;
  merged: number;
  conflicts: number;
  rejected: { recordId: string; table: SyncedTable; reason: string }[];
}

/**
 * Records what the server did with each pushed mutation, in one transaction. When the user edited
 * the record again while the push was in flight, that newer edit is kept: it is rebased on the
 * server's record and its base version moves to the server's new version.
 */
export async function applyPushResults(
  db: FieldDxDatabase,
  sent: OutboxRow[],
  results: MutationResult[],
  now = new Date(),
): Promise<PushOutcome> {
  const outcome: PushOutcome = { applied: 0, merged: 0, conflicts: 0, rejected: [] };
  const byId = new Map(results.map((r) => [r.mutationId, r]));
  await db.transaction('rw', [...syncedTables(db), db.outbox, db.conflicts], async () => {
    for (const mutation of sent) {
      const result = byId.get(mutation.mutationId);
      if (!result) continue;
      const rows = await db.outbox
        .where('[table+recordId]')
        .equals([mutation.table, mutation.recordId])
        .toArray();
      const same = rows.find((r) => r.mutationId === mutation.mutationId);
      const newer = rows.find((r) => r.mutationId !== mutation.mutationId);
      const table = db.table(mutation.table);

      if (result.status === 'rejected') {
        if (same)
          await db.outbox.update(same.seq!, {
            rejected: { code: result.code, reason: result.reason },
          });
        outcome.rejected.push({
          recordId: mutation.recordId,
          table: mutation.table,
          reason: result.reason,
        });
        continue;
      }
      if (same) await db.outbox.delete(same.seq!);
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
        await storeServerRecord(db, mutation.table, { ...merged, version: result.version }, local);
        if (newer)
          await db.outbox.update(newer.seq!, {
            data: syncedFields({ ...merged, version: result.version }),
          });
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
  });
  return outcome;
}
