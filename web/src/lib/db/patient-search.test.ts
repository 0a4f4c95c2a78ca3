import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMeta, type PatientFields } from '$lib/domain/records';
import { applyPullPage } from '$lib/sync/apply';
import type { FieldDxDatabase } from './database';
import { startEncounter } from './encounters';
import {
  countPatients,
  createPatient,
  deletePatient,
  listPatients,
  restorePatient,
  updatePatient,
} from './patients';
import { patientSearch, type LivePatientSearch } from './patient-search';
import { newId } from './records';
import { freshDatabase, patientFields } from './test-db';

const author = { userId: 'user-1', teamId: 'team-1' };
const today = new Date('2026-11-26T10:00:00Z');
let db: FieldDxDatabase;
let search: LivePatientSearch;

const fields = (over: Parameters<typeof patientFields>[0] = {}) => patientFields(over, today);

const at = (day: number) => new Date(Date.UTC(2026, 0, 1) + day * 86_400_000);
/** The list for a query, once every reported change has been applied. */
async function shown(query = '') {
  await search.settled();
  return search.search(query, 50).map((p) => p.givenName);
}

/** A page from the server: patients as another device wrote them. */
function pullPage(patients: { id: string; version: number; fields: PatientFields }[]) {
  return patients.map(({ id, version, fields }, i) => ({
    table: 'patients' as const,
    id,
    version,
    seq: i + 1,
    deleted: false,
    record: { ...newMeta(id, author, today), version, ...fields },
  }));
}

beforeEach(async () => {
  db = freshDatabase();
  search = patientSearch(db);
});
afterEach(async () => {
  search.dispose();
  await db.delete();
});

describe('live patient search', () => {
  it('gives the same lists as listPatients', async () => {
    const given = ['Awa', 'Aminata', 'Oumar', 'Fatoumata', 'Moussa', 'Émile'];
    const family = ['Traoré', 'Koné', "N'Diaye", 'Keïta', 'Diarra'];
    const villages = ['Ségou', 'Kati', 'Sikasso'];
    for (let i = 0; i < 90; i++) {
      const patient = await createPatient(
        db,
        fields({
          givenName: given[i % given.length],
          familyName: family[(i * 7) % family.length],
          village: villages[(i * 5) % villages.length],
          identifiers: i % 3 ? [{ kind: 'Clinic', value: `SGU-${1000 + i}` }] : [],
        }),
        author,
        at(i % 40), // many share a day: the order falls back to the id
      );
      if (i % 11 === 0) await deletePatient(db, patient.id, author, at(50));
    }
    await search.load();
    for (const query of [
      '',
      'a',
      'awa',
      'tra',
      'ndiaye',
      'n d',
      'EMILE',
      'sgu-10',
      'sgu10',
      'k s',
    ]) {
      const fromDatabase = (await listPatients(db, query)).map((p) => p.id);
      expect(
        search.search(query, 50).map((p) => p.id),
        query,
      ).toEqual(fromDatabase);
    }
    expect(search.count).toBe(await db.patients.filter((p) => !p.deleted).count());
  });

  it('shows new, edited, deleted, restored and visited patients at once', async () => {
    const awa = await createPatient(db, fields(), author, at(1));
    await search.load();
    let changes = 0;
    search.subscribe(() => changes++);

    const oumar = await createPatient(db, fields({ givenName: 'Oumar' }), author, at(2));
    expect(await shown()).toEqual(['Oumar', 'Awa']);
    await updatePatient(db, awa.id, fields({ givenName: 'Aminata' }), author, at(3));
    expect(await shown('ami')).toEqual(['Aminata']);
    expect(await shown('awa')).toEqual([]);
    await deletePatient(db, oumar.id, author, at(4));
    expect(await shown()).toEqual(['Aminata']);
    expect(await countPatients(db)).toBe(1);
    await restorePatient(db, oumar.id, author, at(5));
    expect(await shown()).toEqual(['Oumar', 'Aminata']);
    await startEncounter(db, awa.id, author, today); // a visit moves her up
    expect(await shown()).toEqual(['Aminata', 'Oumar']);
    expect(changes).toBeGreaterThanOrEqual(5);
  });

  it('shows patients from a sync pull at once, few or many', async () => {
    const local = await createPatient(db, fields(), author, at(1));
    await search.load();
    // A few: read back by key.
    await applyPullPage(
      db,
      pullPage([{ id: newId(), version: 1, fields: fields({ givenName: 'Kadiatou' }) }]),
      1,
    );
    expect(await shown('kadi')).toEqual(['Kadiatou']);
    // Many: Dexie alone reports a range for these; the exactKeys middleware names them.
    const many = Array.from({ length: 60 }, (_, i) => ({
      id: newId(),
      version: 1,
      fields: fields({ givenName: `Salif`, familyName: `Sow`, village: `Village ${i}` }),
    }));
    await applyPullPage(db, pullPage(many), 2);
    await search.settled();
    expect(search.search('salif sow', 100)).toHaveLength(60);
    expect(search.count).toBe(62);
    // An edit made on another device, for a patient this one has synced.
    await db.patients.update(local.id, { version: 1 });
    await db.outbox.clear();
    await applyPullPage(
      db,
      pullPage([{ id: local.id, version: 2, fields: fields({ givenName: 'Awa Bintou' }) }]),
      3,
    );
    expect(await shown('bintou')).toEqual(['Awa Bintou']);
  });
});
