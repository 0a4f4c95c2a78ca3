import {
  EMPTY_VITALS,
  newMeta,
  type Author,
  type Encounter,
  type EncounterFields,
} from '$lib/domain/records';
import type { FieldDxDatabase } from './database';
import { guardQuota } from './errors';
import { markVisited } from './patients';
import { newId, setDeleted, touched, writeRecord } from './records';

/** Starts a visit for a patient; it is saved at once so nothing typed afterwards can be lost. */
export async function startEncounter(
  db: FieldDxDatabase,
  patientId: string,
  author: Author,
  now = new Date(),
): Promise<Encounter> {
  const encounter: Encounter = {
    ...newMeta(newId(), author, now),
    patientId,
    date: now.toISOString().slice(0, 10),
    complaint: '',
    vitals: { ...EMPTY_VITALS },
    symptoms: [],
    notes: '',
  };
  return saveEncounterWithVisit(db, encounter);
}

/** Saves the visit as typed (drafts are saved as you type). */
export async function saveEncounter(
  db: FieldDxDatabase,
  id: string,
  fields: Omit<EncounterFields, 'patientId'>,
  author: Author,
  now = new Date(),
): Promise<Encounter> {
  const current = await db.encounters.get(id);
  if (!current) throw new Error('This visit no longer exists on this device.');
  return saveEncounterWithVisit(db, { ...touched(current, author, now), ...fields });
}

function saveEncounterWithVisit(db: FieldDxDatabase, encounter: Encounter) {
  return guardQuota(() =>
    db.transaction('rw', [db.encounters, db.outbox, db.patients, db.pushedVersions], async () => {
      await writeRecord(db, 'encounters', encounter);
      await markVisited(db, encounter.patientId, `${encounter.date}T23:59:59.999Z`);
      return encounter;
    }),
  );
}

export function getEncounter(db: FieldDxDatabase, id: string) {
  return db.encounters.get(id);
}

export async function listEncounters(db: FieldDxDatabase, patientId: string): Promise<Encounter[]> {
  const rows = await db.encounters.where('patientId').equals(patientId).toArray();
  return rows
    .filter((e) => !e.deleted)
    .sort((a, b) => b.date.localeCompare(a.date) || b.id.localeCompare(a.id));
}

export function deleteEncounter(db: FieldDxDatabase, id: string, author: Author, now = new Date()) {
  return setDeleted(db, 'encounters', id, true, author, now);
}

export function restoreEncounter(
  db: FieldDxDatabase,
  id: string,
  author: Author,
  now = new Date(),
) {
  return setDeleted(db, 'encounters', id, false, author, now);
}
