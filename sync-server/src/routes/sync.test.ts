import { describe, expect, it, onTestFinished } from 'vitest';
import {
  ConflictListResponse,
  MAX_RECORD_BYTES,
  RECORD_LIMITS,
  type MutationResult,
} from '../protocol';
import {
  diagnosis,
  mutation,
  patient,
  report,
  review,
  SyncClient,
  syncWorld,
  uid,
} from '../sync-test-utils';
import { scopeOf } from '../services/scope';
import { push as pushService } from '../services/sync';
import { DAY, errorOf, TestClient } from '../test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}
type World = Awaited<ReturnType<typeof setup>>;

function expectStatus<S extends MutationResult['status']>(
  r: MutationResult,
  status: S,
): Extract<MutationResult, { status: S }> {
  expect(r, JSON.stringify(r)).toMatchObject({ status });
  return r as Extract<MutationResult, { status: S }>;
}

/** A patient alice created (version 1) and the record as she holds it. */
async function seeded(w: World, fields: Record<string, unknown> = {}) {
  const p = patient(w.teamA, fields);
  expectStatus(await w.alice.pushOne(mutation('patients', p)), 'applied');
  return { ...p, version: 1 };
}

interface HistoryRow {
  version: number;
  deviceId: string;
  by: string;
  mutationId: string;
  seq: number;
  data: string;
}

/** The history of a patient, on whichever database holds the sync tables (SYNC_DB). */
async function historyOf(w: World, id: string) {
  return (await w.rows(
    `SELECT version, device_id AS "deviceId", "by", mutation_id AS "mutationId", seq, data
     FROM record_history WHERE table_name = 'patients' AND id = ? ORDER BY version`,
    id,
  )) as unknown as HistoryRow[];
}

describe('push: applied and merged', () => {
  it('applies a new record at version 1 and overwrites updatedBy with the signed-in user', async () => {
    const w = await setup();
    const p = patient(w.teamA);
    const r = await w.alice.pushOne(mutation('patients', p));
    expect(r).toEqual({ mutationId: expect.any(String), status: 'applied', version: 1 });
    const [change] = (await w.bob.pull()).changes;
    expect(change).toMatchObject({ table: 'patients', id: p.id, version: 1, deleted: false });
    expect(change!.record).toEqual({ ...p, version: 1, updatedBy: w.alice.userId });
  });

  it('applies an edit made on the current version', async () => {
    const w = await setup();
    const p = await seeded(w);
    const r = await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    expect(expectStatus(r, 'applied').version).toBe(2);
    expect((await historyOf(w, p.id)).map((h) => h.version)).toEqual([1, 2]);
  });

  it('merges disjoint edits made on a stale version', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const r = expectStatus(
      await w.alice.pushOne(mutation('patients', { ...p, phone: '+254700' }, 1)),
      'merged',
    );
    expect(r.version).toBe(3);
    expect(r.record).toMatchObject({ village: 'Mathare', phone: '+254700', version: 3 });
    const [change] = (await w.bob.pull()).changes;
    expect(change!.record).toEqual(r.record);
  });

  it('answers merged without a new version when the stale edit changes nothing new', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const r = expectStatus(
      await w.alice.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1)),
      'merged',
    );
    expect(r.version).toBe(2);
    expect(await historyOf(w, p.id)).toHaveLength(2);
  });

  it('keeps the updatedAt the device gave, and stamps the server’s time on a record without one', async () => {
    const w = await setup();
    const dated = patient(w.teamA, { updatedAt: '2025-12-01T08:30:00.000Z' });
    const undated: Record<string, unknown> = patient(w.teamA);
    delete undated.updatedAt;
    w.clock.advance(DAY);
    for (const p of [dated, undated]) {
      expectStatus(await w.alice.pushOne(mutation('patients', p)), 'applied');
    }
    const byId = new Map((await w.bob.pull()).changes.map((c) => [c.id, c.record]));
    expect(byId.get(dated.id)?.updatedAt).toBe('2025-12-01T08:30:00.000Z');
    expect(byId.get(String(undated.id))?.updatedAt).toBe(w.clock.now().toISOString());
  });

  it('answers a stale report edit that changes nothing new merged, whatever revision the device claims', async () => {
    const w = await setup();
    const p = await seeded(w);
    const r = report(w.teamA, p.id);
    expectStatus(await w.alice.pushOne(mutation('reports', r)), 'applied');
    // Shared: the server gave it revision 1; bob changes the plan.
    const stored = (await w.bob.pull()).changes.find((c) => c.id === r.id)!.record;
    expect(stored.revision).toBe(1);
    expectStatus(
      await w.bob.pushOne(mutation('reports', { ...stored, plan: 'Admit' }, 1)),
      'applied',
    );
    // alice, still at version 1, makes the same change; her copy claims some other revision. The
    // revision is the server's: it is no edit of hers, so nothing new is written.
    for (const revision of [7, 0]) {
      const answer = expectStatus(
        await w.alice.pushOne(mutation('reports', { ...stored, plan: 'Admit', revision }, 1)),
        'merged',
      );
      expect(answer.version).toBe(2);
      expect(answer.record.revision).toBe(1);
    }
  });

  it('applies a further edit of the same device whose earlier answer was lost', async () => {
    const w = await setup();
    const p = patient(w.teamA);
    await w.alice.pushOne(mutation('patients', p)); // answer "lost": the device still has base 0
    const again = mutation('patients', { ...p, village: 'Mathare' }, 0);
    expect(expectStatus(await w.alice.pushOne(again), 'applied').version).toBe(2);
    // The same id made on another device is a different record: differing fields conflict.
    const other = new SyncClient(w.alice.client, w.alice.userId);
    const r = await other.pushOne(mutation('patients', { ...p, village: 'Kawangware' }, 0));
    expect(expectStatus(r, 'conflict').fields).toEqual(['village']);
  });

  it('stores a record deleted before it was ever synced as a tombstone', async () => {
    const w = await setup();
    const p = patient(w.teamA, { deleted: true });
    expectStatus(await w.alice.pushOne(mutation('patients', p, 0, 'delete')), 'applied');
    expect((await w.bob.pull()).changes[0]).toMatchObject({ id: p.id, deleted: true });
  });

  it('treats op delete as deleted whatever data.deleted says', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.alice.pushOne(mutation('patients', { ...p, deleted: false }, 1, 'delete'));
    const [change] = (await w.bob.pull()).changes;
    expect(change).toMatchObject({ deleted: true, record: { deleted: true } });
  });
});

