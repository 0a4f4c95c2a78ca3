import {
  makeTestApp,
  ORIGIN,
  withAdmin,
  type TestApp,
  type TestClient,
} from 'sync-server/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadAllAttachments, loadAttachmentBlob, saveAttachment } from '$lib/db/attachments';
import type { FieldDxDatabase, OutboxRow } from '$lib/db/database';
import { setDeleted } from '$lib/db/records';
import { saveDiagnosis } from '$lib/db/diagnoses';
import { startEncounter } from '$lib/db/encounters';
import { createPatient, getPatient, listPatients, updatePatient } from '$lib/db/patients';
import { claimDevice } from '$lib/db/ownership';
import { freshDatabase, asKnown } from '$lib/db/test-db';
import type { PushRequest } from 'sync-server/protocol';
import type { PatientFields } from '$lib/domain/records';
import { applyPushResults } from './apply';
import {
  deviceId,
  nextBatch,
  PUSH_BATCH,
  PUSH_MAX_BYTES,
  pushBody,
  utf8Bytes,
  syncOnce,
  toWireMutation,
  type SyncProgress,
} from './engine';
import { resolveConflict } from './resolve';
import { httpTransport, type SyncTransport } from './transport';

const fields: PatientFields = {
  givenName: 'Awa',
  familyName: 'Traoré',
  sex: 'female',
  birthDate: '1990-05-01',
  birthDateEstimated: false,
  village: 'Ségou',
  phone: '',
  identifiers: [],
};

/** The real server, in process; each device talks to it with its user's session cookie. */
function transportFor(app: TestApp, client: TestClient): SyncTransport {
  return httpTransport('http://localhost', async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', ORIGIN);
    if (client.token) headers.set('cookie', `fdx_session=${client.token}`);
    return app.request(String(input), { ...init, headers });
  });
}

const cookieOf = (who: { client: TestClient }) => ({ cookie: `fdx_session=${who.client.token}` });

let databases: FieldDxDatabase[] = [];
function device() {
  const db = freshDatabase();
  databases.push(db);
  return db;
}
beforeEach(() => {
  databases = [];
});
afterEach(async () => {
  await Promise.all(databases.map((db) => db.delete()));
});

async function setup() {
  const server = await makeTestApp();
  const admin = await withAdmin(server.app);
  const a = await admin.member('a@example.org');
  const b = await admin.member('b@example.org', 'clinician', a.teamId);
  const other = await admin.member('other@example.org');
  return {
    server,
    a: {
      author: { userId: a.id, teamId: a.teamId },
      client: a.client,
      transport: transportFor(server.app, a.client),
    },
    b: {
      author: { userId: b.id, teamId: b.teamId },
      client: b.client,
      transport: transportFor(server.app, b.client),
    },
    other: {
      author: { userId: other.id, teamId: other.teamId },
      transport: transportFor(server.app, other.client),
    },
  };
}

