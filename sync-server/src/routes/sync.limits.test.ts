import { describe, expect, it, onTestFinished } from 'vitest';
import { PULL_PAGE_MAX_BYTES, RECORD_LIMITS, type MutationResult } from '../protocol';
import { scopeOf } from '../services/scope';
import { pull, touchDevice } from '../services/sync';
import { diagnosis, mutation, patient, SyncClient, syncWorld } from '../sync-test-utils';
import { SESSION_COOKIE } from '../auth/cookie';
import { errorOf, ORIGIN } from '../test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

/** `{"a":{"a":…{"a":1}}}` nested `depth` objects deep (as text: JSON.stringify would overflow). */
const nestedJson = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const DEEP = '"__deep__"';

/** A push whose mutations' `"__deep__"` strings are replaced by JSON `depth` levels deep. */
function pushDeep(client: SyncClient, mutations: unknown[], depth: number) {
  const body = JSON.stringify({ deviceId: client.deviceId, mutations }).replaceAll(
    DEEP,
    nestedJson(depth),
  );
  return client.client.app.request('/api/sync/push', {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      'content-type': 'application/json',
      cookie: `${SESSION_COOKIE}=${client.client.token}`,
    },
    body,
  });
}

const rejectedInvalid = (r: MutationResult | undefined) => {
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'rejected', code: 'invalid' });
  return (r as Extract<MutationResult, { status: 'rejected' }>).reason;
};

describe('record bounds at push (adversarial test, hole 1)', () => {
  it.each([1_500, 5_000])(
    'rejects only a record nested %i levels deep; the rest of the batch applies and pulls work',
    async (depth) => {
      const w = await setup();
      const before = patient(w.teamA);
      const deep = patient(w.teamA, { notes: '__deep__' });
      const after = patient(w.teamA);
      const res = await pushDeep(
        w.alice,
        [mutation('patients', before), mutation('patients', deep), mutation('patients', after)],
        depth,
      );
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: MutationResult[] };
      expect(results.map((r) => r.status)).toEqual(['applied', 'rejected', 'applied']);
      expect(rejectedInvalid(results[1])).toMatch(/nested/);
      const ids = (await w.bob.pullAll()).map((c) => c.id);
      expect(ids).toEqual([before.id, after.id]);
    },
  );

  it('accepts a record at the depth limit of its table', async () => {
    const w = await setup();
    // The record itself is one level; `notes` adds the rest.
    const { maxDepth } = RECORD_LIMITS.patients;
    const at = await pushDeep(
      w.alice,
      [mutation('patients', patient(w.teamA, { notes: '__deep__' }))],
      maxDepth - 1,
    );
    expect(((await at.json()) as { results: MutationResult[] }).results[0]!.status).toBe('applied');
    const over = await pushDeep(
      w.alice,
      [mutation('patients', patient(w.teamA, { notes: '__deep__' }))],
      maxDepth,
    );
    rejectedInvalid(((await over.json()) as { results: MutationResult[] }).results[0]);
  });

  it('bounds size per table', async () => {
    const w = await setup();
    const size = RECORD_LIMITS.patients.maxBytes + 1;
    expect(size).toBeLessThan(RECORD_LIMITS.diagnoses.maxBytes);
    const reason = rejectedInvalid(
      await w.alice.pushOne(mutation('patients', patient(w.teamA, { notes: 'x'.repeat(size) }))),
    );
    expect(reason).toContain(`at most ${RECORD_LIMITS.patients.maxBytes}`);
    // Exactly at the limit (UTF-8 bytes, multi-byte characters included) is allowed.
    const { maxBytes } = RECORD_LIMITS.patients;
    const base = patient(w.teamA, { notes: 'é' });
    const fill = maxBytes - Buffer.byteLength(JSON.stringify(base));
    const exact = { ...base, notes: 'é' + 'x'.repeat(fill) };
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(maxBytes);
    expect((await w.alice.pushOne(mutation('patients', exact))).status).toBe('applied');
    const over = { ...exact, notes: 'é' + 'x'.repeat(fill + 1) };
    rejectedInvalid(await w.alice.pushOne(mutation('patients', over)));
  });

  it('a stored record nested beyond what SQLite JSON functions read never makes a pull fail', async () => {
    // Data already on a server from before the bound (or written by hand): pulls still work.
    const w = await setup();
    const ok = patient(w.teamA);
    expect((await w.alice.pushOne(mutation('patients', ok))).status).toBe('applied');
    for (const table of ['patients', 'reports'] as const) {
      const id = `deep-${table}`;
      await w.rows(
        `INSERT INTO records (seq, table_name, id, team_id, version, deleted, updated_at, updated_by, data)
         VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id`,
        1000 + (table === 'reports' ? 1 : 0),
        table,
        id,
        w.teamA,
        // 0/1 on SQLite, a boolean on PostgreSQL.
        w.pool ? false : 0,
        Date.now(),
        w.alice.userId,
        JSON.stringify({ id, teamId: w.teamA, status: 'draft', deep: 0 }).replace(
          '0}',
          `${nestedJson(1_500)}}`,
        ),
      );
    }
    const changes = await w.bob.pullAll();
    expect(changes.map((c) => c.id)).toContain(ok.id);
    // A supervisor's pull (review-side tables only since issue 11) must not fail on it either.
    const supervisor = await w.sam.pullAll();
    expect(supervisor.map((c) => c.id)).not.toContain('deep-reports');
  });
});

