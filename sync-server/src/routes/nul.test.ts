/**
 * U+0000 in any input (protocol/nul.ts): PostgreSQL's text cannot hold it, so it is refused with a
 * clear 400 on both dialects (found by the route fuzzer on PostgreSQL: a 500 from
 * POST /api/devices/%00/revoke). In a push only the record that holds one is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MutationResult } from '../protocol';
import { mutation, patient, syncWorld } from '../sync-test-utils';
import { errorOf } from '../test-utils';

let w: Awaited<ReturnType<typeof syncWorld>>;
afterEach(() => w?.cleanup());

describe('a NUL character (U+0000)', () => {
  it('in a path or a query is refused with 400, naming the problem', async () => {
    w = await syncWorld();
    for (const url of ['/api/devices/%00/revoke', `/api/admin/teams/${w.teamA}%00`]) {
      const res = await w.admin.post(url, {});
      expect(res.status, url).toBe(400);
      expect((await errorOf(res)).message).toMatch(/NUL character/);
    }
    const res = await w.sam.client.get('/api/review/queue?q=a%00b');
    expect(res.status).toBe(400);
  });

  it('in a JSON body is refused with 400 before the handler runs', async () => {
    w = await syncWorld();
    // A field no schema restricts further: the password of a sign-in.
    const res = await w.admin.post('/api/auth/login', {
      email: 'admin@example.org',
      password: 'correct horse\u0000battery staple',
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/NUL character/);
    // An unknown account's email with one is refused the same way, not looked up.
    const unknown = await w.admin.post('/api/auth/login', {
      email: 'nobody\u0000@example.org',
      password: 'whatever long enough',
    });
    expect(unknown.status).toBe(400);
  });

  it('in a pushed table name or id is rejected alone, not a 500 (PostgreSQL read them first)', async () => {
    w = await syncWorld();
    const good = patient(w.teamA);
    const res = await w.alice.pushRaw([
      { mutationId: 'm-nul-table', table: '\u0000', id: 'x' },
      { ...mutation('patients', patient(w.teamA)), mutationId: 'm-nul-id', id: 'a\u0000' },
      mutation('patients', good),
    ]);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: MutationResult[] };
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'applied']);
  });

  it('in a pushed record rejects that record alone; the rest of the push applies', async () => {
    w = await syncWorld();
    const bad = patient(w.teamA, { name: 'Ama\u0000' });
    const good = patient(w.teamA);
    const results: MutationResult[] = await w.alice.push([
      mutation('patients', bad),
      mutation('patients', good),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
    expect((results[0] as { reason: string }).reason).toMatch(/NUL character/);
    expect(results[1]!.status).toBe('applied');
    const pulled = await w.bob.pullAll();
    expect(pulled.map((c) => c.id)).toEqual([good.id]);
  });
});
