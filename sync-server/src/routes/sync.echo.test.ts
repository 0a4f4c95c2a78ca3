/**
 * No echo pull (docs/sync-no-echo.md): a device's pull leaves out its own writes that it already
 * holds, and nothing else. Each test names a record that must still come back.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { PushResponse, type MutationResult, type PullResponse } from '../protocol';
import { scopeOf } from '../services/scope';
import { pull, touchDevice } from '../services/sync';
import { mutation, patient, report, SyncClient, syncWorld } from '../sync-test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}
type World = Awaited<ReturnType<typeof setup>>;

/** A patient of team A as `user`'s device makes it (updatedBy is the device's user). */
const own = (w: World, user: SyncClient, fields: Record<string, unknown> = {}) =>
  patient(w.teamA, { updatedBy: user.userId, ...fields });

function seqOf(r: MutationResult): number {
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'applied', seq: expect.any(Number) });
  return (r as { seq: number }).seq;
}

/** Every change after `cursor` with this `acked`, page by page. */
async function pullFrom(d: SyncClient, cursor: number, acked: number, limit?: number) {
  const changes: PullResponse['changes'] = [];
  for (;;) {
    const page = await d.pull(cursor, limit, acked);
    changes.push(...page.changes);
    expect(page.cursor).toBeGreaterThanOrEqual(cursor);
    cursor = page.cursor;
    if (!page.hasMore) return { changes, cursor };
  }
}