describe('sync with the real server', () => {
  it('backs up a new patient and brings it to a teammate, not to another team', async () => {
    const { a, b, other } = await setup();
    const tabletA = device();
    const patient = await createPatient(tabletA, fields, a.author);
    const summary = await syncOnce(tabletA, a.transport);
    expect(summary).toMatchObject({ pushed: 1, applied: 1, rejected: [] });
    expect(await tabletA.outbox.count()).toBe(0);
    expect(
      (await asKnown(tabletA, 'patients', await getPatient(tabletA, patient.id)))?.version,
    ).toBeGreaterThan(0);

    const tabletB = device();
    await syncOnce(tabletB, b.transport);
    expect((await getPatient(tabletB, patient.id))?.givenName).toBe('Awa');

    const tabletOther = device();
    await syncOnce(tabletOther, other.transport);
    expect(await tabletOther.patients.count()).toBe(0);
  });

  it('a shared tablet: the next user syncs under a new device id (the server binds ids)', async () => {
    const { a, b } = await setup();
    const tablet = device();
    await claimDevice(tablet, a.author.userId);
    await createPatient(tablet, fields, a.author);
    await syncOnce(tablet, a.transport);
    const first = (await tablet.syncState.get('deviceId'))?.value;
    await claimDevice(tablet, b.author.userId);
    const patient = await createPatient(tablet, fields, b.author);
    expect(await syncOnce(tablet, b.transport)).toMatchObject({ pushed: 1, applied: 1 });
    expect(
      (await asKnown(tablet, 'patients', await getPatient(tablet, patient.id)))?.version,
    ).toBeGreaterThan(0);
    expect((await tablet.syncState.get('deviceId'))?.value).not.toBe(first);
  });

  it("recovers when it holds another user's device id (installed before ids were renewed)", async () => {
    const { a, b } = await setup();
    const tabletA = device();
    await syncOnce(tabletA, a.transport);
    const tabletB = device();
    await tabletB.syncState.put({
      key: 'deviceId',
      value: (await tabletA.syncState.get('deviceId'))!.value,
    });
    const patient = await createPatient(tabletB, fields, b.author);
    await expect(syncOnce(tabletB, b.transport)).rejects.toMatchObject({ code: 'device_in_use' });
    expect(await syncOnce(tabletB, b.transport)).toMatchObject({ pushed: 1, applied: 1 });
    expect(
      (await asKnown(tabletB, 'patients', await getPatient(tabletB, patient.id)))?.version,
    ).toBeGreaterThan(0);
  });

  it('starts the download over when the server no longer knows its cursor (restored backup)', async () => {
    const { a } = await setup();
    const tablet = device();
    const patient = await createPatient(tablet, fields, a.author);
    await syncOnce(tablet, a.transport);
    await tablet.syncState.put({ key: 'cursor', value: 10_000 });
    await tablet.patients.clear();
    await expect(syncOnce(tablet, a.transport)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await syncOnce(tablet, a.transport);
    expect((await getPatient(tablet, patient.id))?.givenName).toBe('Awa');
  });

  it('a sync with nothing to do changes nothing', async () => {
    const { a } = await setup();
    const tablet = device();
    await createPatient(tablet, fields, a.author);
    await syncOnce(tablet, a.transport);
    const again = await syncOnce(tablet, a.transport);
    expect(again).toMatchObject({ pushed: 0, pulled: 0 });
  });

  it('merges disjoint edits from two tablets and reports overlapping ones as a conflict', async () => {
    const { server, a, b } = await setup();
    const tabletA = device();
    const tabletB = device();
    const patient = await createPatient(tabletA, fields, a.author);
    await syncOnce(tabletA, a.transport);
    await syncOnce(tabletB, b.transport);

    await updatePatient(tabletA, patient.id, { ...fields, phone: '+223 1234' }, a.author);
    await updatePatient(tabletB, patient.id, { ...fields, village: 'Mopti' }, b.author);
    await syncOnce(tabletA, a.transport);
    const merged = await syncOnce(tabletB, b.transport);
    expect(merged.merged).toBe(1);
    await syncOnce(tabletA, a.transport);
    for (const tablet of [tabletA, tabletB]) {
      expect(await getPatient(tablet, patient.id)).toMatchObject({
        phone: '+223 1234',
        village: 'Mopti',
      });
    }

    await updatePatient(
      tabletA,
      patient.id,
      { ...fields, phone: '+223 1234', village: 'Gao' },
      a.author,
    );
    await updatePatient(
      tabletB,
      patient.id,
      { ...fields, phone: '+223 1234', village: 'Kayes' },
      b.author,
    );
    await syncOnce(tabletA, a.transport);
    const conflicted = await syncOnce(tabletB, b.transport);
    expect(conflicted.conflicts).toBe(1);
    const [conflict] = await tabletB.conflicts.toArray();
    expect(conflict).toMatchObject({
      recordId: patient.id,
      fields: ['village'],
      deviceValues: { village: 'Kayes' },
    });
    // The server's value stands until the clinician resolves; the device's value is in the conflict.
    expect((await getPatient(tabletB, patient.id))?.village).toBe('Gao');

    // B keeps its own value; the resolution is an edit that closes the conflict on the server.
    await resolveConflict(tabletB, conflict!, { village: 'Kayes' }, b.author);
    expect(await tabletB.conflicts.count()).toBe(0);
    // Editing again before the sync keeps the resolution attached to the edit.
    await updatePatient(
      tabletB,
      patient.id,
      { ...fields, phone: '+223 1234', village: 'Kayes' },
      b.author,
    );
    expect((await tabletB.outbox.toArray())[0]?.resolvesConflictId).toBe(conflict!.id);
    const resolved = await syncOnce(tabletB, b.transport);
    expect(resolved).toMatchObject({ applied: 1, conflicts: 0, rejected: [] });
    await syncOnce(tabletA, a.transport);
    for (const tablet of [tabletA, tabletB]) {
      expect((await getPatient(tablet, patient.id))?.village).toBe('Kayes');
    }
    const open = await server.app.request('/api/sync/conflicts', { headers: cookieOf(b) });
    expect(((await open.json()) as { conflicts: unknown[] }).conflicts).toEqual([]);
  });

  it('uploads an image before its record and a teammate downloads it by hash', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    const patient = await createPatient(tabletA, fields, a.author);
    const blob = new Blob([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], { type: 'image/png' });
    const attachment = await saveAttachment(
      tabletA,
      patient.id,
      blob,
      { width: 1, height: 1 },
      a.author,
    );
    await saveDiagnosis(
      tabletA,
      {
        patientId: patient.id,
        encounterId: null,
        modelId: 'pneumonia-cxr',
        modelVersion: '1.0.0',
        modelName: 'Pneumonia',
        inputs: { kind: 'image', attachmentId: attachment.id, sha256: attachment.sha256 },
        outputs: { normal: 0.2, pneumonia: 0.8 },
        positiveLabel: 'pneumonia',
        threshold: 0.5,
        explanation: null,
        modelNotice: { intendedUse: 'x', limitations: 'y' },
        assessment: null,
      },
      a.author,
    );
    const summary = await syncOnce(tabletA, a.transport);
    expect(summary).toMatchObject({ pushed: 3, applied: 3, rejected: [] });
    const tabletB = device();
    await syncOnce(tabletB, b.transport);
    expect(await tabletB.attachments.count()).toBe(1);
    expect(await tabletB.blobs.count()).toBe(0);
    expect(await downloadAllAttachments(tabletB, b.transport.getBlob)).toBe(1);
    const downloaded = await loadAttachmentBlob(tabletB, attachment.sha256, () => {
      throw new Error('already here: no download');
    });
    expect(new Uint8Array(await downloaded.arrayBuffer())).toEqual(
      new Uint8Array([137, 80, 78, 71, 1, 2, 3]),
    );
    // A tampered download is refused and not kept.
    await tabletB.blobs.clear();
    await expect(
      loadAttachmentBlob(tabletB, attachment.sha256, async () => new Blob([new Uint8Array([0])])),
    ).rejects.toThrow(/does not match/);
    expect(await tabletB.blobs.count()).toBe(0);
  });

  it('keeps an edit made while its push was in flight', async () => {
    const { a } = await setup();
    const tablet = device();
    const patient = await createPatient(tablet, fields, a.author);
    // The user types again while the first push is on the wire.
    let typed = false;
    const slow: SyncTransport = {
      ...a.transport,
      async push(request) {
        const response = await a.transport.push(request);
        if (!typed) {
          typed = true;
          await updatePatient(tablet, patient.id, { ...fields, phone: '555' }, a.author);
          const [pending] = await tablet.outbox.toArray();
          expect(pending?.baseVersion).toBe(0);
        }
        return response;
      },
    };
    // The same sync pushes the newer edit too, based on the version the first push created.
    const summary = await syncOnce(tablet, slow);
    expect(summary).toMatchObject({ pushed: 2, applied: 2 });
    expect(await tablet.outbox.count()).toBe(0);
    expect(await tablet.conflicts.count()).toBe(0);
    expect((await getPatient(tablet, patient.id))?.phone).toBe('555');
  });

  it('learns the versions of its pushed records from the push answer', async () => {
    const { a } = await setup();
    const tablet = device();
    const patients = await Promise.all(
      ['Awa', 'Binta', 'Coumba'].map((givenName) =>
        createPatient(tablet, { ...fields, givenName }, a.author),
      ),
    );
    const pushOnly: SyncTransport = {
      ...a.transport,
      pull: async (_device, cursor) => ({ changes: [], cursor, hasMore: false, reset: false }),
    };
    await syncOnce(tablet, pushOnly);
    // Backed up (the outbox is empty), not pulled back: the answer gave each record its version.
    expect(await tablet.outbox.count()).toBe(0);
    for (const p of patients)
      expect((await asKnown(tablet, 'patients', await getPatient(tablet, p.id)))?.version).toBe(1);

    // An edit made before the versions arrive builds on the device's own pushed edit: no conflict.
    await updatePatient(tablet, patients[0]!.id, { ...fields, phone: '555' }, a.author);
    const summary = await syncOnce(tablet, a.transport);
    expect(summary).toMatchObject({ applied: 1, conflicts: 0, merged: 0 });
    expect(
      (await asKnown(tablet, 'patients', await getPatient(tablet, patients[0]!.id)))?.version,
    ).toBe(2);
    // Versioned without being rewritten: their device-only fields stay.
    const second = await asKnown(tablet, 'patients', await getPatient(tablet, patients[1]!.id));
    expect(second).toMatchObject({ version: 1, lastVisitAt: patients[1]!.lastVisitAt });
    expect(second?.searchTokens).toEqual(patients[1]!.searchTokens);
  });

  it('merges a teammate’s edit into one made before the device learnt its own version', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    const tabletB = device();
    const patient = await createPatient(tabletA, fields, a.author);
    const pushOnly: SyncTransport = {
      ...a.transport,
      pull: async (_device, cursor) => ({ changes: [], cursor, hasMore: false, reset: false }),
    };
    await syncOnce(tabletA, pushOnly);
    await syncOnce(tabletB, b.transport);
    await updatePatient(tabletB, patient.id, { ...fields, village: 'Mopti' }, b.author);
    await syncOnce(tabletB, b.transport);

    await updatePatient(tabletA, patient.id, { ...fields, phone: '555' }, a.author);
    const summary = await syncOnce(tabletA, a.transport);
    expect(summary).toMatchObject({ merged: 1, conflicts: 0 });
    expect(await getPatient(tabletA, patient.id)).toMatchObject({
      village: 'Mopti',
      phone: '555',
      version: 3,
    });
  });

  it('keeps a rejected row in the outbox while the rows around it leave', async () => {
    const { a } = await setup();
    const tablet = device();
    for (const givenName of ['Awa', 'Binta', 'Coumba'])
      await createPatient(tablet, { ...fields, givenName }, a.author);
    const sent = await nextBatch(tablet);
    const results = sent.map((row, i) =>
      i === 1
        ? {
            mutationId: row.mutationId,
            status: 'rejected' as const,
            code: 'invalid' as const,
            reason: 'test',
          }
        : { mutationId: row.mutationId, status: 'applied' as const, version: 1 },
    );
    const outcome = await applyPushResults(tablet, sent, results);
    expect(outcome).toMatchObject({ applied: 2 });
    const left = await tablet.outbox.toArray();
    expect(left.map((r) => r.seq)).toEqual([sent[1]!.seq]);
    expect(left[0]?.rejected).toMatchObject({ code: 'invalid' });
    // The next batch passes over it.
    expect(await nextBatch(tablet)).toEqual([]);
  });

  it('batches the outbox in order, past rejected rows, at most PUSH_BATCH at a time', async () => {
    const { a } = await setup();
    const tablet = device();
    const rows = Array.from({ length: PUSH_BATCH + 20 }, (_, i) => ({
      mutationId: `m${i}`,
      table: 'patients' as const,
      recordId: `r${i}`,
      op: 'put' as const,
      baseVersion: 0,
      data: { id: `r${i}`, teamId: a.author.teamId },
      createdAt: '2026-01-01T00:00:00.000Z',
      ...(i < 10 ? { rejected: { code: 'invalid', reason: 'test' } } : {}),
    }));
    await tablet.outbox.bulkAdd(rows);
    const batch = await nextBatch(tablet);
    expect(batch).toHaveLength(PUSH_BATCH);
    expect(batch[0]?.mutationId).toBe('m10');
    expect(batch.map((r) => r.seq)).toEqual([...batch.map((r) => r.seq!)].sort((x, y) => x - y));
  });

  it('downloads everything again when the server asks for a restart mid-download', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    for (let i = 0; i < 5; i++)
      await createPatient(tabletA, { ...fields, phone: `${i}` }, a.author);
    await syncOnce(tabletA, a.transport);

    const tabletB = device();
    let resets = 0;
    const pagesOfTwo: SyncTransport = {
      ...b.transport,
      async pull(deviceId, cursor) {
        if (cursor > 0 && resets === 0) {
          resets++;
          return { changes: [], cursor: 0, hasMore: true, reset: true };
        }
        return b.transport.pull(deviceId, cursor, 2);
      },
    };
    const summary = await syncOnce(tabletB, pagesOfTwo);
    expect(resets).toBe(1);
    expect(await tabletB.patients.count()).toBe(5);
    expect(summary.pulled).toBe(7); // the first page, then all five again

    const refusing: SyncTransport = {
      ...b.transport,
      pull: async () => ({ changes: [], cursor: 0, hasMore: true, reset: true }),
    };
    await expect(syncOnce(device(), refusing)).rejects.toThrow(/restart a download/);
  });

  it('loses nothing when an edit read ahead for the next push is rebased by this one’s answer', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    const tabletB = device();
    const patient = await createPatient(tabletA, fields, a.author);
    await syncOnce(tabletA, a.transport);
    await syncOnce(tabletB, b.transport);
    await updatePatient(tabletB, patient.id, { ...fields, village: 'Mopti' }, b.author);
    await syncOnce(tabletB, b.transport);

    // Tablet A: an edit of the patient first in the outbox, then enough new patients to need a
    // second push; during the first push the patient is edited again, before the read-ahead.
    await updatePatient(tabletA, patient.id, { ...fields, phone: '555' }, a.author);
    for (let i = 0; i < PUSH_BATCH; i++)
      await createPatient(tabletA, { ...fields, givenName: `P${i}` }, a.author);
    let pushes = 0;
    const editing: SyncTransport = {
      ...a.transport,
      push(request) {
        if (++pushes === 1) {
          // Queued before the read-ahead's transaction, so the next batch holds this edit.
          void updatePatient(
            tabletA,
            patient.id,
            { ...fields, phone: '555', identifiers: [{ kind: 'National ID', value: 'N1' }] },
            a.author,
          );
        }
        return a.transport.push(request);
      },
    };
    const summary = await syncOnce(tabletA, editing);
    expect(pushes).toBe(2); // the new edit went out with the batch read ahead
    expect(summary.conflicts).toBe(0);
    expect(await tabletA.outbox.count()).toBe(0);
    const expected = {
      village: 'Mopti',
      phone: '555',
      identifiers: [{ kind: 'National ID', value: 'N1' }],
    };
    expect(await getPatient(tabletA, patient.id)).toMatchObject(expected);
    await syncOnce(tabletB, b.transport);
    expect(await getPatient(tabletB, patient.id)).toMatchObject(expected);
  });
});