describe('push: conflicts', () => {
  it('keeps the server value, merges the disjoint part, and lists the conflict', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const m = mutation('patients', { ...p, village: 'Kawangware', phone: '+254700' }, 1);
    const r = expectStatus(await w.alice.pushOne(m), 'conflict');
    expect(r.fields).toEqual(['village']);
    expect(r.record).toMatchObject({ village: 'Mathare', phone: '+254700', version: 3 });

    const list = ConflictListResponse.parse(
      await (await w.bob.client.get('/api/sync/conflicts')).json(),
    );
    expect(list.conflicts).toEqual([
      {
        id: r.conflictId,
        table: 'patients',
        recordId: p.id,
        teamId: w.teamA,
        deviceId: w.alice.deviceId,
        userId: w.alice.userId,
        baseVersion: 1,
        serverVersion: 3,
        fields: ['village'],
        data: m.data,
        createdAt: expect.any(String),
      },
    ]);
    // Other teams and supervisors do not see it.
    const carol = ConflictListResponse.parse(
      await (await w.carol.client.get('/api/sync/conflicts')).json(),
    );
    expect(carol.conflicts).toEqual([]);
  });

  it('closes a conflict when its resolution is applied', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const c = expectStatus(
      await w.alice.pushOne(mutation('patients', { ...p, village: 'Kawangware' }, 1)),
      'conflict',
    );
    const resolution = mutation(
      'patients',
      { ...c.record, village: 'Kawangware' },
      c.version,
      'put',
      {
        resolvesConflictId: c.conflictId,
      },
    );
    expect(expectStatus(await w.alice.pushOne(resolution), 'applied').version).toBe(3);
    const list = ConflictListResponse.parse(
      await (await w.alice.client.get('/api/sync/conflicts')).json(),
    );
    expect(list.conflicts).toEqual([]);
    const [row] = await w.rows(
      `SELECT status, resolved_by_mutation AS "resolvedByMutation", resolved_at AS "resolvedAt"
       FROM conflicts WHERE id = ?`,
      c.conflictId,
    );
    expect(row).toMatchObject({ status: 'resolved', resolvedByMutation: resolution.mutationId });
    expect(row!.resolvedAt).toBe(w.clock.now().getTime());
  });

  it('rejects a resolution naming an unknown conflict or another record’s', async () => {
    const w = await setup();
    const p = await seeded(w);
    const q = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const c = expectStatus(
      await w.alice.pushOne(mutation('patients', { ...p, village: 'X' }, 1)),
      'conflict',
    );
    for (const id of ['nope', c.conflictId]) {
      const r = await w.alice.pushOne(
        mutation('patients', { ...q, village: 'Y' }, 1, 'put', { resolvesConflictId: id }),
      );
      expect(expectStatus(r, 'rejected').code).toBe('unknown_conflict');
    }
    // A record of another table that happens to have the same id does not close it either.
    const sameId = { ...patient(w.teamA), id: p.id, patientId: p.id, date: '2026-01-15' };
    const other = await w.alice.pushOne(
      mutation('encounters', sameId, 0, 'put', { resolvesConflictId: c.conflictId }),
    );
    expect(expectStatus(other, 'rejected').code).toBe('unknown_conflict');
  });

  it('merges against the device’s own edit when it has not yet pulled that edit’s version', async () => {
    const w = await setup();
    const p = await seeded(w, { phone: '1' }); // alice's edit, version 1; her device still says 0
    await w.bob.pushOne(mutation('patients', { ...p, phone: '2' }, 1));
    const r = await w.alice.pushOne(mutation('patients', { ...p, version: 0, notes: 'n' }, 0));
    expect(expectStatus(r, 'merged').record).toMatchObject({ phone: '2', notes: 'n', version: 3 });
  });

  it('does not take a merged version as the device’s base: its answer may have been lost', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    expectStatus(await w.alice.pushOne(mutation('patients', { ...p, phone: '1' }, 1)), 'merged');
    // Alice never got the merged record: her next edit still lacks Bob's village.
    const r = await w.alice.pushOne(mutation('patients', { ...p, phone: '1', notes: 'n' }, 1));
    expect(expectStatus(r, 'merged').record).toMatchObject({
      village: 'Mathare',
      phone: '1',
      notes: 'n',
      version: 4,
    });
  });

  it('merges field by field against an empty base when the base version is unknown', async () => {
    const w = await setup();
    const p = await seeded(w, { phone: '1' });
    const ahead = await w.bob.pushOne(mutation('patients', { ...p, phone: '2', notes: 'n' }, 99));
    const c = expectStatus(ahead, 'conflict');
    expect(c.fields).toEqual(['phone']);
    expect(c.record).toMatchObject({ phone: '1', notes: 'n', version: 2 });
  });

  it('makes a delete against a stale base a conflict, and deletes on the current one', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const stale = await w.alice.pushOne(mutation('patients', { ...p, deleted: true }, 1, 'delete'));
    const c = expectStatus(stale, 'conflict');
    expect(c.fields).toEqual(['deleted']);
    expect(c.record).toMatchObject({ deleted: false, village: 'Mathare', version: 2 });

    const ok = await w.alice.pushOne(
      mutation('patients', { ...c.record, deleted: true }, 2, 'delete'),
    );
    expect(expectStatus(ok, 'applied').version).toBe(3);
    expect((await w.bob.pull()).changes[0]).toMatchObject({ id: p.id, deleted: true, version: 3 });
  });
});

