// Stateless instances (issue 17): two server apps, each with its own connection, on one SQLite
// file, as two instances behind one address would be. Whatever one instance learns about a
// session, a failed attempt or an invitation, the other must know on the next request.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from './app';
import { openDatabase, type OpenedDatabase } from './db/connection';
import { LOGIN_FREE_FAILURES } from './auth/rate-limit';
import { SIGNUP_MAX_FAILURES } from './services/auth';
import {
  errorOf,
  MINUTE,
  PASSWORD,
  tempDir,
  TestClient,
  TestClock,
  testEnv,
  testPasswords,
  withAdmin,
  type TestApp,
} from './test-utils';
import { sqliteRepositories } from './repositories/sqlite';

let folder: ReturnType<typeof tempDir>;
let opened: OpenedDatabase[];
let clock: TestClock;
let a: TestApp;
let b: TestApp;

function instance(file: string): TestApp {
  const database = openDatabase(file);
  opened.push(database);
  return createApp({
    repos: sqliteRepositories(database.db),
    env: testEnv({ TRUST_PROXY: true }),
    now: clock.now,
    passwords: testPasswords,
  });
}

beforeEach(() => {
  folder = tempDir('fdx-instances-');
  opened = [];
  clock = new TestClock();
  const file = path.join(folder.dir, 'fielddx.sqlite');
  a = instance(file);
  b = instance(file);
});
afterEach(() => {
  for (const database of opened) database.close();
  folder.remove();
});

/** One browser whose requests land on either instance, as a load balancer would spread them. */
function onBoth(headers: Record<string, string> = {}) {
  const onA = new TestClient(a, headers);
  const onB = new TestClient(b, headers);
  return {
    a: onA,
    b: onB,
    /** Carries the session cookie from one to the other. */
    share(from: TestClient, to: TestClient) {
      to.token = from.token;
    },
  };
}

describe('two instances on one database', () => {
  it('a session made on A is valid on B, and signing out on A ends it on B', async () => {
    await withAdmin(a);
    const user = onBoth();
    expect((await user.a.login('admin@example.org')).status).toBe(200);
    user.share(user.a, user.b);
    expect((await user.b.get('/api/auth/me')).status).toBe(200);

    expect((await user.a.post('/api/auth/logout')).status).toBe(204);
    expect((await user.b.get('/api/auth/me')).status).toBe(401);
  });

  it('signing out everywhere on B ends the sessions made on A', async () => {
    await withAdmin(a);
    const tablet = new TestClient(a);
    expect((await tablet.login('admin@example.org')).status).toBe(200);
    const phone = new TestClient(b);
    expect((await phone.login('admin@example.org')).status).toBe(200);
    expect((await phone.post('/api/auth/logout-all')).status).toBe(204);
    expect((await tablet.get('/api/auth/me')).status).toBe(401);
  });

  it('failed sign-ins on A count on B: the delay holds there, even for the right password', async () => {
    await withAdmin(a);
    const bot = onBoth({ 'x-forwarded-for': '198.51.100.7' });
    for (let i = 0; i < LOGIN_FREE_FAILURES.pair; i++) {
      const on = i % 2 === 0 ? bot.a : bot.b;
      expect((await on.login('admin@example.org', `wrong ${i}`)).status).toBe(401);
    }
    const refused = await bot.b.login('admin@example.org', PASSWORD);
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).code).toBe('rate_limited');
    expect((await bot.a.login('admin@example.org', PASSWORD)).status).toBe(429);
    clock.advance(1_000);
    expect((await bot.b.login('admin@example.org', PASSWORD)).status).toBe(200);
  });

  it('failed sign-ups on A and B add up to one limit per IP', async () => {
    await withAdmin(a);
    const stranger = onBoth({ 'x-forwarded-for': '198.51.100.8' });
    for (let i = 0; i < SIGNUP_MAX_FAILURES; i++) {
      const on = i % 2 === 0 ? stranger.a : stranger.b;
      expect((await on.signup(`s${i}@example.org`, 'S', 'WRONG-CODE-0000')).status).toBe(400);
    }
    for (const on of [stranger.a, stranger.b]) {
      const res = await on.signup('late@example.org', 'S', 'WRONG-CODE-0000');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBe(15 * 60);
    }
    // Another IP is not held back by them.
    const other = new TestClient(b, { 'x-forwarded-for': '198.51.100.9' });
    expect((await other.signup('o@example.org', 'O', 'WRONG-CODE-0000')).status).toBe(400);
    clock.advance(15 * MINUTE);
    expect((await stranger.b.signup('s@example.org', 'S', 'WRONG-CODE-0000')).status).toBe(400);
  });

  it('a successful sign-up on B frees its reservation for A too', async () => {
    const { createTeam, invite } = await withAdmin(a);
    const team = await createTeam('Ward');
    const visitor = onBoth({ 'x-forwarded-for': '198.51.100.10' });
    for (let i = 0; i < SIGNUP_MAX_FAILURES - 1; i++) {
      expect((await visitor.a.signup(`f${i}@example.org`, 'F', 'WRONG-CODE-0000')).status).toBe(
        400,
      );
    }
    const code = await invite(team);
    expect((await visitor.b.signup('ok@example.org', 'Ok', code)).status).toBe(201);
    // Nine failures and a success: one more failure is still allowed, the one after is not,
    // whichever instance they reach.
    expect((await visitor.b.signup('x@example.org', 'X', 'WRONG-CODE-0000')).status).toBe(400);
    expect((await visitor.a.signup('y@example.org', 'Y', 'WRONG-CODE-0000')).status).toBe(429);
  });

  it('an invitation made on A is redeemed on B, once', async () => {
    const { createTeam, invite } = await withAdmin(a);
    const code = await invite(await createTeam('Ward'));
    expect((await new TestClient(b).signup('n1@example.org', 'N', code)).status).toBe(201);
    const again = await new TestClient(a).signup('n2@example.org', 'N', code);
    expect(again.status).toBe(400);
    expect((await errorOf(again)).code).toBe('invalid_invitation');
  });

  it('failed password resets on A count on B', async () => {
    await withAdmin(a);
    const guesser = onBoth({ 'x-forwarded-for': '198.51.100.11' });
    const reset = (on: TestClient, code: string) =>
      on.post('/api/auth/reset', {
        email: 'admin@example.org',
        code,
        newPassword: 'a brand new passphrase 7',
      });
    for (let i = 0; i < LOGIN_FREE_FAILURES.pair; i++) {
      expect((await reset(guesser.a, `ABCD-EFGH-${String(i).padStart(4, '0')}`)).status).toBe(400);
    }
    expect((await reset(guesser.b, 'ABCD-EFGH-9999')).status).toBe(429);
  });
});
