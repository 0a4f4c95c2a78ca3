import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveAttachment, getAttachmentBlob, sha256Hex } from './attachments';
import type { FieldDxDatabase } from './database';
import { setAssessment, saveDiagnosis, listDiagnoses } from './diagnoses';
import { listEncounters, saveEncounter, startEncounter } from './encounters';
import { StorageFullError } from './errors';
import {
  countPatients,
  createPatient,
  deletePatient,
  findSimilarPatients,
  getPatient,
  listPatients,
  restorePatient,
  updatePatient,
} from './patients';
import { notBackedUp } from './records';
import { createReport, listReports, shareReport, updateReport } from './reports';
import { freshDatabase, patientFields } from './test-db';

const author = { userId: 'user-1', teamId: 'team-1' };
const today = new Date('2026-11-26T10:00:00Z');
let db: FieldDxDatabase;

const fields = (over: Parameters<typeof patientFields>[0] = {}) => patientFields(over, today);

beforeEach(() => {
  db = freshDatabase();
});
afterEach(async () => {
  await db.delete();
});

describe('patients', () => {
  it('registers a patient with its outbox mutation', async () => {
    const patient = await createPatient(db, fields(), author, today);
    expect(patient).toMatchObject({
      version: 0,
      teamId: 'team-1',
      updatedBy: 'user-1',
      deleted: false,
    });
    expect(patient.id).toMatch(/^[0-9a-f-]{36}$/);
    const outbox = await db.outbox.toArray();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      table: 'patients',
      recordId: patient.id,
      op: 'put',
      baseVersion: 0,
    });
    // Local index fields never travel.
    expect(outbox[0]!.data).not.toHaveProperty('searchTokens');
    expect(outbox[0]!.data).not.toHaveProperty('lastVisitAt');
    expect(outbox[0]!.data).toMatchObject({ givenName: 'Awa', familyName: 'Traoré' });
  });

  it('edits in place and keeps one pending mutation per record', async () => {
    const patient = await createPatient(db, fields(), author, today);
    await updatePatient(db, patient.id, fields({ village: 'Mopti' }), author, today);
    await updatePatient(db, patient.id, fields({ village: 'Gao' }), author, today);
    expect((await getPatient(db, patient.id))?.village).toBe('Gao');
    const outbox = await db.outbox.toArray();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.data.village).toBe('Gao');
  });

  it('searches by prefix, without accents or case, most recent visit first', async () => {
    const a = await createPatient(db, fields(), author, new Date('2026-01-01T00:00:00Z'));
    const b = await createPatient(
      db,
      fields({
        givenName: 'Aminata',
        village: 'Bamako',
        identifiers: [{ kind: 'ID', value: 'ML-778' }],
      }),
      author,
      new Date('2026-02-01T00:00:00Z'),
    );
    await createPatient(
      db,
      fields({ givenName: 'Oumar', familyName: 'Keita', village: 'Kayes' }),
      author,
      today,
    );
    expect((await listPatients(db, 'traore')).map((p) => p.id)).toEqual([b.id, a.id]);
    expect((await listPatients(db, 'AM TRA')).map((p) => p.id)).toEqual([b.id]);
    expect((await listPatients(db, 'segou')).map((p) => p.id)).toEqual([a.id]);
    expect((await listPatients(db, 'ml778')).map((p) => p.id)).toEqual([b.id]);
    expect(await listPatients(db, 'zzz')).toEqual([]);
    // One or two letters walk the most recent patients instead of the word index.
    expect((await listPatients(db, 'a')).map((p) => p.givenName)).toEqual(['Aminata', 'Awa']);
    expect((await listPatients(db, 'ke')).map((p) => p.givenName)).toEqual(['Oumar']);
    expect((await listPatients(db)).map((p) => p.givenName)).toEqual(['Oumar', 'Aminata', 'Awa']);
  });

  it('moves a patient up the list when a visit is recorded', async () => {
    const a = await createPatient(db, fields(), author, new Date('2026-01-01T00:00:00Z'));
    await createPatient(
      db,
      fields({ givenName: 'Oumar' }),
      author,
      new Date('2026-02-01T00:00:00Z'),
    );
    await startEncounter(db, a.id, author, today);
    expect((await listPatients(db))[0]!.id).toBe(a.id);
    // The visit does not create a patient mutation: only the encounter travels.
    expect((await db.outbox.toArray()).map((m) => m.table)).toEqual([
      'patients',
      'patients',
      'encounters',
    ]);
  });

  it('deletes as a tombstone, with undo', async () => {
    const patient = await createPatient(db, fields(), author, today);
    await deletePatient(db, patient.id, author, today);
    expect(await listPatients(db)).toEqual([]);
    expect(await countPatients(db)).toBe(0);
    expect((await getPatient(db, patient.id))?.deleted).toBe(true);
    expect((await db.outbox.toArray()).map((m) => m.op)).toEqual(['delete']);
    await restorePatient(db, patient.id, author, today);
    expect((await listPatients(db)).map((p) => p.id)).toEqual([patient.id]);
    expect((await db.outbox.toArray()).map((m) => m.op)).toEqual(['put']);
  });

  it('finds possible duplicates', async () => {
    const existing = await createPatient(db, fields(), author, today);
    const ids = async (...args: Parameters<typeof fields>) =>
      (await findSimilarPatients(db, fields(...args))).map((c) => c.patient.id);
    expect(await ids({ givenName: 'AWA', birthDate: '1990-12-31' })).toEqual([existing.id]);
    // Another village does not hide her; names swapped, no village, an estimated age find her.
    expect(await ids({ village: 'Bamako' })).toEqual([existing.id]);
    expect(
      await ids({
        givenName: 'Traore',
        familyName: 'Awa',
        village: '',
        birthDate: '',
        ageYears: '36',
      }),
    ).toEqual([existing.id]);
    expect(await ids({ birthDate: '1991-01-01' })).toEqual([]);
    expect(await findSimilarPatients(db, fields(), existing.id)).toEqual([]);
  });
  it('marks as not backed up every patient with an edit waiting, new or already synced', async () => {
    const awa = await createPatient(db, fields(), author);
    const binta = await createPatient(db, fields({ givenName: 'Binta' }), author);
    expect(await notBackedUp(db, 'patients')).toEqual(new Set([awa.id, binta.id]));
    expect(await notBackedUp(db, 'reports')).toEqual(new Set());

    // Backed up (the push acknowledged both), then Binta is edited again.
    await db.outbox.clear();
    await db.patients.update(binta.id, { version: 1 });
    expect(await notBackedUp(db, 'patients')).toEqual(new Set());
    await updatePatient(db, binta.id, fields({ givenName: 'Binta', phone: '555' }), author);
    expect(await notBackedUp(db, 'patients')).toEqual(new Set([binta.id]));
  });
});

