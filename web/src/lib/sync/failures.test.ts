/**
 * The sync engine's failure paths, with the real modules (Dexie on fake-indexeddb, the real
 * server in process): a transport that throws, a lost session pausing sync until sign-in,
 * back-off between failures, one sync at a time, and an image missing on push or on pull.
 */
import type { PullResponse, PushResponse } from 'sync-server/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '$lib/api/errors';
import { loadAttachmentBlob, saveAttachment } from '$lib/db/attachments';
import type { FieldDxDatabase } from '$lib/db/database';
import { createPatient, getPatient, updatePatient } from '$lib/db/patients';
import { freshDatabase, patientFields, asKnown, unlockedVault } from '$lib/db/test-db';
import { readCursor } from './apply';
import { syncOnce } from './engine';
import { SyncStatus } from './status.svelte';
import { teamOnServer, type TestUser } from './test-server';
import { httpTransport, type SyncTransport } from './transport';

let databases: FieldDxDatabase[] = [];
/** An unlocked app, for SyncStatus (sync waits while it is locked: locked.test.ts). */
const unlocked = unlockedVault();
function device() {
  const db = freshDatabase();
  databases.push(db);
  return db;
}
beforeEach(() => {
  databases = [];
});
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await Promise.all(databases.map((db) => db.delete()));
});

/** What a browser's fetch does with no connection; readResponse turns it into a network error. */
const unreachable = httpTransport('http://localhost', async () => {
  throw new TypeError('Failed to fetch');
});

/**
 * Lets fake-indexeddb (setImmediate, never faked here), promises and the real server's answers run
 * until `done()`. Bounded by real time (Date is not faked), not by a count of turns: on a loaded
 * machine a request to the test server can take longer than thousands of turns.
 */
async function until(done: () => boolean, what: string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (done()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The records of the user's team on the server, by id (from a fresh pull). */
async function onServer(user: TestUser): Promise<Map<string, Record<string, unknown>>> {
  const res: PullResponse = await user.transport.pull(crypto.randomUUID(), 0, 1000);
  return new Map(res.changes.map((c) => [c.id, { ...c.record, version: c.version }]));
}

describe('syncOnce when the transport fails', () => {
  it('keeps the outbox when the push cannot be sent, and pushes it once on the next sync', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    const patient = await createPatient(tablet, patientFields(), a.author);

    await expect(syncOnce(tablet, unreachable)).rejects.toMatchObject({ isNetwork: true });
    expect(await tablet.outbox.count()).toBe(1);
    expect((await onServer(a)).size).toBe(0);

    expect(await syncOnce(tablet, a.transport)).toMatchObject({ pushed: 1, applied: 1 });
    expect(await tablet.outbox.count()).toBe(0);
    expect((await onServer(a)).get(patient.id)).toMatchObject({ version: 1 });
  });

  it('an answer lost on the way back: the retry is answered from the server’s memory, applied once', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    const patient = await createPatient(tablet, patientFields(), a.author);
    const answers: PushResponse[] = [];
    const lostAnswer: SyncTransport = {
      ...a.transport,
      async push(request) {
        answers.push(await a.transport.push(request)); // the server applied it...
        throw new ApiError(0, 'network', 'connection reset'); // ...the device never hears
      },
    };
    await expect(syncOnce(tablet, lostAnswer)).rejects.toThrow('connection reset');
    expect(answers[0]?.results[0]).toMatchObject({ status: 'applied', version: 1 });
    expect(await tablet.outbox.count()).toBe(1);

    // The user edits again before the retry: both edits arrive, the first exactly once.
    await updatePatient(tablet, patient.id, patientFields({ phone: '555' }), a.author);
    const summary = await syncOnce(tablet, a.transport);
    expect(summary.conflicts).toBe(0);
    expect(await tablet.outbox.count()).toBe(0);
    expect((await onServer(a)).get(patient.id)).toMatchObject({ phone: '555', version: 2 });
    expect(await asKnown(tablet, 'patients', await getPatient(tablet, patient.id))).toMatchObject({
      phone: '555',
      version: 2,
    });
  });

  it('a pull cut short keeps the pages stored before it, and the retry resumes after them', async () => {
    const { users } = await teamOnServer(2);
    const [a, b] = users as [TestUser, TestUser];
    const tabletA = device();
    for (let i = 0; i < 5; i++)
      await createPatient(tabletA, patientFields({ phone: `${i}` }), a.author);
    await syncOnce(tabletA, a.transport);

    const tabletB = device();
    const asked: number[] = [];
    let failAt: number | undefined = 2; // the third request fails
    const pagesOfTwo: SyncTransport = {
      ...b.transport,
      async pull(deviceId, cursor) {
        asked.push(cursor);
        if (asked.length - 1 === failAt) throw new ApiError(0, 'network', 'dropped');
        return b.transport.pull(deviceId, cursor, 2);
      },
    };
    await expect(syncOnce(tabletB, pagesOfTwo)).rejects.toThrow('dropped');
    expect(await tabletB.patients.count()).toBe(4);
    const stored = await readCursor(tabletB);
    expect(stored).toBe(asked[2]);

    failAt = undefined;
    asked.length = 0;
    const summary = await syncOnce(tabletB, pagesOfTwo);
    expect(asked[0]).toBe(stored);
    expect(summary.pulled).toBe(1);
    expect(await tabletB.patients.count()).toBe(5);
  });
});

