import { describe, expect, it, onTestFinished } from 'vitest';
import { PullResponse } from '../protocol';
import { mutation, patient, report, review, SyncClient, syncWorld } from '../sync-test-utils';
import { errorOf } from '../test-utils';

// `remaining` on a pull answer (issue 16): how many records are still to come, for progress.

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

function pullRaw(s: SyncClient, query: Record<string, string | number>) {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  return s.client.get(`/api/sync/pull?${q}`, { 'x-device-id': s.deviceId });
}

async function pullWith(s: SyncClient, query: Record<string, string | number>) {
  const res = await pullRaw(s, query);
  expect(res.status, await res.clone().text()).toBe(200);
  const json = (await res.json()) as Record<string, unknown>;
  return { raw: json, page: PullResponse.parse(json) };
}

describe('pull: remaining', () => {
  it('says how many records are still to come when asked, page by page down to 0', async () => {
    const w = await setup();
    await w.alice.push(Array.from({ length: 7 }, () => mutation('patients', patient(w.teamA))));

    const first = await pullWith(w.bob, { cursor: 0, limit: 3, remaining: 1 });
    expect(first.page.changes).toHaveLength(3);
    expect(first.page.remaining).toBe(4);

    // Not asked: not counted (the device asks on the first page of a sync only).
    const second = await pullWith(w.bob, { cursor: first.page.cursor, limit: 3 });
    expect(second.raw).not.toHaveProperty('remaining');

    const last = await pullWith(w.bob, { cursor: second.page.cursor, limit: 3, remaining: 1 });
    expect(last.page).toMatchObject({ hasMore: false, remaining: 0 });
    expect(last.page.changes).toHaveLength(1);
  });

  it('leaves the answer as before for a client that does not ask (old clients)', async () => {
    const w = await setup();
    await w.alice.pushOne(mutation('patients', patient(w.teamA)));
    for (const query of [{ cursor: 0 }, { cursor: 0, remaining: 0 }] as Record<string, number>[]) {
      const { raw } = await pullWith(w.bob, query);
      expect(Object.keys(raw).sort()).toEqual(['changes', 'cursor', 'hasMore', 'reset']);
    }
  });

  it('counts only what the caller may pull: its teams, and only the review side of supervised ones', async () => {
    const w = await setup();
    const a = patient(w.teamA);
    const r = report(w.teamA, a.id);
    await w.alice.push([mutation('patients', a), mutation('reports', r)]);
    await w.sam.push([
      mutation('reviews', review(w.teamA, r.id)),
      mutation('reviews', review(w.teamA, r.id)),
    ]);
    // Clinical records after the reviews: the supervisor must not count them.
    await w.alice.pushOne(mutation('patients', patient(w.teamA)));
    // Team B writes a lot: no one outside it may learn how much.
    await w.carol.push(Array.from({ length: 9 }, () => mutation('patients', patient(w.teamB))));

    const count = async (s: SyncClient) =>
      (await pullWith(s, { cursor: 0, limit: 1, remaining: 1 })).page;
    // Team A holds 5 records; the first page brings one of them.
    expect(await count(w.bob)).toMatchObject({ remaining: 4 });
    // The supervisor pulls the reviews only.
    const sam = await count(w.sam);
    expect(sam.changes.map((c) => c.table)).toEqual(['reviews']);
    expect(sam).toMatchObject({ remaining: 1, hasMore: true });
    expect(await count(w.carol)).toMatchObject({ remaining: 8 });
    // An admin with no team role pulls nothing, and learns nothing.
    expect(await count(w.adminSync)).toMatchObject({ changes: [], remaining: 0 });
  });

  it('is absent from a reset answer, and counts the new scope on the pull from 0', async () => {
    const w = await setup();
    await w.alice.pushOne(mutation('patients', patient(w.teamA)));
    await w.carol.push([
      mutation('patients', patient(w.teamB)),
      mutation('patients', patient(w.teamB)),
    ]);
    const first = await pullWith(w.bob, { cursor: 0, remaining: 1 });
    expect(first.page.remaining).toBe(0);

    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.bob.userId,
      role: 'clinician',
    });
    const reset = await pullWith(w.bob, { cursor: first.page.cursor, remaining: 1 });
    expect(reset.page.reset).toBe(true);
    expect(reset.raw).not.toHaveProperty('remaining');
    const again = await pullWith(w.bob, { cursor: 0, limit: 1, remaining: 1 });
    expect(again.page.remaining).toBe(2);
  });

  it('refuses a value other than 0 or 1 with a 400 that says why', async () => {
    const w = await setup();
    const res = await pullRaw(w.bob, { cursor: 0, remaining: 'yes' });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('remaining'),
    });
  });
});