describe('push: rejected', () => {
  it('rejects malformed mutations one by one, with a reason, and applies the rest', async () => {
    const w = await setup();
    const good = patient(w.teamA);
    const big = patient(w.teamA, { notes: 'x'.repeat(MAX_RECORD_BYTES) });
    const cases: [unknown, string][] = [
      [
        { ...mutation('patients', patient(w.teamA)), table: 'prescriptions' },
        'table: must be one of',
      ],
      [{ ...mutation('patients', patient(w.teamA)), data: [1, 2] }, 'data: must be an object'],
      [{ ...mutation('patients', patient(w.teamA)), data: 'text' }, 'data: must be an object'],
      [{ ...mutation('patients', patient(w.teamA)), id: 'other' }, 'data.id must equal id'],
      [mutation('patients', { ...patient(w.teamA), teamId: 7 }), 'data.teamId'],
      [mutation('patients', { ...patient(w.teamA), teamId: '' }), 'data.teamId: must be a team id'],
      [{ ...mutation('patients', patient(w.teamA)), baseVersion: -1 }, 'baseVersion'],
      [{ ...mutation('patients', patient(w.teamA)), op: 'patch' }, 'op'],
      [mutation('patients', big), `bytes; at most ${RECORD_LIMITS.patients.maxBytes}`],
    ];
    const results = await w.alice.push([...cases.map(([m]) => m), mutation('patients', good)]);
    cases.forEach(([, reason], i) => {
      const r = expectStatus(results[i]!, 'rejected');
      expect(r.code).toBe('invalid');
      expect(r.reason).toContain(reason);
    });
    expectStatus(results[cases.length]!, 'applied');
  });

  it('rejects a write into another team, into another team’s record, or moving a record', async () => {
    const w = await setup();
    const own = await seeded(w);
    const carols = patient(w.teamB);
    await w.carol.pushOne(mutation('patients', carols));

    const intoB = await w.alice.pushOne(mutation('patients', patient(w.teamB)));
    expect(expectStatus(intoB, 'rejected')).toMatchObject({
      code: 'forbidden',
      reason: 'you may not write records of this team',
    });
    // carol's record id, claimed for team A (or any stale base) by alice.
    for (const base of [0, 1]) {
      const hijack = await w.alice.pushOne(
        mutation('patients', { ...carols, teamId: w.teamA }, base),
      );
      expect(expectStatus(hijack, 'rejected').reason).toBe(
        'you may not write records of this team',
      );
    }
    // Moving her own record to a team where she is a clinician too.
    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.alice.userId,
      role: 'clinician',
    });
    const move = await w.alice.pushOne(mutation('patients', { ...own, teamId: w.teamB }, 1));
    expect(expectStatus(move, 'rejected').reason).toContain("a record's team cannot change");
    expect((await w.carol.pull()).changes.map((c) => c.id)).toEqual([carols.id]);
  });

  it('lets only supervisors write reviews, only of reports in their teams, append-only', async () => {
    const w = await setup();
    const p = await seeded(w);
    const rep = report(w.teamA, p.id);
    expectStatus(await w.alice.pushOne(mutation('reports', rep)), 'applied');
    const v = review(w.teamA, rep.id);

    const byClinician = await w.alice.pushOne(mutation('reviews', v));
    expect(expectStatus(byClinician, 'rejected')).toMatchObject({
      code: 'forbidden',
      reason: 'only supervisors of the team write reviews',
    });
    const patientBySupervisor = await w.sam.pushOne(mutation('patients', patient(w.teamA)));
    expect(expectStatus(patientBySupervisor, 'rejected').reason).toBe(
      'supervisors may write only reviews, comments and follow-ups',
    );
    const reportBySupervisor = await w.sam.pushOne(
      mutation('reports', { ...rep, summary: 'x' }, 1),
    );
    expectStatus(reportBySupervisor, 'rejected');

    const ok = await w.sam.pushOne(mutation('reviews', v));
    expect(expectStatus(ok, 'applied').version).toBe(1);
    // Pushed again under a new mutation id (same content): the same version, nothing written.
    expect(expectStatus(await w.sam.pushOne(mutation('reviews', v)), 'applied').version).toBe(1);
    const changed = await w.sam.pushOne(mutation('reviews', { ...v, decision: 'returned' }, 1));
    expect(expectStatus(changed, 'rejected').code).toBe('append_only');
    const deleted = await w.sam.pushOne(mutation('reviews', { ...v, deleted: true }, 1, 'delete'));
    expect(expectStatus(deleted, 'rejected').code).toBe('append_only');

    const noReport = await w.sam.pushOne(mutation('reviews', review(w.teamA, 'missing')));
    expect(expectStatus(noReport, 'rejected').reason).toBe(
      'the report does not exist in this team',
    );
    const otherTeam = await w.sam.pushOne(mutation('reviews', review(w.teamB, rep.id)));
    expect(expectStatus(otherTeam, 'rejected').reason).toBe(
      'you may not write records of this team',
    );

    // The clinicians get the review.
    const pulled = await w.bob.pull();
    expect(pulled.changes.find((c) => c.table === 'reviews')?.record).toMatchObject({
      id: v.id,
      decision: 'approved',
      updatedBy: w.sam.userId,
      authorId: w.sam.userId,
    });
  });

  it('keeps a saved diagnosis immutable apart from its assessment', async () => {
    const w = await setup();
    const p = await seeded(w);
    const d = diagnosis(w.teamA, p.id);
    expectStatus(await w.alice.pushOne(mutation('diagnoses', d)), 'applied');
    const tampered = await w.alice.pushOne(
      mutation('diagnoses', { ...d, outputs: { negative: 0.9, positive: 0.1 } }, 1),
    );
    expect(expectStatus(tampered, 'rejected')).toMatchObject({
      code: 'immutable',
      reason: expect.stringContaining('outputs'),
    });
    const assessment = { verdict: 'agree', note: 'fits', at: '2026-01-15T11:00:00Z', by: 'a' };
    const assessed = await w.bob.pushOne(mutation('diagnoses', { ...d, assessment }, 1));
    expect(expectStatus(assessed, 'applied').version).toBe(2);
  });

  it('gives an admin without a clinical role no clinical access and nothing to pull', async () => {
    const w = await setup();
    await seeded(w);
    const results = await w.adminSync.push([
      mutation('patients', patient(w.teamA)),
      mutation('encounters', { id: 'e1', teamId: w.teamA, patientId: 'x' }),
    ]);
    for (const r of results) expect(expectStatus(r, 'rejected').code).toBe('forbidden');
    expect(await w.adminSync.pull()).toEqual({
      changes: [],
      cursor: 0,
      hasMore: false,
      reset: false,
    });
    const list = ConflictListResponse.parse(
      await (await w.admin.get('/api/sync/conflicts')).json(),
    );
    expect(list.conflicts).toEqual([]);
  });
});

