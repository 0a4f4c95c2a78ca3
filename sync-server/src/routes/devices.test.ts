import { describe, expect, it, onTestFinished } from 'vitest';
import { AuditListResponse, CLEAR_SITE_DATA, DeviceListResponse, DeviceSummary } from '../protocol';
import { userAgentSummary } from '../services/devices';
import { blobRequest, mutation, patient, syncWorld, SyncClient, uid } from '../sync-test-utils';
import { errorOf, MINUTE, TestClient } from '../test-utils';

/* Issue 15, "Lost device": device lists, revocation, and a revoked device refused everywhere. */

const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  /** Alice's second device: another browser, its own session. */
  const tablet = new TestClient(w.app, { 'user-agent': ANDROID_CHROME });
  expect((await tablet.login('alice@example.org')).status).toBe(200);
  const aliceTablet = new SyncClient(tablet, w.alice.userId, uid('tablet'));
  await w.alice.pull();
  w.clock.advance(5 * MINUTE);
  await aliceTablet.push([mutation('patients', patient(w.teamA))]);
  return { ...w, aliceTablet };
}

const listOf = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  return DeviceListResponse.parse(await res.json()).devices;
};

async function expectRevoked(res: Response, what: string) {
  expect(res.status, what).toBe(403);
  expect(res.headers.get('clear-site-data'), what).toBe(CLEAR_SITE_DATA);
  expect((await errorOf(res)).code, what).toBe('device_revoked');
}

describe('device lists', () => {
  it('show a user their own devices with last sync, last seen and browser, newest first', async () => {
    const w = await setup();
    // (Without the header: naming the device would make it "seen" now.)
    const own = await listOf(await w.alice.client.get('/api/devices'));
    expect(own.map((d) => d.id)).toEqual([w.aliceTablet.deviceId, w.alice.deviceId]);
    expect(own[0]).toMatchObject({
      userId: w.alice.userId,
      userAgent: 'Chrome 131 on Android',
      current: false,
      revokedAt: null,
      lastSyncAt: w.clock.now().toISOString(),
      lastSeenAt: w.clock.now().toISOString(),
    });
    expect(own[1]!.current).toBe(true);
    // The device the session synced from is the current one, unless the header names another.
    const fromTablet = await listOf(await w.aliceTablet.client.get('/api/devices'));
    expect(fromTablet.find((d) => d.current)?.id).toBe(w.aliceTablet.deviceId);
    const named = await listOf(
      await w.aliceTablet.client.get('/api/devices', { 'x-device-id': w.alice.deviceId }),
    );
    expect(named.find((d) => d.current)?.id).toBe(w.alice.deviceId);
    // Nobody else's devices.
    const bobs = await listOf(await w.bob.client.get('/api/devices'));
    expect(bobs).toEqual([]);
    expect((await new TestClient(w.app).get('/api/devices')).status).toBe(401);
  });

  it('note a contact naming the device as "last seen", at most once a minute', async () => {
    const w = await setup();
    const seen = async () => (await w.repos.devices.get(w.alice.deviceId))!.lastSeenAt;
    await w.alice.client.get('/api/auth/me', { 'x-device-id': w.alice.deviceId });
    const before = await seen();
    expect(before).toEqual(w.clock.now());
    w.clock.advance(30_000);
    await w.alice.client.get('/api/auth/me', { 'x-device-id': w.alice.deviceId });
    expect(await seen()).toEqual(before);
    w.clock.advance(31_000);
    await w.alice.client.get('/api/auth/me', { 'x-device-id': w.alice.deviceId });
    expect(await seen()).toEqual(w.clock.now());
    // Someone else naming it does not make it seen.
    w.clock.advance(2 * MINUTE);
    await w.bob.client.get('/api/auth/me', { 'x-device-id': w.alice.deviceId });
    expect(await seen()).not.toEqual(w.clock.now());
  });

  it('show an admin any user’s devices; nobody else may', async () => {
    const w = await setup();
    const list = await listOf(await w.admin.get(`/api/admin/users/${w.alice.userId}/devices`));
    expect(list.map((d) => d.id).sort()).toEqual([w.alice.deviceId, w.aliceTablet.deviceId].sort());
    for (const client of [w.bob.client, w.sam.client]) {
      const res = await client.get(`/api/admin/users/${w.alice.userId}/devices`);
      expect(res.status).toBe(403);
    }
  });
});

