/**
 * Stateless instances, as processes: two real servers (`tsx src/index.ts`) on one DATA_DIR. Unlike
 * two apps in one test process (instances.test.ts), they share no module state either, and their
 * requests run truly at the same time, so this also catches state kept at module level and a
 * check-then-reserve that is not atomic across connections.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ServerInstance } from '../test/cluster';
import { SESSION_COOKIE } from './auth/cookie';
import { LOGIN_FREE_FAILURES } from './auth/rate-limit';
import { SIGNUP_MAX_FAILURES } from './services/auth';
import { PASSWORD, sessionCookieOf, tempDir } from './test-utils';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function start(dataDir: string): Promise<ServerInstance> {
  const server = await ServerInstance.start({
    dataDir,
    // Both answer for one public address, as behind a reverse proxy.
    publicOrigin: 'http://fielddx.test',
    env: { TRUST_PROXY: 'true' },
  });
  cleanups.push(() => server.stop('SIGKILL'));
  return server;
}

function call(
  server: ServerInstance,
  method: string,
  url: string,
  { body, token, ip }: { body?: unknown; token?: string; ip: string },
) {
  const headers: Record<string, string> = {
    origin: 'http://fielddx.test',
    'content-type': 'application/json',
    'x-forwarded-for': ip,
  };
  if (token) headers.cookie = `${SESSION_COOKIE}=${token}`;
  return fetch(`${server.origin}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const countOf = (list: number[], status: number) => list.filter((s) => s === status).length;

describe('two server processes on one data folder', () => {
  it('share sessions, sign-in throttling and the sign-up limit', async () => {
    const data = tempDir('fdx-instances-proc-');
    cleanups.push(data.remove);
    // One after the other: the first applies the migrations.
    const a = await start(data.dir);
    const b = await start(data.dir);
    const home = '192.0.2.1';

    const signup = await call(a, 'POST', '/api/auth/signup', {
      body: { email: 'admin@example.org', password: PASSWORD, name: 'Ada' },
      ip: home,
    });
    expect(signup.status).toBe(201);
    const token = sessionCookieOf(signup)!;
    expect((await call(b, 'GET', '/api/auth/me', { token, ip: home })).status).toBe(200);
    expect((await call(a, 'POST', '/api/auth/logout', { token, ip: home })).status).toBe(204);
    expect((await call(b, 'GET', '/api/auth/me', { token, ip: home })).status).toBe(401);

    // 40 wrong passwords at once, spread over both processes, from one IP: the attempts are
    // reserved before the (production-cost) hash, so at most the free ones reach it, whichever
    // process they land on.
    const bot = '203.0.113.9';
    const logins = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(i % 2 ? a : b, 'POST', '/api/auth/login', {
          body: { email: 'admin@example.org', password: `wrong guess ${i}` },
          ip: bot,
        }).then((r) => r.status),
      ),
    );
    expect(countOf(logins, 401) + countOf(logins, 429)).toBe(40);
    expect(countOf(logins, 401)).toBeLessThanOrEqual(LOGIN_FREE_FAILURES.pair + 2);
    // The owner, from the IP they signed up at, is not held back by it.
    const owner = await call(b, 'POST', '/api/auth/login', {
      body: { email: 'admin@example.org', password: PASSWORD },
      ip: home,
    });
    expect(owner.status).toBe(200);

    // Failed sign-ups at once on both: one limit per IP between them.
    const stranger = '203.0.113.10';
    const signups = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(i % 2 ? a : b, 'POST', '/api/auth/signup', {
          body: {
            email: `s${i}@example.org`,
            password: PASSWORD,
            name: 'S',
            invitationCode: 'WRONG-CODE-0000',
          },
          ip: stranger,
        }).then((r) => r.status),
      ),
    );
    expect(countOf(signups, 400)).toBe(SIGNUP_MAX_FAILURES);
    expect(countOf(signups, 429)).toBe(30 - SIGNUP_MAX_FAILURES);
  }, 120_000);
});