describe('resolveConflict on the device', () => {
  const author = { userId: 'user-b', teamId: 'team-1' };
  const conflictOf = (recordId: string) => ({
    id: 'conflict-1',
    table: 'patients' as const,
    recordId,
    fields: ['familyName', 'village'],
    deviceValues: { familyName: 'Keita', village: 'Kayes' },
    serverVersion: 2,
    createdAt: '2026-03-01T10:00:00.000Z',
  });

  it("takes the chosen values of the conflict's fields only, and queues the edit naming the conflict", async () => {
    const tablet = device();
    const patient = await createPatient(tablet, fields, author);
    await tablet.outbox.clear();
    const conflict = conflictOf(patient.id);
    await tablet.conflicts.put(conflict);
    const now = new Date('2026-03-02T08:00:00.000Z');

    // The village is the conflict's but not chosen here: it keeps its value. The phone was not in
    // conflict: a value for it is no part of the resolution.
    await resolveConflict(
      tablet,
      conflict,
      { familyName: 'Keita', phone: '+223 9999' },
      author,
      now,
    );

    const stored = await getPatient(tablet, patient.id);
    expect(stored).toMatchObject({
      familyName: 'Keita',
      village: 'Ségou',
      phone: '',
      updatedAt: now.toISOString(),
    });
    // The patient is found under its new name (its lookup fields follow the resolution).
    expect((await listPatients(tablet, 'Keita')).map((p) => p.id)).toEqual([patient.id]);
    expect(await tablet.conflicts.count()).toBe(0);
    const [queued, ...more] = await tablet.outbox.toArray();
    expect(more).toEqual([]);
    expect(queued).toMatchObject({
      recordId: patient.id,
      resolvesConflictId: 'conflict-1',
      data: { familyName: 'Keita', village: 'Ségou', phone: '', updatedAt: now.toISOString() },
    });
  });

  it('gives only a patient its lookup fields (a visit has none)', async () => {
    const tablet = device();
    const patient = await createPatient(tablet, fields, author);
    const visit = await startEncounter(tablet, patient.id, author);
    await tablet.outbox.clear();
    const conflict = { ...conflictOf(visit.id), table: 'encounters' as const, fields: ['notes'] };
    await tablet.conflicts.put(conflict);
    await resolveConflict(tablet, conflict, { notes: 'better' }, author);
    const stored = await tablet.encounters.get(visit.id);
    expect(stored).toMatchObject({ notes: 'better' });
    expect(stored).not.toHaveProperty('searchTokens');
    expect(stored).not.toHaveProperty('familyKey');
  });

  it('refuses when the record is no longer on the device, and keeps the conflict', async () => {
    const tablet = device();
    const conflict = conflictOf('gone');
    await tablet.conflicts.put(conflict);
    await expect(
      resolveConflict(tablet, conflict, { familyName: 'Keita' }, author),
    ).rejects.toThrow(/no longer on this device/);
    expect(await tablet.conflicts.count()).toBe(1);
    expect(await tablet.outbox.count()).toBe(0);
  });
});

