import { findSimilar, matchesQuery, searchTokens } from '$lib/domain/patient';
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
    searchTokens: searchTokens(fields),
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
    searchTokens: searchTokens(fields),
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
 * Patients for the list, most recently seen first. With a query, every word must start a name,
 * village or identifier word (accents and case ignored); the index narrows by the longest word.
 */
export async function listPatients(
  db: FieldDxDatabase,
  query = '',
  limit = PATIENT_PAGE_SIZE,
): Promise<PatientRow[]> {
  const queryWords = words(query);
  if (queryWords.length === 0) {
    return db.patients
      .orderBy('lastVisitAt')
      .reverse()
      .filter((p) => !p.deleted)
      .limit(limit)
      .toArray();
  }
  // Narrow by the word with the fewest index entries. When even that word matches many patients,
  // walking the most recent first finds a page sooner than reading and sorting every match:
  // a walk reads about limit × total / matches patients, the index reads all matches. Counting
  // stops at that break-even point, so a common word costs no more than the walk it chooses.
  const total = await db.patients.count();
  const breakEven = Math.ceil(Math.sqrt(limit * total));
  const counts = await Promise.all(
    queryWords.map(async (word) => {
      // Keys only, and never more than needed to decide (a native count reads the whole range).
      const keys = await db.patients
        .where('searchTokens')
        .startsWith(word)
        .limit(breakEven + 1)
        .primaryKeys();
      return keys.length;
    }),
  );
  const fewest = Math.min(...counts);
  const word = queryWords[counts.indexOf(fewest)]!;
  const matches = (p: PatientRow) => !p.deleted && matchesQuery(p.searchTokens, query);
  if (fewest > breakEven) {
    return db.patients.orderBy('lastVisitAt').reverse().filter(matches).limit(limit).toArray();
  }
  const candidates = await db.patients
    .where('searchTokens')
    .startsWith(word)
    .distinct()
    .filter(matches)
    .toArray();
  // Same order as the walk: latest visit first, then the newer id.
  return candidates
    .sort((a, b) => b.lastVisitAt.localeCompare(a.lastVisitAt) || b.id.localeCompare(a.id))
    .slice(0, limit);
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

/** Possible duplicates of a patient being registered or edited. */
export async function findSimilarPatients(
  db: FieldDxDatabase,
  fields: PatientFields,
  excludeId?: string,
): Promise<PatientRow[]> {
  const first = words(fields.familyName)[0];
  if (!first) return [];
  const candidates = await db.patients.where('searchTokens').equals(first).toArray();
  return findSimilar(fields, candidates, excludeId);
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
