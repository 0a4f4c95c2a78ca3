import { findDuplicates, type DuplicateCandidate } from '$lib/domain/duplicates';
import { matchesQuery, patientLookupFields } from '$lib/domain/patient';
import { newMeta, type Author, type PatientFields } from '$lib/domain/records';
import { words } from '$lib/domain/text';
import type { FieldDxDatabase, PatientRow } from './database';
import { patientSearch } from './patient-search';
import { newId, setDeleted, touched, writeRecord } from './records';

export const PATIENT_PAGE_SIZE = 50;

export async function createPatient(
  db: FieldDxDatabase,
  fields: PatientFields,
  author: Author,
  now = new Date(),
): Promise<PatientRow> {
  const row: PatientRow = {
    ...newMeta(newId(), author, now),
    ...fields,
    ...patientLookupFields(fields),
    lastVisitAt: now.toISOString(),
  };
  return writeRecord(db, 'patients', row);
}

export async function updatePatient(
  db: FieldDxDatabase,
  id: string,
  fields: PatientFields,
  author: Author,
  now = new Date(),
): Promise<PatientRow> {
  const current = await getPatient(db, id);
  if (!current) throw new Error('This patient no longer exists on this device.');
  const row: PatientRow = {
    ...touched(current, author, now),
    ...fields,
    ...patientLookupFields(fields),
  };
  return writeRecord(db, 'patients', row);
}

export function getPatient(db: FieldDxDatabase, id: string): Promise<PatientRow | undefined> {
  return db.patients.get(id);
}

export function deletePatient(db: FieldDxDatabase, id: string, author: Author, now = new Date()) {
  return setDeleted(db, 'patients', id, true, author, now);
}

export function restorePatient(db: FieldDxDatabase, id: string, author: Author, now = new Date()) {
  return setDeleted(db, 'patients', id, false, author, now);
}

/**
 * Patients for the list, most recently seen first, read from IndexedDB: the first screen, before
 * the live patient search has loaded (patient-search.ts answers every query after that). With a
 * query, every word must start a name, village or identifier word (accents and case ignored).
 */
export async function listPatients(
  db: FieldDxDatabase,
  query = '',
  limit = PATIENT_PAGE_SIZE,
): Promise<PatientRow[]> {
  const everyone = words(query).length === 0;
  const matches = (p: PatientRow) =>
    !p.deleted && (everyone || matchesQuery(p.searchTokens, query));
  return db.patients.orderBy('lastVisitAt').reverse().filter(matches).limit(limit).toArray();
}

/**
 * Patients not deleted. Deleted ones are not indexed (IndexedDB cannot index a boolean), so the
 * count comes from the live patient search: read once, then kept current by change reports.
 */
export async function countPatients(db: FieldDxDatabase): Promise<number> {
  const search = patientSearch(db);
  await search.load();
  return search.count;
}

/**
 * Possible duplicates of a patient being registered or edited, best first. Names may be misspelt
 * or swapped, so no index narrows the search: the patients the list holds in memory are compared.
 */
export async function findSimilarPatients(
  db: FieldDxDatabase,
  fields: PatientFields,
  excludeId?: string,
  today = new Date(),
): Promise<DuplicateCandidate<PatientRow>[]> {
  const search = patientSearch(db);
  await search.load();
  await search.settled();
  return findDuplicates(fields, search.search('', Number.MAX_SAFE_INTEGER), today, excludeId);
}

/** Keeps the list order current when a visit is recorded (local index only: not synced). */
export async function markVisited(db: FieldDxDatabase, patientId: string, visitedAt: string) {
  await db.patients
    .where('id')
    .equals(patientId)
    .modify((p) => {
      if (visitedAt > p.lastVisitAt) p.lastVisitAt = visitedAt;
    });
}