describe('syncOnce: progress, push batches by size, a restart at the start', () => {
  it('reports the upload, then the download, with the rows waiting and the bytes sent and received', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    for (const givenName of ['Awa', 'Binta', 'Coumba']) {
      await createPatient(tabletA, { ...fields, givenName }, a.author);
    }
    // A refused row waits for the user: it counts as waiting, and is not sent.
    const [refused, ...sending] = await tabletA.outbox.toArray();
    await tabletA.outbox.update(refused!.seq!, { rejected: { code: 'invalid', reason: 'x' } });
    const request = { deviceId: await deviceId(tabletA), mutations: sending.map(toWireMutation) };
    const upload: SyncProgress[] = [];
    const pushed = await syncOnce(tabletA, a.transport, (p) => upload.push(p));
    expect(pushed).toMatchObject({ pushed: 2, applied: 2, pulled: 0 });
    expect(pushed.bytesUp).toBe(JSON.stringify(request).length);
    expect(upload.filter((p) => p.phase === 'upload')).toEqual([
      { phase: 'upload', done: 2, total: 3, bytes: pushed.bytesUp },
    ]);
    expect((await tabletA.syncState.get('lastSuccessAt'))?.value).toEqual(expect.any(String));

    const tabletB = device();
    const download: SyncProgress[] = [];
    const pulled = await syncOnce(tabletB, b.transport, (p) => download.push(p));
    const page = await b.transport.pull(crypto.randomUUID(), 0, 1000);
    expect(pulled).toMatchObject({ pushed: 0, pulled: 2, bytesUp: 0 });
    expect(pulled.bytesDown).toBe(JSON.stringify(page.changes).length);
    expect(download).toEqual([{ phase: 'download', done: 2, total: 2, bytes: pulled.bytesDown }]);
  });

  it('ends a push batch before the row that would pass PUSH_MAX_BYTES, and sends a larger row alone', async () => {
    const tablet = device();
    // Sizes are of each mutation's JSON on the wire: `envelope` bytes besides the notes.
    const envelope = JSON.stringify(toWireMutation(row(0))).length;
    const half = PUSH_MAX_BYTES / 2 - envelope;
    await tablet.outbox.bulkAdd([row(half), row(half), row(1), row(PUSH_MAX_BYTES), row(1)]);
    const batches: number[][] = [];
    for (let batch = await nextBatch(tablet); batch.length > 0;) {
      batches.push(batch.map((r) => JSON.stringify(toWireMutation(r)).length));
      batch = await nextBatch(tablet, batch[batch.length - 1]!.seq);
    }
    expect(batches).toEqual([
      [PUSH_MAX_BYTES / 2, PUSH_MAX_BYTES / 2],
      [envelope + 1],
      [PUSH_MAX_BYTES + envelope],
      [envelope + 1],
    ]);
  });

  it('counts the bytes of UTF-8, not characters, against PUSH_MAX_BYTES', async () => {
    const tablet = device();
    // 'é' is two bytes: each of these is over half the limit in bytes, a quarter in characters.
    const accented = (): OutboxRow => ({
      ...row(0),
      data: { notes: 'é'.repeat(PUSH_MAX_BYTES / 4) },
    });
    await tablet.outbox.bulkAdd([accented(), accented()]);
    const first = await nextBatch(tablet);
    expect(first).toHaveLength(1);
    expect(await nextBatch(tablet, first[0]!.seq)).toHaveLength(1);
  });

  it('counts UTF-8 bytes as TextEncoder does', () => {
    const encoder = new TextEncoder();
    for (const text of [
      '',
      'abc',
      'Traoré',
      'Keïta — Ségou',
      'ꦗꦮ',
      'x😀y',
      '€ 5',
      '\u07ff\u0800',
      'Ségou — 😀 '.repeat(40_000), // past the reused buffer
      'Ségou '.repeat(30_000), // within it, after a longer one
    ]) {
      expect(utf8Bytes(text), text.slice(0, 20)).toBe(encoder.encode(text).byteLength);
    }
  });

  it('sends the body JSON.stringify would make of the request', () => {
    const batch = [row(3), { ...row(2), data: { notes: 'é"\\\n' }, resolvesConflictId: 'c-1' }];
    const request = { deviceId: 'device-1', mutations: batch.map(toWireMutation) };
    expect(pushBody('device-1', batch)).toBe(JSON.stringify(request));
  });

  it('fails when the server restarts a download that had just started, and records no success', async () => {
    const tablet = device();
    const restarting: SyncTransport = {
      push: () => Promise.reject(new Error('nothing to push')),
      pull: async () => ({ changes: [], cursor: 0, hasMore: true, reset: true }),
      putBlob: () => Promise.reject(new Error('no images')),
      getBlob: () => Promise.reject(new Error('no images')),
    };
    await expect(syncOnce(tablet, restarting)).rejects.toThrow(/had just started/);
    expect(await tablet.syncState.get('lastSuccessAt')).toBeUndefined();
  });
});