describe('push: idempotency', () => {
  it('returns the stored result for a retried mutation and writes nothing again', async () => {
    const w = await setup();
    const p = await seeded(w);
    await w.bob.pushOne(mutation('patients', { ...p, village: 'Mathare' }, 1));
    const m = mutation('patients', { ...p, phone: '1' }, 1);
    const first = await w.alice.pushOne(m);
    expectStatus(first, 'merged');
    // Retried alone, and twice within one batch.
    expect(await w.alice.pushOne(m)).toEqual(first);
    expect(await w.alice.push([m, m])).toEqual([first, first]);
    expect((await historyOf(w, p.id)).map((h) => h.version)).toEqual([1, 2, 3]);

    const c = mutation('patients', { ...p, village: 'Other' }, 1);
    const conflict = await w.alice.pushOne(c);
    expectStatus(conflict, 'conflict');
    expect(await w.alice.pushOne(c)).toEqual(conflict);
    expect(await w.rows('SELECT id FROM conflicts')).toHaveLength(1);

    const bad = { ...mutation('patients', patient(w.teamB)) };
    const rejected = await w.alice.pushOne(bad);
    expect(await w.alice.pushOne(bad)).toEqual(rejected);
  });

  it('does not hand one user’s stored result to another on the same device id', async () => {
    const w = await setup();
    const m = mutation('patients', patient(w.teamA));
    await w.alice.pushOne(m);
    const bobOnAlicesDevice = new SyncClient(w.bob.client, w.bob.userId, w.alice.deviceId);
    // The device id is bound to alice: bob is refused before any mutation is looked at.
    const res = await bobOnAlicesDevice.pushRaw([m]);
    expect(res.status).toBe(409);
    const stored = await w.rows(
      'SELECT device_id FROM applied_mutations WHERE mutation_id = ?',
      m.mutationId,
    );
    expect(stored).toHaveLength(1);
  });
});

