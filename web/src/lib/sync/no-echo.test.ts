/**
 * No echo pull (docs/sync-no-echo.md), device and real server together: a tablet's pull leaves
 * out the records it pushed and holds, and still brings back every change it does not hold.
 */
import {
  makeTestApp,
  ORIGIN,
  withAdmin,
  type TestApp,
  type TestClient,
} from 'sync-server/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient, getPatient, updatePatient } from '$lib/db/patients';
import { freshDatabase, asKnown } from '$lib/db/test-db';
import type { PatientFields } from '$lib/domain/records';
import { readAcked, readCursor } from './apply';
import { syncOnce } from './engine';
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

function transportFor(app: TestApp, client: TestClient) {
  return httpTransport('http://localhost', async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', ORIGIN);
    if (client.token) headers.set('cookie', `fdx_session=${client.token}`);
    return app.request(String(input), { ...init, headers });
  });
}

const databases: FieldDxDatabase[] = [];
function device() {
  const db = freshDatabase();
  databases.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.delete()));
});

async function setup() {
  const server = await makeTestApp();
  const admin = await withAdmin(server.app);
  const a = await admin.member('a@example.org');
  const b = await admin.member('b@example.org', 'clinician', a.teamId);
  const user = (m: typeof a) => ({
    author: { userId: m.id, teamId: m.teamId },
    transport: transportFor(server.app, m.client),
  });
  return { a: user(a), b: user(b) };
}

describe('no echo pull', () => {
  it('pulls none of its own pushed records back, but a teammate’s later edit and a merge', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    const tabletB = device();
    const patients = [];
    for (const givenName of ['Awa', 'Binta', 'Coumba'])
      patients.push(await createPatient(tabletA, { ...fields, givenName }, a.author));

    const first = await syncOnce(tabletA, a.transport);
    expect(first).toMatchObject({ pushed: 3, applied: 3, pulled: 0 });
    expect(await readAcked(tabletA)).toBeGreaterThan(0);
    for (const p of patients)
      expect((await asKnown(tabletA, 'patients', await getPatient(tabletA, p.id)))?.version).toBe(
        1,
      );
    expect(await syncOnce(tabletB, b.transport)).toMatchObject({ pulled: 3 });

    // B edits Awa; both edit Binta (different fields): A's push of Binta is merged.
    await updatePatient(tabletB, patients[0]!.id, { ...fields, phone: '111' }, b.author);
    await updatePatient(
      tabletB,
      patients[1]!.id,
      { ...fields, givenName: 'Binta', phone: '222' },
      b.author,
    );
    await syncOnce(tabletB, b.transport);
    await updatePatient(
      tabletA,
      patients[1]!.id,
      { ...fields, givenName: 'Binta', village: 'Mopti' },
      a.author,
    );
    await updatePatient(
      tabletA,
      patients[2]!.id,
      { ...fields, givenName: 'Coumba', village: 'Kayes' },
      a.author,
    );

    const second = await syncOnce(tabletA, a.transport);
    expect(second).toMatchObject({ pushed: 2, applied: 1, merged: 1 });
    // Awa (B's edit) and Binta (merged) come back; Coumba, pushed as sent, does not.
    expect(second.pulled).toBe(2);
    expect(
      await asKnown(tabletA, 'patients', await getPatient(tabletA, patients[0]!.id)),
    ).toMatchObject({ phone: '111', version: 2 });
    expect(await getPatient(tabletA, patients[1]!.id)).toMatchObject({
      phone: '222',
      village: 'Mopti',
      version: 3,
    });
    expect(
      await asKnown(tabletA, 'patients', await getPatient(tabletA, patients[2]!.id)),
    ).toMatchObject({
      village: 'Kayes',
      version: 2,
    });

    // And B, which pushed nothing new, converges on all of it.
    await syncOnce(tabletB, b.transport);
    for (const p of patients) {
      const x = await asKnown(tabletA, 'patients', await getPatient(tabletA, p.id));
      const y = await asKnown(tabletB, 'patients', await getPatient(tabletB, p.id));
      expect([x?.version, x?.village, x?.phone]).toEqual([y?.version, y?.village, y?.phone]);
    }
  });

  it('gets its own records back when the server restarts its download (reset)', async () => {
    const { a } = await setup();
    const tablet = device();
    const patients = [];
    for (const givenName of ['Awa', 'Binta'])
      patients.push(await createPatient(tablet, { ...fields, givenName }, a.author));
    await syncOnce(tablet, a.transport);
    expect(await readAcked(tablet)).toBeGreaterThan(0);

    let resets = 0;
    const asked: boolean[] = [];
    const resetting: SyncTransport = {
      ...a.transport,
      pull: (deviceId, cursor, limit, acked, remaining) => {
        asked.push(remaining ?? false);
        if (cursor > 0 && resets++ === 0) {
          return Promise.resolve({ changes: [], cursor: 0, hasMore: true, reset: true });
        }
        return a.transport.pull(deviceId, cursor, limit, acked, remaining);
      },
    };
    // The reset drops the records; the download from 0 must not leave them out.
    const summary = await syncOnce(tablet, resetting);
    expect(resets).toBe(1);
    // The download that starts again asks for its total again (the progress bar's).
    expect(asked).toEqual([true, true]);
    expect(summary.pulled).toBe(2);
    expect(await readAcked(tablet)).toBe(0);
    for (const p of patients)
      expect((await asKnown(tablet, 'patients', await getPatient(tablet, p.id)))?.version).toBe(1);
  });

  it('moves its cursor past its own push when nothing else was written meanwhile', async () => {
    const { a, b } = await setup();
    const tabletA = device();
    const tabletB = device();
    await syncOnce(tabletA, a.transport); // the first pull from 0 records the user's scope
    const pulledFrom: number[] = [];
    const watched: SyncTransport = {
      ...a.transport,
      pull: (deviceId, cursor, limit, acked, remaining) => {
        pulledFrom.push(cursor);
        return a.transport.pull(deviceId, cursor, limit, acked, remaining);
      },
    };
    for (const givenName of ['Awa', 'Binta', 'Coumba'])
      await createPatient(tabletA, { ...fields, givenName }, a.author);
    expect(await syncOnce(tabletA, watched)).toMatchObject({ pushed: 3, pulled: 0 });
    // The pull starts after the three writes (their highest seq is acked): none is walked again.
    expect(pulledFrom).toEqual([await readAcked(tabletA)]);
    expect(await readCursor(tabletA)).toBe(await readAcked(tabletA));

    // B writes between A's last pull and A's next push: A's cursor stays, and B's record comes.
    await createPatient(tabletB, { ...fields, givenName: 'Dado' }, b.author);
    await syncOnce(tabletB, b.transport);
    const before = await readCursor(tabletA);
    await createPatient(tabletA, { ...fields, givenName: 'Eyram' }, a.author);
    pulledFrom.length = 0;
    expect(await syncOnce(tabletA, watched)).toMatchObject({ pushed: 1, pulled: 1 });
    expect(pulledFrom).toEqual([before]);
    expect(await readCursor(tabletA)).toBe(await readAcked(tabletA));
  });
});