/** An outbox row whose data is JSON.stringify({ notes: 'x'.repeat(n) }): n + 12 characters. */
function row(n: number): OutboxRow {
  return {
    mutationId: crypto.randomUUID(),
    table: 'patients',
    recordId: crypto.randomUUID(),
    op: 'put',
    baseVersion: 0,
    data: { notes: 'x'.repeat(n) },
    createdAt: new Date().toISOString(),
  };
}

/** A transport that applies every pushed mutation as sent, and records what it was sent. */
function recordingTransport(failPush = (_n: number) => false) {
  const pushes: PushRequest[] = [];
  const puts: string[] = [];
  let uploading = 0;
  let most = 0;
  const transport: SyncTransport = {
    async push(request) {
      pushes.push(request);
      if (failPush(pushes.length)) throw new Error('push failed');
      const applied = 'applied' as const;
      return {
        results: request.mutations.map((m) => ({
          mutationId: m.mutationId,
          status: applied,
          version: 1,
        })),
      };
    },
    pull: async () => ({ changes: [], cursor: 0, hasMore: false, reset: false }),
    async putBlob(sha256, blob) {
      most = Math.max(most, ++uploading);
      await new Promise((resolve) => setTimeout(resolve, 5));
      uploading--;
      puts.push(sha256);
      return { sha256, bytes: blob.size, mime: blob.type, created: true };
    },
    getBlob: () => Promise.reject(new Error('no downloads here')),
  };
  return { transport, pushes, puts, most: () => most };
}