describe('no echo pull', () => {
  it('answers an applied push with its seq, and leaves those writes out of the same device’s pull', async () => {
    const w = await setup();
    const ps = [0, 1, 2, 3, 4].map(() => own(w, w.alice));
    const results = await w.alice.push(ps.map((p) => mutation('patients', p)));
    const seqs = results.map(seqOf);
    expect(results.map((r) => r.status === 'applied' && r.version)).toEqual([1, 1, 1, 1, 1]);
    const acked = Math.max(...seqs);

    const page = await w.alice.pull(0, undefined, acked);
    // Nothing to send, and the cursor moved past every row left out: nothing is fetched again.
    expect(page).toEqual({ changes: [], cursor: acked, hasMore: false, reset: false });
    // Without acked (a device that did not record the answers) everything comes back.
    expect((await w.alice.pull(0)).changes.map((c) => c.id)).toEqual(ps.map((p) => p.id));
    // Other devices, of another user or of the same user, get everything.
    expect((await w.bob.pullAll()).map((c) => c.id)).toEqual(ps.map((p) => p.id));
    const aliceTablet = new SyncClient(w.alice.client, w.alice.userId);
    const theirs = await pullFrom(aliceTablet, 0, acked);
    expect(theirs.changes.map((c) => c.id)).toEqual(ps.map((p) => p.id));
  });

  it('a retried push gets the same seq back, and the write is still left out', async () => {
    const w = await setup();
    const m = mutation('patients', own(w, w.alice));
    const first = await w.alice.pushOne(m);
    expect(await w.alice.pushOne(m)).toEqual(first);
    expect((await w.alice.pull(0, undefined, seqOf(first))).changes).toEqual([]);
  });

  it('sends back a record another device changed after the push', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    const q = own(w, w.alice);
    const [a1, a2] = await w.alice.push([mutation('patients', p), mutation('patients', q)]);
    const before = await w.alice.pull(0, undefined, seqOf(a2!));
    expect(before.changes).toEqual([]);
    const edit = { ...p, version: 1, phone: '555', updatedBy: w.bob.userId };
    const b = await w.bob.pushOne(mutation('patients', edit, 1));
    expect(b).toMatchObject({ status: 'applied', version: 2 });
    // Even with an acked beyond bob's write (alice pushed again since), bob's edit comes back.
    const later = await w.alice.pushOne(mutation('patients', own(w, w.alice)));
    const after = await pullFrom(w.alice, before.cursor, seqOf(later));
    expect(after.changes.map((c) => [c.id, c.version])).toEqual([[p.id, 2]]);
    expect(after.changes[0]!.record.phone).toBe('555');
    expect(seqOf(a1!)).toBeLessThan(seqOf(a2!));
  });

  it('sends back a push the server merged with another device’s edit', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    seqOf(await w.alice.pushOne(mutation('patients', p)));
    const start = (await w.alice.pull(0)).cursor;
    await w.bob.pushOne(
      mutation('patients', { ...p, version: 1, phone: '555', updatedBy: w.bob.userId }, 1),
    );
    // Alice edits from version 1, not having seen bob's edit: merged, so no seq.
    const merged = await w.alice.pushOne(
      mutation('patients', { ...p, version: 1, village: 'Mathare' }, 1),
    );
    expect(merged).toMatchObject({ status: 'merged', version: 3 });
    expect(merged).not.toHaveProperty('seq');
    const later = seqOf(await w.alice.pushOne(mutation('patients', own(w, w.alice))));
    const after = await pullFrom(w.alice, start, later);
    expect(after.changes.map((c) => [c.id, c.version])).toEqual([[p.id, 3]]);
    expect(after.changes[0]!.record).toMatchObject({ phone: '555', village: 'Mathare' });
  });

  it('sends back a write the server changed (a field it owns, a claimed author)', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    await w.alice.pushOne(mutation('patients', p));
    const start = (await w.alice.pull(0)).cursor;
    // The server numbers a shared report's revisions itself: the device lacks that number.
    const r = report(w.teamA, p.id, { updatedBy: w.alice.userId });
    const rr = await w.alice.pushOne(mutation('reports', r));
    expect(rr).toMatchObject({ status: 'applied', version: 1 });
    expect(rr).not.toHaveProperty('seq');
    // updatedBy claimed as someone else is overwritten with the signed-in user.
    const claimed = patient(w.teamA, { updatedBy: 'someone-else' });
    const rc = await w.alice.pushOne(mutation('patients', claimed));
    expect(rc).not.toHaveProperty('seq');
    const later = seqOf(await w.alice.pushOne(mutation('patients', own(w, w.alice))));
    const after = await pullFrom(w.alice, start, later);
    expect(after.changes.map((c) => c.id)).toEqual([r.id, claimed.id]);
    expect(after.changes[0]!.record.revision).toBe(1);
    expect(after.changes[1]!.record.updatedBy).toBe(w.alice.userId);
  });

  it('sends back an older edit of the device’s that reaches the server after its newer one', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    await w.alice.pushOne(mutation('patients', p));
    const start = (await w.alice.pull(0)).cursor;
    // The device gave up on the request of its first edit and sent the newer one; the first
    // arrives late and is stored as sent, over the newer one, and the device never sees its answer.
    const older = mutation('patients', { ...p, version: 1, village: 'Older' }, 1);
    const newer = mutation('patients', { ...p, version: 1, village: 'Newer' }, 1);
    seqOf(await w.alice.pushOne(newer));
    const late = await w.alice.pushOne(older);
    expect(late).toMatchObject({ status: 'applied', version: 3 });
    expect(late).not.toHaveProperty('seq');
    const later = seqOf(await w.alice.pushOne(mutation('patients', own(w, w.alice))));
    const after = await pullFrom(w.alice, start, later);
    expect(after.changes.map((c) => [c.id, c.version, c.record.village])).toEqual([
      [p.id, 3, 'Older'],
    ]);
  });

  it('leaves out only writes at or below acked (a device restored from a backup gets the rest)', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    const q = own(w, w.alice);
    const sp = seqOf(await w.alice.pushOne(mutation('patients', p)));
    seqOf(await w.alice.pushOne(mutation('patients', q)));
    const page = await pullFrom(w.alice, 0, sp);
    expect(page.changes.map((c) => c.id)).toEqual([q.id]);
    // acked 0 (after a reset, on a new device): everything.
    expect((await pullFrom(w.alice, 0, 0)).changes.map((c) => c.id)).toEqual([p.id, q.id]);
  });

  it('counts only the records sent towards the limit, and a page of left-out rows still moves on', async () => {
    const w = await setup();
    const mine = [0, 1, 2, 3, 4].map(() => own(w, w.alice));
    const seqs = (await w.alice.push(mine.map((p) => mutation('patients', p)))).map(seqOf);
    const theirs = own(w, w.bob);
    await w.bob.pushOne(mutation('patients', theirs));
    const acked = Math.max(...seqs);
    // One page of limit 1 skips alice's five rows and carries bob's record.
    const one = await w.alice.pull(0, 1, acked);
    expect(one.changes.map((c) => c.id)).toEqual([theirs.id]);
    expect(one.hasMore).toBe(false);

    // A bound on the rows looked at ends a page with nothing in it but a cursor further on.
    const scope = await scopeOf(w.repos, w.alice.userId);
    let device = await touchDevice(w.sync, w.alice.deviceId, w.alice.userId, new Date());
    const first = await pull(w.sync, scope, device, 0, 1000, { acked, maxExamined: 2 });
    expect(first).toMatchObject({ count: 0, hasMore: true, cursor: seqs[1] });
    const got: string[] = [];
    let cursor = first.cursor;
    for (let i = 0; i < 10; i++) {
      device = await touchDevice(w.sync, w.alice.deviceId, w.alice.userId, new Date());
      const page = await pull(w.sync, scope, device, cursor, 1000, { acked, maxExamined: 2 });
      got.push(...(JSON.parse(page.body) as PullResponse).changes.map((c) => c.id));
      expect(page.cursor).toBeGreaterThan(cursor);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(got).toEqual([theirs.id]);

    // The walk reads one row past its bound, so a page that stops at it says more is to come.
    device = await touchDevice(w.sync, w.alice.deviceId, w.alice.userId, new Date());
    const bounded = await pull(w.sync, scope, device, 0, 1, { acked, maxExamined: 5 });
    expect(bounded).toMatchObject({ count: 0, hasMore: true, cursor: seqs[4] });
  });

  it('refuses an acked that is not a whole number', async () => {
    const w = await setup();
    const res = await w.alice.pullRaw(0, 10, w.alice.deviceId, 'x');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });
});