describe('pull page size in bytes (adversarial test, hole 4)', () => {
  it('caps a page near PULL_PAGE_MAX_BYTES whatever the limit, and loses nothing', async () => {
    const w = await setup();
    const ids: string[] = [];
    // 30 diagnoses of ~200 KB: 6 MB in all, pushed 15 at a time (under the 5 MiB push limit).
    for (let batch = 0; batch < 2; batch++) {
      const ms = Array.from({ length: 15 }, () => {
        const d = diagnosis(w.teamA, 'p1', { note: 'x'.repeat(200 * 1024) });
        ids.push(d.id);
        return mutation('diagnoses', d);
      });
      const results = await w.alice.push(ms);
      expect(results.every((r) => r.status === 'applied')).toBe(true);
    }
    const res = await w.bob.pullRaw(0, 1000);
    const body = await res.text();
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(PULL_PAGE_MAX_BYTES + 256 * 1024);
    const first = JSON.parse(body) as { changes: unknown[]; hasMore: boolean };
    expect(first.hasMore).toBe(true);
    expect(first.changes.length).toBeGreaterThan(0);
    expect(first.changes.length).toBeLessThan(30);
    expect((await w.bob.pullAll(1000)).map((c) => c.id)).toEqual(ids);
  });

  it('always returns at least one record, however small the byte cap', async () => {
    const w = await setup();
    const a = patient(w.teamA);
    const b = patient(w.teamA);
    await w.alice.push([mutation('patients', a), mutation('patients', b)]);
    const scope = await scopeOf(w.repos, w.bob.userId);
    const device = await touchDevice(w.sync, w.bob.deviceId, w.bob.userId, new Date());
    const first = await pull(w.sync, scope, device, 0, 1000, { maxBytes: 1 });
    expect(first).toMatchObject({ count: 1, hasMore: true });
    // The device row now remembers the teams it was served from cursor 0.
    const again = await touchDevice(w.sync, w.bob.deviceId, w.bob.userId, new Date());
    const second = await pull(w.sync, scope, again, first.cursor, 1000, { maxBytes: 1 });
    expect(second).toMatchObject({ count: 1, hasMore: false });
  });
});

describe('device ids (adversarial test, hole 8)', () => {
  it('binds a device id to its first user: another user presenting it gets 409', async () => {
    const w = await setup();
    const p = patient(w.teamA);
    expect((await w.alice.pushOne(mutation('patients', p))).status).toBe('applied');
    await w.alice.pull();
    const bobOnAlicesDevice = new SyncClient(w.bob.client, w.bob.userId, w.alice.deviceId);
    const push = await bobOnAlicesDevice.pushRaw([mutation('patients', patient(w.teamA))]);
    expect(push.status).toBe(409);
    const error = await errorOf(push);
    expect(error.code).toBe('device_in_use');
    expect(error.message).toMatch(/another user/);
    const pull = await bobOnAlicesDevice.pullRaw(0);
    expect(pull.status).toBe(409);
    expect((await errorOf(pull)).code).toBe('device_in_use');
    // The owner's device is untouched: its cursor was not reset by the attempt.
    const next = await w.alice.pull(1);
    expect(next.reset).toBe(false);
    // Bob on his own device id is fine.
    expect((await w.bob.pullRaw(0)).status).toBe(200);
  });
});