describe('an image missing', () => {
  it('on push: the sync fails with the reason, nothing of the batch is sent, nothing is lost', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    const patient = await createPatient(tablet, patientFields(), a.author);
    const bytes = new Uint8Array([137, 80, 78, 71, 9]);
    const image = new Blob([bytes], { type: 'image/png' });
    const attachment = await saveAttachment(
      tablet,
      patient.id,
      image,
      { width: 1, height: 1 },
      a.author,
    );
    await tablet.blobs.clear(); // the device lost the bytes (storage evicted, a bug)

    await expect(syncOnce(tablet, a.transport)).rejects.toThrow(
      `The image ${attachment.sha256.slice(0, 8)}… is missing on this device.`,
    );
    // Not a record pointing at nothing: neither it nor the patient before it reached the server.
    expect((await onServer(a)).size).toBe(0);
    expect(await tablet.outbox.count()).toBe(2);

    // The bytes come back (e.g. re-attached): the same outbox goes through.
    await tablet.blobs.put({ sha256: attachment.sha256, bytes, mime: 'image/png' });
    expect(await syncOnce(tablet, a.transport)).toMatchObject({ pushed: 2, applied: 2 });
    expect((await onServer(a)).has(attachment.id)).toBe(true);
  });

  it('on pull: the record arrives, the download fails with a 404 and keeps nothing, a later one works', async () => {
    const { users } = await teamOnServer(2);
    const [a, b] = users as [TestUser, TestUser];
    const tabletA = device();
    const patient = await createPatient(tabletA, patientFields(), a.author);
    const bytes = new Uint8Array([137, 80, 78, 71, 7, 7]);
    const image = new Blob([bytes], { type: 'image/png' });
    const attachment = await saveAttachment(
      tabletA,
      patient.id,
      image,
      { width: 1, height: 1 },
      a.author,
    );
    // The upload of the bytes went missing (an old client, a server restored without blobs).
    let upload: (() => Promise<unknown>) | undefined;
    const noUpload: SyncTransport = {
      ...a.transport,
      putBlob: async (sha256, blob, teamId) => {
        upload = () => a.transport.putBlob(sha256, blob, teamId);
        return { sha256, size: blob.size } as never;
      },
    };
    await syncOnce(tabletA, noUpload);

    const tabletB = device();
    await syncOnce(tabletB, b.transport);
    expect(await tabletB.attachments.get(attachment.id)).toMatchObject({
      sha256: attachment.sha256,
    });
    await expect(
      loadAttachmentBlob(tabletB, attachment.sha256, b.transport.getBlob),
    ).rejects.toMatchObject({ status: 404 });
    expect(await tabletB.blobs.count()).toBe(0);

    await upload!();
    const loaded = await loadAttachmentBlob(tabletB, attachment.sha256, b.transport.getBlob);
    expect(new Uint8Array(await loaded.arrayBuffer())).toEqual(bytes);
    expect(await tabletB.blobs.count()).toBe(1);
  });
});