/** The whole answer of a push, cursorAdvance included. */
async function pushAnswer(d: SyncClient, mutations: unknown[]): Promise<PushResponse> {
  const res = await d.pushRaw(mutations);
  expect(res.status).toBe(200);
  return PushResponse.parse(await res.json());
}

describe('cursor advance (docs/sync-no-echo.md)', () => {
  it('lets a device skip its own push: from the end of the sequence before it to its last write', async () => {
    const w = await setup();
    await w.bob.pushOne(mutation('patients', own(w, w.bob)));
    const cursor = (await pullFrom(w.alice, 0, 0)).cursor;
    const mine = [0, 1, 2].map(() => own(w, w.alice));
    const answer = await pushAnswer(
      w.alice,
      mine.map((p) => mutation('patients', p)),
    );
    const seqs = answer.results.map(seqOf);
    expect(answer.cursorAdvance).toEqual({ from: cursor, to: Math.max(...seqs) });
    // Nothing lies beyond it for alice; bob gets all three.
    expect(await w.alice.pull(answer.cursorAdvance!.to)).toMatchObject({ changes: [] });
    expect((await w.bob.pullAll()).map((c) => c.id)).toEqual(
      expect.arrayContaining(mine.map((p) => p.id)),
    );
  });

  it('starts at the caller’s last change before the push: a device behind it does not move', async () => {
    const w = await setup();
    const cursor = (await pullFrom(w.alice, 0, 0)).cursor;
    const theirs = await w.bob.pushOne(mutation('patients', own(w, w.bob)));
    const answer = await pushAnswer(w.alice, [mutation('patients', own(w, w.alice))]);
    expect(answer.cursorAdvance).toEqual({ from: seqOf(theirs), to: seqOf(answer.results[0]!) });
    expect(answer.cursorAdvance!.from).not.toBe(cursor);
  });

  it('is not held back by other teams’ writes, however many', async () => {
    const w = await setup();
    const cursor = (await pullFrom(w.alice, 0, 0)).cursor;
    // Carol's team writes after alice's last pull: nothing alice's pull would walk.
    for (let i = 0; i < 3; i++) {
      await w.carol.push(
        [0, 1, 2, 3].map(() =>
          mutation('patients', patient(w.teamB, { updatedBy: w.carol.userId })),
        ),
      );
    }
    const answer = await pushAnswer(w.alice, [mutation('patients', own(w, w.alice))]);
    expect(answer.cursorAdvance).toEqual({ from: cursor, to: seqOf(answer.results[0]!) });
  });

  it('is not given when a write was not stored exactly as sent', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    await w.alice.pushOne(mutation('patients', p));
    await pullFrom(w.alice, 0, 0);
    // Merged with bob's edit: the device gets the record in the answer, but no seq.
    await w.bob.pushOne(
      mutation('patients', { ...p, version: 1, phone: '555', updatedBy: w.bob.userId }, 1),
    );
    await pullFrom(w.bob, 0, 0);
    const merged = await pushAnswer(w.alice, [
      mutation('patients', own(w, w.alice)),
      mutation('patients', { ...p, version: 1, village: 'Mathare' }, 1),
    ]);
    expect(merged.results[1]).toMatchObject({ status: 'merged' });
    expect(merged.cursorAdvance).toBeUndefined();
    // A report: the server numbers its revision.
    const reportAnswer = await pushAnswer(w.alice, [
      mutation('reports', report(w.teamA, p.id, { updatedBy: w.alice.userId })),
    ]);
    expect(reportAnswer.cursorAdvance).toBeUndefined();
    // An older edit arriving after the newer one is stored over it, without a seq.
    const q = own(w, w.alice);
    await w.alice.pushOne(mutation('patients', q));
    await w.alice.pushOne(mutation('patients', { ...q, version: 1, village: 'Newer' }, 1));
    const late = await pushAnswer(w.alice, [
      mutation('patients', { ...q, version: 1, village: 'Older' }, 1),
    ]);
    expect(late.results[0]).toMatchObject({ status: 'applied', version: 3 });
    expect(late.cursorAdvance).toBeUndefined();
  });

  it('is not given when nothing was written (a retry), and a refused mutation does not stop it', async () => {
    const w = await setup();
    await pullFrom(w.alice, 0, 0);
    const m = mutation('patients', own(w, w.alice));
    const first = await pushAnswer(w.alice, [m]);
    expect(first.cursorAdvance).toBeDefined();
    expect((await pushAnswer(w.alice, [m])).cursorAdvance).toBeUndefined();
    const refused = mutation('patients', patient(w.teamB, { updatedBy: w.alice.userId }));
    const mixed = await pushAnswer(w.alice, [refused, mutation('patients', own(w, w.alice))]);
    expect(mixed.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(mixed.cursorAdvance).toEqual({
      from: first.cursorAdvance!.to,
      to: seqOf(mixed.results[1]!),
    });
  });

  it('does not count a retried mutation as a write, even when it was the last one before', async () => {
    const w = await setup();
    const p = own(w, w.alice);
    await w.alice.pushOne(mutation('patients', p));
    await pullFrom(w.alice, 0, 0);
    // The retry's stored answer names the highest seq before this push; the report's revision is
    // numbered by the server (applied, no seq): the device must pull it, so no advance.
    const retried = mutation('patients', own(w, w.alice));
    await pushAnswer(w.alice, [retried]);
    const answer = await pushAnswer(w.alice, [
      retried,
      mutation('reports', report(w.teamA, p.id, { updatedBy: w.alice.userId })),
    ]);
    expect(answer.results[1]).toMatchObject({ status: 'applied' });
    expect(answer.results[1]).not.toHaveProperty('seq');
    expect(answer.cursorAdvance).toBeUndefined();
  });

  it('is not given to a device that has not pulled from 0 in the user’s current scope', async () => {
    const w = await setup();
    // A new device: its first pull from 0 records the scope it downloads.
    expect(
      (await pushAnswer(w.alice, [mutation('patients', own(w, w.alice))])).cursorAdvance,
    ).toBeUndefined();
    await pullFrom(w.alice, 0, 0);
    expect(
      (await pushAnswer(w.alice, [mutation('patients', own(w, w.alice))])).cursorAdvance,
    ).toBeDefined();
    // Alice joins team B: her next pull must answer reset, whatever her cursor.
    const added = await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.alice.userId,
      role: 'clinician',
    });
    expect(added.status).toBeLessThan(300);
    expect(
      (await pushAnswer(w.alice, [mutation('patients', own(w, w.alice))])).cursorAdvance,
    ).toBeUndefined();
  });
});
