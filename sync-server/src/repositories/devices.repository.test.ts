import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../errors';
import type { Actor } from '../services/audit';
import { deviceContact, listDevices, revokeDevice, SEEN_RESOLUTION_MS } from '../services/devices';
import { rowsOn, rowsOnPg, type SyncRows } from '../sync-test-utils';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';

/*
 * The devices repository on each dialect, through the services that use it: lists, the contact
 * check of every request, and revocation (which ends the device's sessions, once).
 */

const dialects = ['sqlite', ...(TEST_DB === 'postgres' ? ['postgres' as const] : [])] as const;

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

const AT = new Date('2026-03-01T08:00:00.000Z');
const at = (minutes: number) => new Date(AT.getTime() + minutes * 60_000);
const admin: Actor & { userId: string } = { userId: 'admin', ip: '127.0.0.1', at: at(100) };

async function setup(dialect: 'sqlite' | 'postgres') {
  const t = await testDatabase({ dialect });
  opened.push(t);
  const rows: SyncRows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
  for (const id of ['alice', 'bob']) {
    await rows(
      'INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      id,
      `${id}@example.org`,
      id,
      'not-a-hash',
      AT.getTime(),
    );
  }
  const device = (id: string, userId: string, lastSeen: Date) =>
    rows(
      'INSERT INTO devices (id, user_id, created_at, last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?) RETURNING id',
      id,
      userId,
      AT.getTime(),
      lastSeen.getTime(),
      'Chrome 131 on Android',
    );
  const session = (id: string, userId: string, deviceId: string | null) =>
    rows(
      'INSERT INTO sessions (id, user_id, expires_at, created_at, device_id) VALUES (?, ?, ?, ?, ?) RETURNING id',
      id,
      userId,
      at(60 * 24).getTime(),
      AT.getTime(),
      deviceId,
    );
  const sessionsLeft = async () =>
    (await rows('SELECT id FROM sessions ORDER BY id')).map((r) => r.id);
  const audits = async () =>
    (await t.repos.audit.list({ limit: 100 })).map((r) => [r.entry.action, r.entry.detail]);
  return { ...t, device, session, sessionsLeft, audits };
}

