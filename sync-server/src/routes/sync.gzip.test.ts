/**
 * Compressed pushes (issue 17): POST /api/sync/push accepts `Content-Encoding: gzip`, applies the
 * 5 MiB limit to the inflated body, refuses other encodings (415), bad gzip (400) and bombs (413).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SESSION_COOKIE } from '../auth/cookie';
import { PUSH_BODY_LIMIT, PushResponse, type MutationResult } from '../protocol';
import { mutation, patient, syncWorld, type SyncClient } from '../sync-test-utils';
import { ORIGIN } from '../test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

function postRaw(who: SyncClient, body: Uint8Array, headers: Record<string, string>) {
  return who.client.app.request('/api/sync/push', {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      'content-type': 'application/json',
      cookie: `${SESSION_COOKIE}=${who.client.token}`,
      ...headers,
    },
    body: new Uint8Array(body),
  });
}

const gzipped = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value)));

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.message;
}

describe('compressed pushes', () => {
  it('still refuses a record holding U+0000 alone, and stores a literal backslash-u0000 as text', async () => {
    // gzipBody skips the per-record search when the bytes hold no \u0000 escape (context.ts).
    const w = await setup();
    const bad = patient(w.teamA, { notes: 'Ama\u0000' });
    const literal = patient(w.teamA, { notes: 'C:\\u0000 is not a NUL' });
    const good = patient(w.teamA);
    const body = {
      deviceId: w.alice.deviceId,
      mutations: [bad, literal, good].map((p) => mutation('patients', p)),
    };
    const res = await postRaw(w.alice, gzipped(body), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: MutationResult[] };
    expect(results.map((r) => r.status)).toEqual(['rejected', 'applied', 'applied']);
    expect((results[0] as { reason: string }).reason).toMatch(/NUL character/);
    const pulled = await w.bob.pullAll();
    expect(pulled.find((c) => c.id === literal.id)?.record.notes).toBe('C:\\u0000 is not a NUL');
  });

  it('applies a gzip-encoded push exactly as a plain one', async () => {
    const w = await setup();
    const ps = [0, 1, 2].map(() => patient(w.teamA));
    const body = { deviceId: w.alice.deviceId, mutations: ps.map((p) => mutation('patients', p)) };
    const res = await postRaw(w.alice, gzipped(body), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const { results } = PushResponse.parse(await res.json());
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    expect((await w.bob.pullAll()).map((c) => c.id)).toEqual(ps.map((p) => p.id));
    // `identity` is the same as no encoding.
    const plain = {
      deviceId: w.alice.deviceId,
      mutations: [mutation('patients', patient(w.teamA))],
    };
    const res2 = await postRaw(w.alice, Buffer.from(JSON.stringify(plain)), {
      'content-encoding': 'identity',
    });
    expect(res2.status).toBe(200);
  });

  it('accepts a gzip push that inflates past 1 MiB (the other routes’ limit) but within 5 MiB', async () => {
    const w = await setup();
    const notes = 'x'.repeat(20_000);
    const mutations = Array.from({ length: 150 }, () =>
      mutation('patients', patient(w.teamA, { notes })),
    );
    const body = gzipped({ deviceId: w.alice.deviceId, mutations });
    expect(body.byteLength).toBeLessThan(200_000);
    const res = await postRaw(w.alice, body, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const { results } = PushResponse.parse(await res.json());
    expect(results.every((r) => r.status === 'applied')).toBe(true);
  });

  it('applies the 5 MiB limit to the inflated body', async () => {
    const w = await setup();
    const notes = 'x'.repeat(60_000);
    const mutations = Array.from({ length: 100 }, () =>
      mutation('patients', patient(w.teamA, { notes })),
    );
    const body = gzipped({ deviceId: w.alice.deviceId, mutations });
    expect(body.byteLength).toBeLessThan(PUSH_BODY_LIMIT / 20);
    const res = await postRaw(w.alice, body, { 'content-encoding': 'gzip' });
    expect(await expectError(res, 413, 'payload_too_large')).toMatch(/5 MiB/);
  });

  it('refuses a tiny gzip that inflates to a gigabyte quickly, without holding it in memory', async () => {
    const w = await setup();
    // Concatenated gzip members are one valid gzip stream: 1,000 × 1 MiB of zeros ≈ 1 MB sent.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 1000 }, () => member));
    expect(bomb.byteLength).toBeLessThan(1.1 * 1024 * 1024);
    global.gc?.();
    const before = process.memoryUsage();
    const t0 = performance.now();
    const res = await postRaw(w.alice, bomb, { 'content-encoding': 'gzip' });
    const ms = performance.now() - t0;
    await expectError(res, 413, 'payload_too_large');
    const after = process.memoryUsage();
    // Inflating stops at the limit (5 MiB), far from the gigabyte.
    expect(ms).toBeLessThan(5000);
    expect(after.rss - before.rss).toBeLessThan(200 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a compressed body larger than the limit before inflating it', async () => {
    const w = await setup();
    const res = await postRaw(w.alice, Buffer.alloc(PUSH_BODY_LIMIT + 1), {
      'content-encoding': 'gzip',
    });
    await expectError(res, 413, 'payload_too_large');
  });

  it('answers a body that is not gzip, or is cut short, with 400', async () => {
    const w = await setup();
    const garbage = await postRaw(w.alice, Buffer.from('{"deviceId":"not gzip"}'), {
      'content-encoding': 'gzip',
    });
    expect(await expectError(garbage, 400, 'invalid_request')).toMatch(/gzip/);
    const whole = gzipped({ deviceId: w.alice.deviceId, mutations: [] });
    const cut = await postRaw(w.alice, whole.subarray(0, whole.byteLength - 6), {
      'content-encoding': 'gzip',
    });
    await expectError(cut, 400, 'invalid_request');
    // Valid gzip of something that is not JSON: the usual invalid_json.
    const notJson = await postRaw(w.alice, gzipSync(Buffer.from('{nope')), {
      'content-encoding': 'gzip',
    });
    await expectError(notJson, 400, 'invalid_json');
  });

  it('refuses other encodings with 415', async () => {
    const w = await setup();
    const body = gzipped({ deviceId: w.alice.deviceId, mutations: [] });
    for (const encoding of ['br', 'deflate', 'gzip, br', 'compress']) {
      const res = await postRaw(w.alice, body, { 'content-encoding': encoding });
      await expectError(res, 415, 'unsupported_media_type');
    }
  });

  it('asks for a session before inflating anything', async () => {
    const w = await setup();
    const res = await w.alice.client.app.request('/api/sync/push', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipped({ deviceId: w.alice.deviceId, mutations: [] }),
    });
    expect(res.status).toBe(401);
  });
});