describe('revoking a device', () => {
  it('by its user: only another of their own devices, never someone else’s or the one in hand', async () => {
    const w = await setup();
    const header = { 'x-device-id': w.alice.deviceId };
    // Bob cannot revoke (or learn about) Alice's tablet.
    const bobTry = await w.bob.client.post(`/api/devices/${w.aliceTablet.deviceId}/revoke`);
    expect(bobTry.status).toBe(404);
    expect(await errorOf(bobTry)).toEqual({ code: 'not_found', message: 'Device not found' });
    expect((await w.bob.client.post('/api/devices/nonexistent-device/revoke')).status).toBe(404);
    const self = await w.alice.client.post(
      `/api/devices/${w.alice.deviceId}/revoke`,
      undefined,
      header,
    );
    expect(self.status).toBe(400);
    expect((await errorOf(self)).message).toMatch(/sign out/);
    expect((await w.repos.devices.get(w.aliceTablet.deviceId))!.revokedAt).toBeNull();

    const res = await w.alice.client.post(
      `/api/devices/${w.aliceTablet.deviceId}/revoke`,
      undefined,
      header,
    );
    expect(res.status).toBe(200);
    expect(DeviceSummary.parse(await res.json())).toMatchObject({
      id: w.aliceTablet.deviceId,
      revokedAt: w.clock.now().toISOString(),
    });
    // The tablet's session ended; Alice's own did not.
    expect((await w.aliceTablet.client.get('/api/auth/me')).status).toBe(401);
    expect((await w.alice.client.get('/api/auth/me')).status).toBe(200);
    // Again: harmless, same answer, audited once.
    const again = await w.alice.client.post(
      `/api/devices/${w.aliceTablet.deviceId}/revoke`,
      undefined,
      header,
    );
    expect(again.status).toBe(200);
    const audit = AuditListResponse.parse(
      await (await w.admin.get('/api/admin/audit?action=device.revoke')).json(),
    ).entries;
    expect(audit).toMatchObject([
      {
        userId: w.alice.userId,
        target: w.aliceTablet.deviceId,
        detail: { ownerId: w.alice.userId, byAdmin: false, sessionsEnded: 1 },
      },
    ]);
  });

  it('refuses the revoked device everywhere, signed in again or not, with Clear-Site-Data', async () => {
    const w = await setup();
    const res = await w.admin.post(`/api/admin/devices/${w.aliceTablet.deviceId}/revoke`);
    expect(res.status).toBe(200);
    const tablet = w.aliceTablet;
    const h = { 'x-device-id': tablet.deviceId };
    // Its session is gone, but naming the device is enough to learn it was revoked.
    await expectRevoked(await tablet.pullRaw(0), 'pull, session ended');
    await expectRevoked(await tablet.client.get('/api/auth/me', h), 'me, session ended');
    // Someone who knows the password signs in on it again: still refused, every route.
    expect((await tablet.client.login('alice@example.org')).status).toBe(200);
    await expectRevoked(await tablet.pullRaw(0), 'pull');
    await expectRevoked(
      await tablet.pushRaw([mutation('patients', patient(w.teamA))]),
      'push (device id in the body only)',
    );
    await expectRevoked(
      await tablet.client.post('/api/review/mutations', {
        deviceId: tablet.deviceId,
        mutation: mutation('comments', { id: uid('c'), teamId: w.teamA }),
      }),
      'review write',
    );
    const bytes = new TextEncoder().encode('image bytes');
    const sha = 'a'.repeat(64);
    await expectRevoked(
      await blobRequest(w.app, tablet.client, 'PUT', `/api/blobs/${sha}`, bytes, {
        ...h,
        'content-type': 'image/png',
        'x-team-id': w.teamA,
      }),
      'blob upload',
    );
    await expectRevoked(
      await blobRequest(w.app, tablet.client, 'GET', `/api/blobs/${sha}`, undefined, h),
      'blob download',
    );
    await expectRevoked(await tablet.client.get('/api/sync/conflicts', h), 'conflicts');
    await expectRevoked(await tablet.client.get('/api/devices', h), 'device list');
    // Alice's other device syncs on.
    expect((await w.alice.pullRaw(0)).status).toBe(200);
    // The admin's revocation is in the log, with the owner.
    const audit = AuditListResponse.parse(
      await (await w.admin.get('/api/admin/audit?action=device.revoke')).json(),
    ).entries;
    expect(audit).toMatchObject([
      {
        userId: w.adminId,
        target: tablet.deviceId,
        detail: { ownerId: w.alice.userId, byAdmin: true },
      },
    ]);
  });

  it('by an admin: any device; an unknown one is 404; a non-admin gets 403', async () => {
    const w = await setup();
    expect((await w.admin.post('/api/admin/devices/unknown-device/revoke')).status).toBe(404);
    for (const client of [w.bob.client, w.alice.client, w.sam.client]) {
      const res = await client.post(`/api/admin/devices/${w.aliceTablet.deviceId}/revoke`);
      expect(res.status).toBe(403);
    }
    expect((await w.repos.devices.get(w.aliceTablet.deviceId))!.revokedAt).toBeNull();
    expect((await w.admin.post(`/api/admin/devices/${w.alice.deviceId}/revoke`)).status).toBe(200);
    // The session that synced from it ended (the tablet's did not).
    const left = await w.rows('SELECT device_id FROM sessions WHERE user_id = ?', w.alice.userId);
    expect(left.map((s) => s.device_id)).toEqual([w.aliceTablet.deviceId]);
  });
});

describe('userAgentSummary', () => {
  it('names the browser and its major version, and the system', () => {
    expect(userAgentSummary(ANDROID_CHROME)).toBe('Chrome 131 on Android');
    expect(
      userAgentSummary(
        'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari 17 on iOS');
    expect(
      userAgentSummary(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
      ),
    ).toBe('Firefox 133 on Windows');
    expect(
      userAgentSummary(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      ),
    ).toBe('Edge 131 on Windows');
    expect(
      userAgentSummary(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome 156 on Linux');
    expect(userAgentSummary('Mozilla/5.0 (X11; Linux x86_64)')).toBe('Linux');
    expect(userAgentSummary('curl/8.5.0')).toBeNull();
    expect(userAgentSummary(undefined)).toBeNull();
  });
});
