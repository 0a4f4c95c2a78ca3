import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { FieldDxDatabase } from './database';
import { findSimilarPatients, listPatients } from './patients';

/**
 * The schema of a database as shipped up to version `upTo` (copied from database.ts as each version
 * shipped, without upgrade functions: these tests write the old data themselves).
 */
function shippedSchema(name: string, upTo: number): Dexie {
  const db = new Dexie(name);
  const versions: Record<string, string | null>[] = [
    { settings: 'key' },
    {
      patients: 'id, lastVisitAt, *searchTokens',
      encounters: 'id, patientId, [patientId+date]',
      diagnoses: 'id, patientId, encounterId',
      reports: 'id, patientId, status',
      reviews: 'id, reportId',
      attachments: 'id, patientId, sha256',
      outbox: '++seq, [table+recordId]',
      blobs: 'sha256',
      syncState: 'key',
    },
    { conflicts: 'id, [table+recordId]' },
    { patients: 'id, lastVisitAt, familyKey' },
    { comments: 'id, reportId', followups: 'id, patientId, status' },
    { patients: 'id, lastVisitAt' },
  ];
  versions.slice(0, upTo).forEach((stores, i) => db.version(i + 1).stores(stores));
  return db;
}

describe('schema upgrades', () => {
  it('opens a version 1 database (settings only) and keeps its data through the latest version', async () => {
    const name = `migration-${Date.now()}`;
    const v1 = shippedSchema(name, 1);
    await v1.table('settings').put({ key: 'profile', value: { me: { user: { id: 'u1' } } } });
    v1.close();

    const db = new FieldDxDatabase(name);
    await db.open();
    expect(db.verno).toBe(7);
    expect(await db.settings.get('profile')).toEqual({
      key: 'profile',
      value: { me: { user: { id: 'u1' } } },
    });
    expect(await db.patients.count()).toBe(0);
    await db.delete();
  });

  it('upgrades version 3 patients to the family-name key (indexed in 4 and 5, not since 6), without the search-word index', async () => {
    const name = `migration-v3-${Date.now()}`;
    const v3 = shippedSchema(name, 3);
    const awa = {
      id: 'p1',
      teamId: 't1',
      version: 2,
      updatedAt: '2026-01-01T00:00:00.000Z',
      updatedBy: 'u1',
      deleted: false,
      givenName: 'Awa',
      familyName: 'Traoré Diallo',
      sex: 'female',
      birthDate: '1990-05-01',
      birthDateEstimated: false,
      village: 'Ségou',
      phone: '',
      identifiers: [],
      searchTokens: ['awa', 'traore', 'diallo', 'segou'],
      lastVisitAt: '2026-01-01T00:00:00.000Z',
    };
    await v3.table('patients').put(awa);
    v3.close();

    const db = new FieldDxDatabase(name);
    await db.open();
    expect(db.verno).toBe(7);
    // Version 6 keeps no name readable in an index (encryption at rest).
    expect(db.patients.schema.indexes.map((i) => i.name)).toEqual(['lastVisitAt']);
    expect(await db.patients.get('p1')).toEqual({ ...awa, familyKey: 'traore' });
    const similar = await findSimilarPatients(db, { ...awa, sex: 'female' });
    expect(similar.map((c) => c.patient.id)).toEqual(['p1']);
    expect((await listPatients(db, 'dial seg')).map((p) => p.id)).toEqual(['p1']);
    expect(await listPatients(db, 'bamako')).toEqual([]);
    await db.delete();
  });

  it('adds the review tables (comments, follow-ups) to a version 4 database, keeping its records', async () => {
    const name = `migration-v4-${Date.now()}`;
    const v4 = shippedSchema(name, 4);
    const report = { id: 'r1', patientId: 'p1', status: 'shared', summary: 'Cough' };
    await v4.table('reports').put(report);
    await v4.table('outbox').add({ mutationId: 'm1', table: 'reports', recordId: 'r1' });
    v4.close();

    const db = new FieldDxDatabase(name);
    await db.open();
    expect(db.verno).toBe(7);
    expect(await db.reports.get('r1')).toEqual(report);
    expect(await db.outbox.count()).toBe(1);
    expect(db.comments.schema.indexes.map((i) => i.name)).toEqual(['reportId']);
    expect(db.followups.schema.indexes.map((i) => i.name).sort()).toEqual(['patientId', 'status']);
    await db.followups.put({ id: 'f1', patientId: 'p1', status: 'open' } as never);
    expect(await db.followups.where('status').equals('open').count()).toBe(1);
    await db.delete();
  });

  it('adds the table of versions learnt from push answers to a version 6 database, keeping its records', async () => {
    const name = `migration-v6-${Date.now()}`;
    const old = shippedSchema(name, 6);
    await old.table('reports').put({ id: 'r1', patientId: 'p1', status: 'shared', version: 4 });
    old.close();

    const db = new FieldDxDatabase(name);
    await db.open();
    expect(db.verno).toBe(7);
    expect(await db.reports.get('r1')).toMatchObject({ version: 4 });
    await db.pushedVersions.put({ table: 'reports', id: 'r1', version: 5 });
    expect(await db.pushedVersions.get(['reports', 'r1'])).toMatchObject({ version: 5 });
    await db.delete();
  });
});