describe('push: a mutation id stored for another user (behind the device binding)', () => {
  it('is refused by the push service, which never hands out the other user’s result', async () => {
    const w = await setup();
    const m = mutation('patients', patient(w.teamA));
    const first = await w.alice.pushOne(m);
    expectStatus(first, 'applied');
    // The route refuses bob on alice's device id (409 above); the service does not rely on it.
    const results = await pushService(
      w.sync,
      {
        scope: await scopeOf(w.repos, w.bob.userId),
        deviceId: w.alice.deviceId,
        now: w.clock.now(),
      },
      [m],
    );
    expect(results).toEqual([
      {
        mutationId: m.mutationId,
        status: 'rejected',
        code: 'mutation_id_reused',
        reason: 'this mutation id was already used by another user',
      },
    ]);
    // alice's retry still gets her own answer.
    expect(await w.alice.pushOne(m)).toEqual(first);
  });
});

describe('push: request limits and auth', () => {
  it('refuses more than 3,000 mutations with 400 and a body over 5 MiB with 413', async () => {
    const w = await setup();
    const many = Array.from({ length: 3001 }, () => mutation('patients', patient(w.teamA)));
    const tooMany = await w.alice.pushRaw(many);
    expect(tooMany.status).toBe(400);
    expect((await errorOf(tooMany)).message).toBe('mutations: must hold at most 3000 mutations');

    const fat = (n: number) =>
      Array.from({ length: n }, () =>
        mutation('patients', patient(w.teamA, { notes: 'x'.repeat(250 * 1024) })),
      );
    // 2.5 MB: above the 1 MiB JSON limit of the other routes, accepted here.
    const ok = await w.alice.pushRaw(fat(10));
    expect(ok.status).toBe(200);
    const huge = await w.alice.pushRaw(fat(22));
    expect(huge.status).toBe(413);
    expect((await errorOf(huge)).code).toBe('payload_too_large');
    // Other JSON routes keep their 1 MiB limit.
    const other = await w.admin.post('/api/admin/teams', { name: 'x'.repeat(1100 * 1024) });
    expect(other.status).toBe(413);
  });

  it('validates the envelope: deviceId and each mutationId', async () => {
    const w = await setup();
    const badDevice = await w.alice.pushRaw([], 'x');
    expect(badDevice.status).toBe(400);
    expect((await errorOf(badDevice)).message).toMatch(/^deviceId: /);
    const noId = await w.alice.pushRaw([{ table: 'patients' }]);
    expect(noId.status).toBe(400);
    expect((await errorOf(noId)).message).toMatch(/^mutations\.0\.mutationId: /);
  });

  it('is 401 when signed out or when the session expired', async () => {
    const w = await setup();
    const anonymous = new SyncClient(new TestClient(w.app), 'nobody');
    expect((await anonymous.pushRaw([])).status).toBe(401);
    expect((await anonymous.pullRaw(0)).status).toBe(401);
    expect((await anonymous.client.get('/api/sync/conflicts')).status).toBe(401);
    w.clock.advance(31 * DAY);
    const expired = await w.alice.pushRaw([mutation('patients', patient(w.teamA))]);
    expect(expired.status).toBe(401);
    expect((await errorOf(expired)).code).toBe('unauthenticated');
    expect((await w.alice.pullRaw(0)).status).toBe(401);
  });

  it('refuses a device whose user was disabled, even under another user’s session', async () => {
    const w = await setup();
    await w.alice.pull();
    await w.admin.patch(`/api/admin/users/${w.alice.userId}`, { disabled: true });
    const bobOnAlicesDevice = new SyncClient(w.bob.client, w.bob.userId, w.alice.deviceId);
    const push = await bobOnAlicesDevice.pushRaw([mutation('patients', patient(w.teamA))]);
    expect(push.status).toBe(403);
    expect((await errorOf(push)).code).toBe('device_revoked');
    expect((await bobOnAlicesDevice.pullRaw(0)).status).toBe(403);
    // A device of an active user is bound to them (sync.limits.test.ts).
  });
});

