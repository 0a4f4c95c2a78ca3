import type { ConflictRow, FieldDxDatabase } from '$lib/db/database';
import { syncedFields, touched, writeRecord } from '$lib/db/records';
import type { Author, TableRecord } from '$lib/domain/records';
import { patientLookupFields } from '$lib/domain/patient';
import { guardQuota } from '$lib/db/errors';

/**
 * Resolves a conflict with the values the clinician chose per field. The resolution is a normal
 * edit (outbox and all) that names the conflict, so the server closes it when it applies it.
 */
export async function resolveConflict(
  db: FieldDxDatabase,
  conflict: ConflictRow,
  chosen: Record<string, unknown>,
  author: Author,
  now = new Date(),
) {
  return guardQuota(() =>
    db.transaction(
      'rw',
      [db.table(conflict.table), db.outbox, db.conflicts, db.pushedVersions],
      async () => {
        const current = (await db.table(conflict.table).get(conflict.recordId)) as
          TableRecord[typeof conflict.table] | undefined;
        if (!current) throw new Error('The record of this conflict is no longer on this device.');
        const next = { ...touched(current, author, now), ...pick(chosen, conflict.fields) };
        if (conflict.table === 'patients') {
          Object.assign(next, patientLookupFields(next as TableRecord['patients']));
        }
        const stored = await writeRecord(db, conflict.table, next);
        const [row] = await db.outbox
          .where('[table+recordId]')
          .equals([conflict.table, conflict.recordId])
          .toArray();
        await db.outbox.update(row!.seq!, {
          resolvesConflictId: conflict.id,
          data: syncedFields(stored),
        });
        await db.conflicts.delete(conflict.id);
      },
    ),
  );
}

function pick(values: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => k in values).map((k) => [k, values[k]]));
}