describe('SyncStatus (when syncs run)', () => {
  const noModels = () => {};

  it('runs one sync at a time; an edit during a run asks for another push after it', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    await createPatient(tablet, patientFields(), a.author);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let pushes = 0;
    let pulls = 0;
    // The download waits: the run is past its push when the user edits again.
    const slow: SyncTransport = {
      ...a.transport,
      push: (request) => (pushes++, a.transport.push(request)),
      async pull(...args) {
        if (++pulls === 1) await gate;
        return a.transport.pull(...args);
      },
    };
    vi.stubGlobal('navigator', { onLine: true });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const status = new SyncStatus(() => tablet, slow, noModels, unlocked);
    const first = status.syncNow();
    await until(() => pulls === 1, 'the first download');
    expect(status.running).toBe(true);
    await status.syncNow(); // returns at once: a sync is running
    await status.syncNow();
    expect([pushes, pulls]).toEqual([1, 1]);
    await createPatient(tablet, patientFields({ givenName: 'Binta' }), a.author);
    status.pushSoon();
    expect(vi.getTimerCount()).toBe(0); // not timed while running: asked for after the run
    release();
    await first;
    expect(status.running).toBe(false);
    expect(status.lastSummary).toMatchObject({ pushed: 1 });
    expect(await tablet.outbox.count()).toBe(1);

    // The edit made meanwhile goes a moment after the run ended.
    vi.advanceTimersByTime(1_999);
    expect(status.running).toBe(false);
    vi.advanceTimersByTime(1);
    expect(status.running).toBe(true);
    await until(() => pushes === 2 && !status.running, 'the second push');
    expect(await tablet.outbox.count()).toBe(0);
    expect(status.lastError).toBeNull();
  });

  it('a lost session pauses sync (no retries) until sign-in; nothing waiting is lost', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    const patient = await createPatient(tablet, patientFields(), a.author);
    await a.client.post('/api/auth/logout');
    let requests = 0;
    const counting: SyncTransport = {
      ...a.transport,
      push: (r) => (requests++, a.transport.push(r)),
      pull: (...args) => (requests++, a.transport.pull(...args)),
    };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const status = new SyncStatus(() => tablet, counting, noModels, unlocked);
    await status.syncNow();
    expect(status.needsSignIn).toBe(true);
    expect(status.lastError).toMatch(/session has ended/);
    expect(vi.getTimerCount()).toBe(0); // no automatic retry against a closed session
    expect(requests).toBe(1);
    await status.syncNow();
    vi.advanceTimersByTime(60 * 60_000);
    expect(requests).toBe(1);
    expect(await tablet.outbox.count()).toBe(1);

    // Signed in again: the outbox that waited goes through.
    expect((await a.client.login('c0@example.org')).status).toBe(200);
    status.resume();
    await until(() => !status.running && status.lastSummary !== null, 'the resumed sync');
    expect(status.needsSignIn).toBe(false);
    expect(status.lastError).toBeNull();
    expect(status.lastSummary).toMatchObject({ pushed: 1, applied: 1 });
    expect(await tablet.outbox.count()).toBe(0);
    expect((await onServer(a)).has(patient.id)).toBe(true);
  });

  it('backs off exponentially between failures, and starts again from the shortest after a success', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    await createPatient(tablet, patientFields(), a.author);
    vi.spyOn(Math, 'random').mockReturnValue(1); // the longest delay of each jittered range
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let broken: 'network' | 'server' | null = 'network';
    let calls = 0;
    const flaky: SyncTransport = {
      ...a.transport,
      async push(request) {
        calls++;
        if (broken === 'network') return unreachable.push(request);
        if (broken === 'server') throw new ApiError(503, 'unavailable', 'Down for maintenance.');
        return a.transport.push(request);
      },
    };
    const status = new SyncStatus(() => tablet, flaky, noModels, unlocked);
    /** Advances to just before `ms`, checks nothing ran, then to `ms` and waits for the retry. */
    const retriesAfter = async (ms: number) => {
      const before = calls;
      vi.advanceTimersByTime(ms - 1);
      expect(status.running).toBe(false); // a retry starts its run synchronously
      vi.advanceTimersByTime(1);
      expect(status.running).toBe(true);
      await until(() => calls === before + 1 && !status.running, `a retry after ${ms} ms`);
    };

    await status.syncNow();
    expect(status.offline).toBe(true); // unreachable is a state, not an error message
    await retriesAfter(5_000);
    await retriesAfter(10_000);
    broken = 'server';
    await retriesAfter(20_000);
    expect(status.offline).toBe(true);
    expect(status.lastError).toBe('Sync failed: Down for maintenance.');
    await retriesAfter(40_000);
    broken = null;
    await retriesAfter(80_000);
    expect(status.lastError).toBeNull();
    expect(status.offline).toBe(false);
    expect(vi.getTimerCount()).toBe(0); // no retry after a success
    expect(await tablet.outbox.count()).toBe(0);

    // The next failure waits the shortest delay again.
    await createPatient(tablet, patientFields({ givenName: 'Binta' }), a.author);
    broken = 'network';
    await status.syncNow();
    await retriesAfter(5_000);
  });

  it('the delay stops growing at five minutes', async () => {
    const { users } = await teamOnServer(1);
    const [a] = users as [TestUser];
    const tablet = device();
    await createPatient(tablet, patientFields(), a.author);
    vi.spyOn(Math, 'random').mockReturnValue(1);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let calls = 0;
    const down: SyncTransport = { ...a.transport, push: (r) => (calls++, unreachable.push(r)) };
    const status = new SyncStatus(() => tablet, down, noModels, unlocked);
    await status.syncNow();
    for (const ms of [5, 10, 20, 40, 80, 160, 300, 300].map((s) => s * 1000)) {
      const before = calls;
      vi.advanceTimersByTime(ms - 1);
      expect(status.running).toBe(false); // a retry starts its run synchronously
      vi.advanceTimersByTime(1);
      expect(status.running).toBe(true);
      await until(() => calls === before + 1 && !status.running, `a retry after ${ms} ms`);
    }
  });
});
