import { hc } from 'hono/client';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AppType } from './app';
import { createLogger } from './logger';
import { ErrorBody, HealthResponse, TeamListResponse } from './protocol';
import {
  errorOf,
  makeTestApp,
  ORIGIN,
  PASSWORD,
  TEST_DB,
  TestClient,
  withAdmin,
} from './test-utils';

async function setup(options?: Parameters<typeof makeTestApp>[0]) {
  const t = await makeTestApp(options);
  onTestFinished(t.close);
  return t;
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('GET /api/health', () => {
  it('answers ok with the security headers and no caching', async () => {
    const { app } = await setup();
    const res = await app.request('/api/health');
    expect(res.status).toBe(200);
    expect(HealthResponse.parse(await res.json())).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'self'; /);
  });
});

describe('compression', () => {
  it('gzips API JSON when the client accepts it', async () => {
    const { app } = await setup();
    const { admin, createTeam } = await withAdmin(app);
    for (let i = 0; i < 20; i++) await createTeam(`Team number ${i}`);
    const res = await admin.get('/api/admin/teams', { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString());
    expect(TeamListResponse.parse(body).teams).toHaveLength(20);
  });
});

describe('errors', () => {
  it('answers an unknown /api path with a JSON 404', async () => {
    const { app } = await setup();
    const res = await app.request('/api/nothing/here?x=1');
    expect(res.status).toBe(404);
    expect(ErrorBody.parse(await res.json())).toEqual({
      error: { code: 'not_found', message: 'No route for GET /api/nothing/here' },
    });
  });

  it('refuses a state-changing request from a foreign origin or without one (403)', async () => {
    const { app } = await setup();
    const body = { email: 'a@example.org', password: PASSWORD, name: 'A' };
    const foreign = await app.request(
      '/api/auth/signup',
      json(body, { origin: 'https://evil.example' }),
    );
    expect(foreign.status).toBe(403);
    expect(await errorOf(foreign)).toEqual({
      code: 'forbidden_origin',
      message: 'Requests from this origin are not allowed',
    });
    const missing = await app.request('/api/auth/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(missing.status).toBe(403);
    expect((await errorOf(missing)).code).toBe('forbidden_origin');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await app.request('/api/admin/teams/x', { method });
      expect(res.status, method).toBe(403);
    }
    // Nothing happened.
    const ok = await app.request('/api/auth/signup', json(body));
    expect(ok.status).toBe(201);
  });

  it('allows a LAN address once PUBLIC_ORIGIN names it (the Host header is not trusted)', async () => {
    const { app } = await setup({ env: { PUBLIC_ORIGIN: 'http://192.168.1.20:8787' } });
    const res = await app.request(
      'http://192.168.1.20:8787/api/auth/signup',
      json(
        { email: 'a@example.org', password: PASSWORD, name: 'A' },
        { origin: 'http://192.168.1.20:8787', host: '192.168.1.20:8787' },
      ),
    );
    expect(res.status).toBe(201);
  });

  it('refuses a body over 1 MiB with 413, with or without Content-Length', async () => {
    const { app } = await setup();
    const big = JSON.stringify({
      email: 'a@example.org',
      password: PASSWORD,
      name: 'x'.repeat(1 << 20),
    });
    const withLength = await app.request(
      '/api/auth/signup',
      json(big, { 'content-length': String(Buffer.byteLength(big)) }),
    );
    expect(withLength.status).toBe(413);
    expect(await errorOf(withLength)).toEqual({
      code: 'payload_too_large',
      message: 'The request body is larger than 1 MiB',
    });
    const streamed = await app.request('/api/auth/signup', json(big));
    expect(streamed.status).toBe(413);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const { app } = await setup();
    const res = await app.request('/api/auth/login', json('{"email": "a@example.org",'));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({
      code: 'invalid_json',
      message: 'The request body is not valid JSON',
    });
  });

  it('answers a schema violation with 400 naming the field', async () => {
    const { app } = await setup();
    const res = await app.request(
      '/api/auth/signup',
      json({ email: 'a@example.org', password: 'short', name: 'A' }),
    );
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({
      code: 'invalid_request',
      message: 'password: must be at least 10 characters',
    });
    const notObject = await app.request('/api/auth/login', json('[1,2]'));
    expect(await errorOf(notObject)).toEqual({
      code: 'invalid_request',
      message: 'The body must be a JSON object',
    });
  });

  it('answers a body that is not JSON with 415', async () => {
    const { app } = await setup();
    const res = await app.request('/api/auth/login', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'text/plain' },
      body: 'email=a@example.org',
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
  });

  it('turns an unexpected failure into 500 internal without a stack, and logs it', async () => {
    const lines: string[] = [];
    const { app, close } = await setup({ logger: createLogger('error', (l) => lines.push(l)) });
    await close(); // every query now throws
    const res = await app.request('/api/auth/login', json({ email: 'a@b.org', password: 'x' }));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal', message: 'Something went wrong on the server' },
    });
    expect(text).not.toMatch(/at |\.ts|database/i);
    expect(res.headers.get('content-security-policy')).toBeTruthy();
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged[0]).toMatchObject({ level: 'error', msg: 'unhandled error' });
    expect(logged[0].error).toMatch(
      TEST_DB === 'postgres' ? /Failed query/ : /database connection is not open/,
    );
  });
});

describe('request logging', () => {
  it('writes one JSON line per request, without query, bodies, cookies or tokens', async () => {
    const lines: string[] = [];
    const { app } = await setup({ logger: createLogger('info', (l) => lines.push(l)) });
    const { admin, adminId } = await withAdmin(app);
    await admin.get('/api/auth/me?secret=abc');
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'POST',
      path: '/api/auth/signup',
      status: 201,
      userId: null,
    });
    expect(logged[1]).toMatchObject({ path: '/api/auth/me', status: 200, userId: adminId });
    expect(typeof logged[1].ms).toBe('number');
    expect(typeof logged[1].time).toBe('string');
    const all = lines.join('\n');
    expect(all).not.toContain('secret');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(admin.token);
  });

  it('honours the level', async () => {
    const lines: string[] = [];
    const { app } = await setup({ logger: createLogger('warn', (l) => lines.push(l)) });
    await app.request('/api/health');
    expect(lines).toEqual([]);
  });
});

describe('hono/client', () => {
  it('calls the typed routes of AppType', async () => {
    const { app } = await setup();
    const client = new TestClient(app);
    const api = hc<AppType>('http://localhost:8787', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        client.request(
          init?.method ?? 'GET',
          String(input),
          init?.body ? JSON.parse(String(init.body)) : undefined,
        ),
    });
    const health = await api.api.health.$get();
    expect(await health.json()).toEqual({ status: 'ok' });
    const signup = await api.api.auth.signup.$post({
      json: { email: 'ada@example.org', password: PASSWORD, name: 'Ada' },
    });
    expect(signup.status).toBe(201);
    const me = await api.api.auth.me.$get();
    if (me.status !== 200) throw new Error('expected 200');
    const body = await me.json();
    expect(body.user.email).toBe('ada@example.org'); // typed: body.user.email is a string
    expect(body.isAdmin).toBe(true);
    const team = await api.api.admin.teams.$post({ json: { name: 'Typed team' } });
    expect(team.status).toBe(201);
  });
});