describe.each(dialects)('DevicesRepository (%s)', (dialect) => {
  it("lists a user's devices most recently seen first, then by id", async () => {
    const t = await setup(dialect);
    // Ties in byte order on PostgreSQL too, under a language's collation ('a' before 'Z' there).
    await t.pool?.query('ALTER TABLE devices ALTER COLUMN id TYPE text COLLATE "und-x-icu"');
    await t.device('d-b', 'alice', at(5));
    await t.device('d-c', 'alice', at(9));
    await t.device('d-a', 'alice', at(5));
    await t.device('a-1', 'alice', at(1));
    await t.device('Z-1', 'alice', at(1));
    await t.device('d-bob', 'bob', at(20));
    expect((await t.repos.devices.listByUser('alice')).map((d) => d.id)).toEqual([
      'd-c',
      'd-a',
      'd-b',
      'Z-1',
      'a-1',
    ]);
    const listed = await listDevices(t.repos, 'alice', 'd-a');
    expect(listed.map((d) => [d.id, d.current])).toEqual([
      ['d-c', false],
      ['d-a', true],
      ['d-b', false],
      ['Z-1', false],
      ['a-1', false],
    ]);
    expect(listed[0]).toMatchObject({
      userId: 'alice',
      userAgent: 'Chrome 131 on Android',
      createdAt: AT.toISOString(),
      lastSeenAt: at(9).toISOString(),
      lastSyncAt: null,
      revokedAt: null,
    });
    expect(await t.repos.devices.listByUser('nobody')).toEqual([]);
  });

  it('revokes a device and ends its sessions only, once, audited once', async () => {
    const t = await setup(dialect);
    await t.device('tablet', 'alice', at(1));
    await t.device('phone', 'alice', at(2));
    await t.session('s1', 'alice', 'tablet');
    await t.session('s2', 'alice', 'tablet');
    await t.session('s3', 'alice', 'phone');
    await t.session('s4', 'alice', null);

    const revoked = await revokeDevice(t.repos, 'tablet', admin, {
      asAdmin: true,
      currentId: null,
    });
    expect(revoked.revokedAt).toBe(admin.at.toISOString());
    expect(await t.sessionsLeft()).toEqual(['s3', 's4']);
    expect(await t.repos.devices.get('tablet')).toMatchObject({
      revokedAt: admin.at,
      revokedBy: 'admin',
    });
    // Again, later: the first revocation stands and nothing more is written.
    const again = await revokeDevice(
      t.repos,
      'tablet',
      { ...admin, at: at(200) },
      {
        asAdmin: true,
        currentId: null,
      },
    );
    expect(again.revokedAt).toBe(admin.at.toISOString());
    expect(await t.repos.devices.revoke('tablet', at(300), 'admin')).toBe(false);
    expect(await t.audits()).toEqual([
      ['device.revoke', { ownerId: 'alice', byAdmin: true, sessionsEnded: 2 }],
    ]);
  });

  it('lets only one of several revocations at once take effect', async () => {
    const t = await setup(dialect);
    const ids = ['d1', 'd2', 'd3'];
    for (const id of ids) {
      await t.device(id, 'alice', at(1));
      await t.session(`s-${id}`, 'alice', id);
    }
    const answers = await Promise.all(
      ids.flatMap((id) =>
        [100, 101, 102, 103].map((m) =>
          revokeDevice(t.repos, id, { ...admin, at: at(m) }, { asAdmin: true, currentId: null }),
        ),
      ),
    );
    // Every caller is told the one revocation that took effect.
    for (const id of ids) {
      const times = new Set(answers.filter((d) => d.id === id).map((d) => d.revokedAt));
      expect(times.size, id).toBe(1);
      expect((await t.repos.devices.get(id))?.revokedAt?.toISOString()).toBe([...times][0]);
    }
    expect(await t.audits()).toHaveLength(ids.length);
    expect(await t.sessionsLeft()).toEqual([]);
  });

  it("refuses someone else's device, an unknown one and the one in hand", async () => {
    const t = await setup(dialect);
    await t.device('tablet', 'alice', at(1));
    const bob = { ...admin, userId: 'bob' };
    const alice = { ...admin, userId: 'alice' };
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => [(e as ApiError).status, (e as ApiError).code],
      );
    expect(
      await fail(revokeDevice(t.repos, 'tablet', bob, { asAdmin: false, currentId: null })),
    ).toEqual([404, 'not_found']);
    expect(
      await fail(revokeDevice(t.repos, 'none', admin, { asAdmin: true, currentId: null })),
    ).toEqual([404, 'not_found']);
    expect(
      await fail(revokeDevice(t.repos, 'tablet', alice, { asAdmin: false, currentId: 'tablet' })),
    ).toEqual([400, 'invalid_request']);
    expect((await t.repos.devices.get('tablet'))?.revokedAt).toBeNull();
    expect(
      (await revokeDevice(t.repos, 'tablet', alice, { asAdmin: false, currentId: null })).revokedAt,
    ).toBe(admin.at.toISOString());
  });

  it('notes a contact by its owner at most once a minute, and refuses a revoked device', async () => {
    const t = await setup(dialect);
    await t.device('tablet', 'alice', AT);
    const seen = async () => (await t.repos.devices.get('tablet'))!.lastSeenAt;
    await deviceContact(
      t.repos,
      'tablet',
      'alice',
      new Date(AT.getTime() + SEEN_RESOLUTION_MS - 1),
    );
    expect(await seen()).toEqual(AT);
    await deviceContact(t.repos, 'tablet', 'bob', at(5));
    await deviceContact(t.repos, 'tablet', null, at(5));
    expect(await seen()).toEqual(AT);
    await deviceContact(t.repos, 'tablet', 'alice', at(5));
    expect(await seen()).toEqual(at(5));
    await deviceContact(t.repos, 'unknown', 'alice', at(5));
    expect(await t.repos.devices.contactOf('unknown')).toBeUndefined();

    await t.repos.devices.revoke('tablet', at(6), 'admin');
    for (const who of ['alice', null]) {
      const err = await deviceContact(t.repos, 'tablet', who, at(7)).then(
        () => undefined,
        (e: unknown) => e as ApiError,
      );
      expect([err?.status, err?.code]).toEqual([403, 'device_revoked']);
    }
  });
});