describe('syncOnce: images, and what a failure leaves', () => {
  const author = { userId: 'user-a', teamId: 'team-1' };

  it('uploads each image once, at most three at a time, and counts their bytes; a deleted one needs none', async () => {
    const tablet = device();
    const patient = await createPatient(tablet, fields, author);
    const sizes = [10, 20, 30, 40];
    const saved = [];
    for (const [i, n] of sizes.entries()) {
      const blob = new Blob([new Uint8Array(n).fill(i + 1)], { type: 'image/png' });
      saved.push(await saveAttachment(tablet, patient.id, blob, { width: 1, height: 1 }, author));
    }
    const t = recordingTransport();
    const summary = await syncOnce(tablet, t.transport);
    expect([...t.puts].sort()).toEqual(saved.map((a) => a.sha256).sort());
    expect(t.most()).toBe(3);
    const json = t.pushes.reduce((n, request) => n + JSON.stringify(request).length, 0);
    expect(summary.bytesUp).toBe(json + 10 + 20 + 30 + 40);

    // Deleting an image sends its record only: its bytes may be gone from the device.
    await setDeleted(tablet, 'attachments', saved[0]!.id, true, author, new Date());
    await tablet.blobs.delete(saved[0]!.sha256);
    t.puts.length = 0;
    expect(await syncOnce(tablet, t.transport)).toMatchObject({ pushed: 1, applied: 1 });
    expect(t.puts).toEqual([]);
  });

  it('records the answer to an earlier batch before a later push fails', async () => {
    const tablet = device();
    // Each row is over half PUSH_MAX_BYTES: one batch each.
    const [first, second] = [row(PUSH_MAX_BYTES / 2), row(PUSH_MAX_BYTES / 2)];
    await tablet.outbox.bulkAdd([first!, second!]);
    const t = recordingTransport((n) => n === 2);
    await expect(syncOnce(tablet, t.transport)).rejects.toThrow('push failed');
    expect(t.pushes.map((p) => p.mutations.length)).toEqual([1, 1]);
    expect((await tablet.outbox.toArray()).map((r) => r.mutationId)).toEqual([second!.mutationId]);
  });

  it('asks for no more pages once storing a download failed', async () => {
    const tablet = device();
    let pulls = 0;
    const endless: SyncTransport = {
      push: () => Promise.reject(new Error('nothing to push')),
      async pull(_device, cursor) {
        pulls++;
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { changes: [], cursor: cursor + 1, hasMore: true, reset: false };
      },
      putBlob: () => Promise.reject(new Error('no images')),
      getBlob: () => Promise.reject(new Error('no images')),
    };
    const failing = (p: SyncProgress) => {
      if (p.phase === 'download') throw new Error('the device could not store it');
    };
    await expect(syncOnce(tablet, endless, failing)).rejects.toThrow('could not store');
    const asked = pulls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pulls).toBe(asked);
  });
});
