import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeTestApp, ORIGIN, withAdmin, type TestClient } from 'sync-server/test-utils';
import { ApiError, setRevocationHandler } from '$lib/api/errors';
import { createPatient } from '$lib/db/patients';
import { freshDatabase, patientFields } from '$lib/db/test-db';
import { syncOnce } from '$lib/sync/engine';
import { httpTransport } from '$lib/sync/transport';
import { wasRevoked, wipeAfterRevocation, wipeLocalData } from './wipe';

/** A Storage in memory (Node has none). */
function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, String(v)),
  };
}

/** Cache Storage with names only (what the wipe needs). */
function memoryCaches(names: string[]) {
  const set = new Set(names);
  return {
    keys: async () => [...set],
    delete: async (name: string) => set.delete(name),
    names: set,
  } as unknown as CacheStorage & { names: Set<string> };
}

describe('wipeLocalData', () => {
  it('deletes every IndexedDB database, every cache, localStorage and sessionStorage', async () => {
    const db = freshDatabase();
    await createPatient(db, patientFields(), { userId: 'u1', teamId: 't1' });
    const keys = indexedDB.open(`keys-${Date.now()}`);
    await new Promise((resolve) => (keys.onsuccess = resolve));
    keys.result.close();
    db.close();
    const caches = memoryCaches(['workbox-precache-v2', 'models']);
    const local = memoryStorage();
    const session = memoryStorage();
    local.setItem('x', '1');
    session.setItem('y', '2');

    const summary = await wipeLocalData({
      indexedDB,
      caches,
      localStorage: local,
      sessionStorage: session,
    });

    expect(summary.databases).toContain(db.name);
    expect(summary.databases.length).toBeGreaterThanOrEqual(2);
    expect(await indexedDB.databases()).toEqual([]);
    expect(caches.names.size).toBe(0);
    expect(local.length + session.length).toBe(0);
  });

  it('does not wait forever for a database another connection holds open', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const open = indexedDB.open(`held-${Date.now()}`);
      await new Promise((resolve) => (open.onsuccess = resolve));
      // This connection never closes (no versionchange handler): the deletion is blocked.
      const done = wipeLocalData({ indexedDB });
      await vi.advanceTimersByTimeAsync(5_000);
      await expect(done).resolves.toMatchObject({ databases: expect.any(Array) });
      open.result.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a revoked device', () => {
  let restore: (() => unknown) | undefined;
  afterEach(() => {
    if (restore) setRevocationHandler(restore);
  });

  it('is refused at its next sync, and the refusal starts the wipe', async () => {
    const server = await makeTestApp();
    const admin = await withAdmin(server.app);
    const a = await admin.member('a@example.org');
    const transport = (client: TestClient) =>
      httpTransport('http://localhost', async (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('origin', ORIGIN);
        if (client.token) headers.set('cookie', `fdx_session=${client.token}`);
        return server.app.request(String(input), { ...init, headers });
      });
    const db = freshDatabase();
    await createPatient(db, patientFields(), { userId: a.id, teamId: a.teamId });
    await syncOnce(db, transport(a.client));
    const deviceId = (await db.syncState.get('deviceId'))!.value as string;

    const revoked = await admin.admin.post(`/api/admin/devices/${deviceId}/revoke`);
    expect(revoked.status).toBe(200);
    const wipe = vi.fn();
    restore = setRevocationHandler(wipe);
    // Signed in again on it (someone knows the password): still refused, and told to wipe.
    expect((await a.client.login('a@example.org')).status).toBe(200);
    await createPatient(db, patientFields(), { userId: a.id, teamId: a.teamId });
    const error = await syncOnce(db, transport(a.client)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('device_revoked');
    expect(wipe).toHaveBeenCalledTimes(1);
    await db.delete();
    server.close();
  });
});

describe('the sign-in page after a revocation', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('knows the device was revoked even when the session storage was emptied too', async () => {
    const storage = memoryStorage();
    const replace = vi.fn();
    vi.stubGlobal('sessionStorage', storage);
    vi.stubGlobal('location', { replace });
    await wipeAfterRevocation();
    expect(replace).toHaveBeenCalledWith('/signin?revoked=1');
    // The browser's Clear-Site-Data, or a navigation, may take the flag with it.
    storage.clear();
    expect(wasRevoked(new URL('http://tablet.test/signin'))).toBe(true);
  });
});
