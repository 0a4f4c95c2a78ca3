import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../app';
import { SESSION_COOKIE } from '../auth/cookie';
import { createPasswordHasher } from '../auth/password';
import { MeResponse } from '../protocol';
import { postgresRepositories } from '../repositories/postgres';
import { rowsOn, rowsOnPg } from '../sync-test-utils';
import {
  DAY,
  errorOf,
  makeTestApp,
  PASSWORD,
  TestClient,
  tempDir,
  testPasswords,
  withAdmin,
} from '../test-utils';

// Through HTTP and the repositories (raw rows where a test needs them), so that the suite runs on
// either dialect (TEST_DB).
async function setup(options?: Parameters<typeof makeTestApp>[0]) {
  const t = await makeTestApp(options);
  onTestFinished(t.close);
  const rows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
  /** The stored sessions: their id (the token's hash) and expiry in ms. */
  const sessions = async () =>
    (await rows('SELECT id, expires_at FROM sessions')).map((r) => ({
      id: String(r.id),
      expiresAt: Number(r.expires_at),
    }));
  /** The audit log, oldest first. */
  const audit = async () =>
    (await t.repos.audit.list({ limit: 10_000 })).map((r) => r.entry).reverse();
  return { ...t, sessions, audit };
}

describe('POST /api/auth/signup', () => {
  it('makes the first account an admin without a code, sets the cookie, returns /me', async () => {
    const { app, repos, sessions } = await setup();
    const client = new TestClient(app);
    const res = await client.signup('  Ada@Example.ORG ', 'Ada');
    expect(res.status).toBe(201);
    const me = MeResponse.parse(await res.json());
    expect(me).toMatchObject({
      user: { email: 'ada@example.org', name: 'Ada' },
      memberships: [],
      isAdmin: true,
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/^fdx_session=[a-z2-7]{32}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain('Max-Age=2592000');
    expect(cookie).not.toContain('Secure');
    // Only the hash of the token is stored.
    const stored = await sessions();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0]!.id).not.toContain(client.token);
    const row = (await repos.accounts.userByEmail('ada@example.org'))!;
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain(PASSWORD);
    expect((await client.get('/api/auth/me')).status).toBe(200);
  });

  it('marks the cookie Secure when the public origin is https', async () => {
    const { app } = await setup({ env: { PUBLIC_ORIGIN: 'https://dx.example.org' } });
    const res = await app.request('/api/auth/signup', {
      method: 'POST',
      headers: { origin: 'https://dx.example.org', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.org', password: PASSWORD, name: 'A' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('requires an invitation after the first account', async () => {
    const { app } = await setup();
    await withAdmin(app);
    const res = await new TestClient(app).signup('bob@example.org');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({
      code: 'invalid_invitation',
      message: 'An invitation code is required',
    });
  });

  it('joins the team and role the invitation fixes, and uses the code up', async () => {
    const { app, repos } = await setup();
    const { createTeam, invite } = await withAdmin(app);
    const teamId = await createTeam('North clinic');
    const code = await invite(teamId, 'supervisor');
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);

    // Any case, with or without dashes.
    const sloppy = code.replace(/-/g, '').toLowerCase();
    const bob = new TestClient(app);
    const res = await bob.signup('bob@example.org', 'Bob', sloppy);
    expect(res.status).toBe(201);
    expect(MeResponse.parse(await res.json())).toMatchObject({
      isAdmin: false,
      memberships: [{ teamId, teamName: 'North clinic', role: 'supervisor' }],
    });

    const again = await new TestClient(app).signup('carol@example.org', 'Carol', code);
    expect(again.status).toBe(400);
    expect(await errorOf(again)).toEqual({
      code: 'invalid_invitation',
      message: 'This invitation has already been used',
    });
    expect(await repos.accounts.userByEmail('carol@example.org')).toBe(undefined);
  });

  it('refuses an unknown, expired or revoked invitation, saying which', async () => {
    const { app, clock } = await setup();
    const { admin, createTeam, invite } = await withAdmin(app);
    const teamId = await createTeam('T');

    const unknown = await new TestClient(app).signup('u@example.org', 'U', 'AAAA-BBBB-CCCC');
    expect(await errorOf(unknown)).toEqual({
      code: 'invalid_invitation',
      message: 'Invitation code not found',
    });

    const revoked = await invite(teamId);
    expect((await admin.delete(`/api/admin/invitations/${revoked}`)).status).toBe(200);
    const r = await new TestClient(app).signup('r@example.org', 'R', revoked);
    expect(r.status).toBe(400);
    expect((await errorOf(r)).message).toBe('This invitation has been revoked');

    const expiring = await invite(teamId, 'clinician', 1);
    clock.advance(DAY + 1);
    const e = await new TestClient(app).signup('e@example.org', 'E', expiring);
    expect(e.status).toBe(400);
    expect((await errorOf(e)).message).toBe('This invitation has expired');
  });

  it('refuses a taken email (any case) with 409 and leaves the invitation unused', async () => {
    const { app } = await setup();
    const { createTeam, invite } = await withAdmin(app);
    const code = await invite(await createTeam('T'));
    const res = await new TestClient(app).signup('ADMIN@example.org', 'Dup', code);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe('email_taken');
    // The code still works for someone else: the transaction rolled back.
    expect((await new TestClient(app).signup('new@example.org', 'New', code)).status).toBe(201);
  });

  it.each([
    [{ password: 'short' }, 'password: must be at least 10 characters'],
    [{ password: 'x'.repeat(257) }, 'password: must be at most 256 characters'],
    [{ password: 'Password123' }, 'password: is too common; choose a less predictable password'],
    [{ password: 'QWERTYUIOP' }, 'password: is too common; choose a less predictable password'],
    [{ email: 'not-an-email' }, 'email: must be a valid email address'],
    [{ email: undefined }, 'email: is required'],
    [{ name: '   ' }, 'name: must not be empty'],
    [{ name: 42 }, 'name: Invalid input: expected string, received number'],
  ])('rejects %j naming the field', async (patch, message) => {
    const { app } = await setup();
    const body = { email: 'a@example.org', password: PASSWORD, name: 'A', ...patch };
    const res = await new TestClient(app).post('/api/auth/signup', body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toEqual({ code: 'invalid_request', message });
  });

  it('lets exactly one of two concurrent first sign-ups become admin', async () => {
    const { app, repos } = await setup();
    const [a, b] = await Promise.all([
      new TestClient(app).signup('a@example.org', 'A'),
      new TestClient(app).signup('b@example.org', 'B'),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 400]);
    const users = await repos.accounts.listUsers();
    expect(users.filter((u) => u.isAdmin)).toHaveLength(1);
    expect(users).toHaveLength(1);
  });

  it('lets exactly one admin through when two connections share one database', async () => {
    const tmp = tempDir();
    onTestFinished(tmp.remove);
    const one = await setup({ file: `${tmp.dir}/fielddx.sqlite` });
    const two = one.pool
      ? { app: await secondInstance(one) }
      : await setup({ file: `${tmp.dir}/fielddx.sqlite` });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        new TestClient(i % 2 ? one.app : two.app).signup(`u${i}@example.org`, `U${i}`),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect((await one.repos.accounts.listUsers()).filter((u) => u.isAdmin)).toHaveLength(1);
  });
});

/** Another app on the same PostgreSQL database, with its own pool: a second server instance. */
async function secondInstance(t: Awaited<ReturnType<typeof setup>>) {
  const { connectionString } = t.pool!.options as { connectionString: string };
  const pool = new pg.Pool({ connectionString, max: 4 });
  onTestFinished(() => pool.end());
  return createApp({
    repos: postgresRepositories(pool),
    env: t.env,
    now: t.clock.now,
    passwords: testPasswords,
  });
}

describe('POST /api/auth/login', () => {
  it('signs in with the right password, any email case', async () => {
    const { app } = await setup();
    await withAdmin(app);
    const client = new TestClient(app);
    const res = await client.login('Admin@Example.org');
    expect(res.status).toBe(200);
    expect(MeResponse.parse(await res.json()).user.email).toBe('admin@example.org');
    expect(client.token).toMatch(/^[a-z2-7]{32}$/);
    expect((await client.get('/api/auth/me')).status).toBe(200);
  });

  it('gives a wrong password and an unknown email the same 401', async () => {
    const { app } = await setup();
    await withAdmin(app);
    const wrong = await new TestClient(app).login('admin@example.org', 'wrong password!');
    const unknown = await new TestClient(app).login('nobody@example.org');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const expected = { code: 'invalid_credentials', message: 'Wrong email or password' };
    expect(await errorOf(wrong)).toEqual(expected);
    expect(await errorOf(unknown)).toEqual(expected);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('takes similar time for an unknown email and a wrong password (production argon2)', async () => {
    const { app } = await setup({ passwords: createPasswordHasher(), env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const time = async (email: string, i: number) => {
      const start = performance.now();
      const res = await new TestClient(app, { 'x-forwarded-for': `10.0.0.${i}` }).login(
        email,
        'wrong password!',
      );
      expect(res.status).toBe(401);
      return performance.now() - start;
    };
    await time('nobody@example.org', 0); // warm-up: the dummy hash is made on first use
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 9; i++) {
      wrong.push(await time('admin@example.org', i));
      unknown.push(await time(`nobody${i}@example.org`, i));
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const [w, u] = [median(wrong), median(unknown)];
    expect(w / u).toBeLessThan(3);
    expect(u / w).toBeLessThan(3);
  });

  it('refuses a disabled account with 403 after checking the password', async () => {
    const { app } = await setup();
    const { admin, member } = await withAdmin(app);
    const bob = await member('bob@example.org');
    expect((await admin.patch(`/api/admin/users/${bob.id}`, { disabled: true })).status).toBe(200);
    const res = await new TestClient(app).login('bob@example.org');
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toEqual({
      code: 'account_disabled',
      message: 'This account has been disabled',
    });
    // Without the password, nobody learns that the account exists and is disabled.
    const wrong = await new TestClient(app).login('bob@example.org', 'wrong password!');
    expect(wrong.status).toBe(401);
  });

  it('delays one account from one IP progressively, with Retry-After', async () => {
    const { app, clock } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const from = new TestClient(app, { 'x-forwarded-for': '10.0.1.1' });
    for (let i = 0; i < 5; i++) {
      expect((await from.login('admin@example.org', `wrong password ${i}`)).status).toBe(401);
    }
    const refused = await from.login('admin@example.org'); // the right password, during the delay
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).code).toBe('rate_limited');
    expect(refused.headers.get('retry-after')).toBe('1');
    clock.advance(1000);
    expect((await from.login('admin@example.org', 'wrong again')).status).toBe(401);
    expect((await from.login('admin@example.org')).headers.get('retry-after')).toBe('2');
    clock.advance(2000);
    expect((await from.login('admin@example.org')).status).toBe(200);
  });

  it('delays an IP guessing across accounts, but not for an account known at that IP', async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const attacker = new TestClient(app, { 'x-forwarded-for': '203.0.113.9' });
    for (let i = 0; i < 10; i++) {
      expect((await attacker.login(`user${i}@example.org`)).status).toBe(401);
    }
    expect((await attacker.login('user10@example.org')).status).toBe(429);
    // The admin never signed in from there: the IP-wide delay applies to them too.
    expect((await attacker.login('admin@example.org')).status).toBe(429);
    // Another IP is not affected.
    const other = new TestClient(app, { 'x-forwarded-for': '198.51.100.7' });
    expect((await other.login('admin@example.org')).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const { app, audit } = await setup();
    await withAdmin(app);
    await new TestClient(app, { 'x-forwarded-for': '1.2.3.4' }).login('admin@example.org');
    const row = (await audit()).find((r) => r.action === 'auth.login')!;
    expect(row.ip).toBe('unknown');
  });
});

describe('sessions', () => {
  it('GET /me is 401 without a session, or with a bogus one', async () => {
    const { app } = await setup();
    const anonymous = await app.request('/api/auth/me');
    expect(anonymous.status).toBe(401);
    expect(await errorOf(anonymous)).toEqual({ code: 'unauthenticated', message: 'Sign in first' });
    const bogus = await app.request('/api/auth/me', {
      headers: { cookie: `${SESSION_COOKIE}=${'a'.repeat(32)}` },
    });
    expect(bogus.status).toBe(401);
    expect(bogus.headers.get('set-cookie')).toMatch(/^fdx_session=;.*Max-Age=0/);
  });

  it('expires after 30 days without use', async () => {
    const { app, clock, sessions } = await setup();
    const { admin } = await withAdmin(app);
    clock.advance(30 * DAY);
    const res = await admin.get('/api/auth/me');
    expect(res.status).toBe(401);
    expect(admin.token).toBeUndefined(); // the cookie was cleared
    expect(await sessions()).toHaveLength(0); // and the row deleted
  });

  it('slides: used after 16 days, the cookie is set again and the expiry extended', async () => {
    const { app, clock, sessions } = await setup();
    const { admin } = await withAdmin(app);
    const token = admin.token;
    const before = (await sessions())[0]!.expiresAt;

    clock.advance(10 * DAY); // 20 days left: nothing to renew
    const early = await admin.get('/api/auth/me');
    expect(early.status).toBe(200);
    expect(early.headers.get('set-cookie')).toBeNull();

    clock.advance(6 * DAY); // 14 days left: renewed
    const res = await admin.get('/api/auth/me');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^fdx_session=[a-z2-7]{32};.*Max-Age=2592000/);
    expect(admin.token).toBe(token); // same token, longer life
    const after = (await sessions())[0]!.expiresAt;
    expect(after).toBe(before + 16 * DAY);

    clock.advance(29 * DAY); // 45 days after sign-up, but 29 after the renewal
    expect((await admin.get('/api/auth/me')).status).toBe(200);
  });

  it('logout deletes the session and clears the cookie; the old token stops working', async () => {
    const { app, sessions } = await setup();
    const { admin } = await withAdmin(app);
    const token = admin.token!;
    const res = await admin.post('/api/auth/logout');
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/^fdx_session=;.*Max-Age=0/);
    expect(await sessions()).toHaveLength(0);
    const replay = await app.request('/api/auth/me', {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(replay.status).toBe(401);
    // Logging out without a session is harmless.
    expect((await new TestClient(app).post('/api/auth/logout')).status).toBe(204);
  });

  it('ends the sessions of a user who is disabled, at once', async () => {
    const { app } = await setup();
    const { admin, member } = await withAdmin(app);
    const bob = await member('bob@example.org');
    const second = new TestClient(app);
    expect((await second.login('bob@example.org')).status).toBe(200);
    expect((await bob.client.get('/api/auth/me')).status).toBe(200);

    await admin.patch(`/api/admin/users/${bob.id}`, { disabled: true });
    expect((await bob.client.get('/api/auth/me')).status).toBe(401);
    expect((await second.get('/api/auth/me')).status).toBe(401);

    // Enabled again, Bob can sign in anew.
    await admin.patch(`/api/admin/users/${bob.id}`, { disabled: false });
    expect((await new TestClient(app).login('bob@example.org')).status).toBe(200);
  });
});

describe('audit log', () => {
  it('records sign-up, login success and failure, logout — without secrets', async () => {
    const { app, audit } = await setup();
    const { admin, adminId } = await withAdmin(app);
    await new TestClient(app).login('admin@example.org', 'wrong password!');
    await new TestClient(app).login('ghost@example.org', 'wrong password!');
    const again = new TestClient(app);
    await again.login('admin@example.org');
    await admin.post('/api/auth/logout');

    const rows = await audit();
    expect(rows.map((r) => [r.action, r.userId])).toEqual([
      ['auth.signup', adminId],
      ['auth.login_failed', adminId],
      ['auth.login_failed', null],
      ['auth.login', adminId],
      ['auth.logout', adminId],
    ]);
    expect(rows[1]!.detail).toEqual({ reason: 'wrong_password' });
    expect(rows[2]!.detail).toEqual({ reason: 'unknown_email' });
    for (const r of rows) {
      expect(r.ip).toBe('unknown');
      expect(r.at).toBeInstanceOf(Date);
    }
    const all = JSON.stringify(rows);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('wrong password!');
    expect(all).not.toContain(again.token);
    expect(all).not.toContain('$argon2');
  });
});