describe('atomic writes', () => {
  it('leaves neither record nor mutation when the outbox write fails', async () => {
    db.outbox.hook('creating', () => {
      throw new Error('disk error');
    });
    await expect(createPatient(db, fields(), author, today)).rejects.toThrow('disk error');
    expect(await db.patients.count()).toBe(0);
    expect(await db.outbox.count()).toBe(0);
  });

  it('turns a full disk into a clear error and writes nothing', async () => {
    db.outbox.hook('creating', () => {
      throw new Dexie.QuotaExceededError('quota');
    });
    const error = await createPatient(db, fields(), author, today).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toMatch(/out of storage space, so nothing was saved/);
    expect(await db.patients.count()).toBe(0);
  });

  it('does the same for a DOMException from the browser', async () => {
    db.patients.hook('creating', () => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    await expect(createPatient(db, fields(), author, today)).rejects.toBeInstanceOf(
      StorageFullError,
    );
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('encounters, diagnoses, reports', () => {
  it('saves a visit as it is typed', async () => {
    const patient = await createPatient(db, fields(), author, today);
    const encounter = await startEncounter(db, patient.id, author, today);
    await saveEncounter(
      db,
      encounter.id,
      {
        ...encounter,
        complaint: 'Cough for 3 days',
        vitals: { ...encounter.vitals, temperatureC: 38.4 },
      },
      author,
      today,
    );
    const [saved] = await listEncounters(db, patient.id);
    expect(saved).toMatchObject({ complaint: 'Cough for 3 days', vitals: { temperatureC: 38.4 } });
    expect(await db.outbox.where('table').equals('encounters').count()).toBe(1);
  });

  it('keeps a diagnosis immutable apart from the assessment', async () => {
    const patient = await createPatient(db, fields(), author, today);
    const diagnosis = await saveDiagnosis(
      db,
      {
        patientId: patient.id,
        encounterId: null,
        modelId: 'diabetes-risk',
        modelVersion: '1.0.0',
        modelName: 'Diabetes risk',
        inputs: { kind: 'tabular', values: { glucose: 150, insulin: null } },
        outputs: { negative: 0.3, positive: 0.7 },
        positiveLabel: 'positive',
        threshold: 0.5,
        explanation: { kind: 'contributions', values: { glucose: 0.2 } },
        modelNotice: { intendedUse: 'Screening aid', limitations: 'Pima women only' },
        assessment: null,
      },
      author,
      today,
    );
    await setAssessment(
      db,
      diagnosis.id,
      { verdict: 'agree', note: 'fits', at: today.toISOString(), by: 'user-1' },
      author,
      today,
    );
    const [saved] = await listDiagnoses(db, patient.id);
    expect(saved).toMatchObject({ outputs: { positive: 0.7 }, assessment: { verdict: 'agree' } });
  });

  it('shares a report only with a summary, and freezes it', async () => {
    const patient = await createPatient(db, fields(), author, today);
    const report = await createReport(
      db,
      patient.id,
      { encounterId: null, diagnosisIds: [], summary: '', plan: '' },
      { ...author, name: 'Dr A' },
      today,
    );
    await expect(shareReport(db, report.id, author, today)).rejects.toThrow(/summary/);
    await updateReport(
      db,
      report.id,
      { encounterId: null, diagnosisIds: [], summary: 'Likely pneumonia', plan: 'Amoxicillin' },
      author,
      today,
    );
    const shared = await shareReport(db, report.id, author, today);
    expect(shared).toMatchObject({ status: 'shared', sharedAt: today.toISOString() });
    await expect(
      updateReport(
        db,
        report.id,
        { encounterId: null, diagnosisIds: [], summary: 'x', plan: '' },
        author,
        today,
      ),
    ).rejects.toThrow(/shared/);
    expect((await listReports(db, patient.id))[0]?.status).toBe('shared');
  });

  it('stores an image once per content, keyed by its hash', async () => {
    const patient = await createPatient(db, fields(), author, today);
    const blob = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
    const first = await saveAttachment(
      db,
      patient.id,
      blob,
      { width: 1, height: 1 },
      author,
      today,
    );
    const second = await saveAttachment(
      db,
      patient.id,
      blob,
      { width: 1, height: 1 },
      author,
      today,
    );
    expect(first.sha256).toBe(await sha256Hex(blob));
    expect(first.sha256).toBe('039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
    expect(second.id).not.toBe(first.id);
    expect(await db.blobs.count()).toBe(1);
    const stored = await getAttachmentBlob(db, first.sha256);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });
});