describe('pull', () => {
  it('pages through changes in seq order with cursor and hasMore', async () => {
    const w = await setup();
    const ids: string[] = [];
    const batch = Array.from({ length: 25 }, () => {
      const p = patient(w.teamA);
      ids.push(p.id);
      return mutation('patients', p);
    });
    await w.alice.push(batch);
    const pages = [];
    let cursor = 0;
    for (;;) {
      const page = await w.bob.pull(cursor, 10);
      pages.push(page);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(pages.map((p) => [p.changes.length, p.hasMore])).toEqual([
      [10, true],
      [10, true],
      [5, false],
    ]);
    const all = pages.flatMap((p) => p.changes);
    expect(all.map((c) => c.id)).toEqual(ids);
    const seqs = all.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(pages[0]!.cursor).toBe(seqs[9]);
    // Nothing new: same cursor, no changes.
    expect(await w.bob.pull(cursor)).toEqual({ changes: [], cursor, hasMore: false, reset: false });
    // An edit moves the record to the end.
    await w.alice.pushOne(
      mutation('patients', { ...patient(w.teamA, {}, ids[0]), village: 'X' }, 1),
    );
    const next = await w.bob.pull(cursor);
    expect(next.changes.map((c) => [c.id, c.version])).toEqual([[ids[0], 2]]);
  });

  it('refuses a bad cursor with invalid_cursor, and other bad parameters', async () => {
    const w = await setup();
    await seeded(w);
    for (const cursor of ['-1', 'abc', '1.5', '2', '99999999999999999999']) {
      const res = await w.alice.pullRaw(cursor);
      expect(res.status, cursor).toBe(400);
      expect((await errorOf(res)).code, cursor).toBe('invalid_cursor');
    }
    for (const limit of ['0', '1001', 'x']) {
      const res = await w.alice.pullRaw(0, limit);
      expect(res.status, limit).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_request');
    }
    const noDevice = await w.alice.client.get('/api/sync/pull?cursor=0');
    expect(noDevice.status).toBe(400);
    expect((await errorOf(noDevice)).message).toMatch(/^x-device-id: /);
    expect((await w.alice.pullRaw('1')).status).toBe(200);
  });

  it('never returns another team’s records; supervisors pull no clinical record', async () => {
    const w = await setup();
    const a = await seeded(w);
    const b = patient(w.teamB);
    await w.carol.pushOne(mutation('patients', b));
    expect((await w.carol.pullAll()).map((c) => c.id)).toEqual([b.id]);
    expect((await w.bob.pullAll()).map((c) => c.id)).toEqual([a.id]);
    expect((await w.sam.pullAll()).map((c) => c.id)).toEqual([]);
  });

  it('asks the device to start over when the user’s teams changed', async () => {
    const w = await setup();
    await seeded(w);
    const b = patient(w.teamB);
    await w.carol.pushOne(mutation('patients', b));
    const first = await w.bob.pull();
    expect(first.changes).toHaveLength(1);

    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.bob.userId,
      role: 'clinician',
    });
    // The old cursor is stale for team B: reset, as often as the device keeps sending it.
    for (let i = 0; i < 2; i++) {
      expect(await w.bob.pull(first.cursor)).toEqual({
        changes: [],
        cursor: 0,
        hasMore: true,
        reset: true,
      });
    }
    expect((await w.bob.pullAll()).map((c) => c.id)).toContain(b.id);
    const after = await w.bob.pull(first.cursor);
    expect(after.reset).toBe(false);
  });

  it('registers an unknown device and remembers its cursor', async () => {
    const w = await setup();
    await seeded(w);
    const fresh = new SyncClient(w.bob.client, w.bob.userId, uid('new-device'));
    const page = await fresh.pull();
    expect(page.changes).toHaveLength(1);
    const [row] = await w.rows(
      'SELECT user_id, last_pulled_cursor, scope FROM devices WHERE id = ?',
      fresh.deviceId,
    );
    // JSON text on SQLite, jsonb (parsed by the driver) on PostgreSQL.
    const scope = typeof row!.scope === 'string' ? (JSON.parse(row!.scope) as unknown) : row!.scope;
    expect({ ...row, scope }).toEqual({
      user_id: w.bob.userId,
      last_pulled_cursor: page.cursor,
      scope: [`clinician:${w.teamA}`],
    });
  });
});

describe('storage', () => {
  it('keeps every version in history with the device and mutation that wrote it', async () => {
    const w = await setup();
    const p = await seeded(w);
    const m = mutation('patients', { ...p, village: 'Mathare' }, 1);
    await w.bob.pushOne(m);
    const h = await historyOf(w, p.id);
    expect(h.map((r) => [r.version, r.deviceId, r.by])).toEqual([
      [1, w.alice.deviceId, w.alice.userId],
      [2, w.bob.deviceId, w.bob.userId],
    ]);
    expect(h[1]!.mutationId).toBe(m.mutationId);
    const [current] = await w.rows('SELECT seq, data FROM records WHERE id = ?', p.id);
    expect(current!.seq).toBe(h[1]!.seq);
    expect(JSON.parse(current!.data as string)).toEqual(JSON.parse(h[1]!.data));
  });
});
