import { describe, expect, it, onTestFinished } from 'vitest';
import type { PasswordHasher } from '../auth/password';
import { AuditListResponse, ResetCodeResponse } from '../protocol';
import { rowsOn, rowsOnPg } from '../sync-test-utils';
import {
  DAY,
  errorOf,
  makeTestApp,
  PASSWORD,
  TestClient,
  testPasswords,
  withAdmin,
} from '../test-utils';

/* Issue 15: sign out everywhere, change of password, and the admin's one-time reset codes. */

const NEW_PASSWORD = 'a brand new passphrase';

/** A hasher that counts the new-password hashes it makes (the slow part an attacker wants). */
function countingPasswords() {
  const counted = { hashes: 0 };
  const passwords: PasswordHasher = {
    hash: (p) => {
      counted.hashes += 1;
      return testPasswords.hash(p);
    },
    verify: testPasswords.verify,
    verifyDummy: testPasswords.verifyDummy,
  };
  return { counted, passwords };
}

async function setup() {
  const { counted, passwords } = countingPasswords();
  const t = await makeTestApp({ env: { TRUST_PROXY: true }, passwords });
  onTestFinished(t.close);
  const a = await withAdmin(t.app);
  const bob = await a.member('bob@example.org');
  /** Bob's second browser. */
  const bob2 = new TestClient(t.app);
  expect((await bob2.login('bob@example.org')).status).toBe(200);
  counted.hashes = 0; // the sign-ups' hashes
  const actions = async (action: string) =>
    AuditListResponse.parse(await (await a.admin.get(`/api/admin/audit?action=${action}`)).json())
      .entries;
  // Raw rows through the dialect's own driver, so that the suite runs on either (TEST_DB).
  const rows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
  const log = async () => JSON.stringify(await t.repos.audit.list({ limit: 10_000 }));
  return { ...t, ...a, bob, bob2, counted, actions, rows, log };
}

describe('POST /api/auth/logout-all', () => {
  it('ends every session of the user, this one included, and no one else’s', async () => {
    const w = await setup();
    const res = await w.bob.client.post('/api/auth/logout-all');
    expect(res.status).toBe(204);
    expect(w.bob.client.token).toBeUndefined(); // the cookie is cleared
    expect((await w.bob2.get('/api/auth/me')).status).toBe(401);
    expect(await w.rows('SELECT id FROM sessions WHERE user_id = ?', w.bob.id)).toEqual([]);
    expect((await w.admin.get('/api/auth/me')).status).toBe(200);
    expect(await w.actions('auth.logout_all')).toMatchObject([
      { userId: w.bob.id, detail: { sessionsEnded: 2 } },
    ]);
    const anonymous = await new TestClient(w.app).post('/api/auth/logout-all');
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /api/auth/password', () => {
  it('changes the password, ends the other sessions, keeps this one; audited', async () => {
    const w = await setup();
    const res = await w.bob.client.post('/api/auth/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(res.status).toBe(204);
    expect((await w.bob.client.get('/api/auth/me')).status).toBe(200);
    expect((await w.bob2.get('/api/auth/me')).status).toBe(401);
    expect((await new TestClient(w.app).login('bob@example.org')).status).toBe(401);
    expect((await new TestClient(w.app).login('bob@example.org', NEW_PASSWORD)).status).toBe(200);
    expect(await w.actions('auth.password_change')).toMatchObject([
      { userId: w.bob.id, target: w.bob.id, detail: { otherSessionsEnded: 1 } },
    ]);
    expect(await w.log()).not.toContain(NEW_PASSWORD);
  });

  it('answers bad input with a 400 naming the field, as sign-up’s policy does', async () => {
    const w = await setup();
    for (const [body, message] of [
      [{ newPassword: NEW_PASSWORD }, 'currentPassword: is required'],
      [{ currentPassword: PASSWORD }, 'newPassword: is required'],
      [
        { currentPassword: PASSWORD, newPassword: 'short' },
        'newPassword: must be at least 10 characters',
      ],
      [
        { currentPassword: PASSWORD, newPassword: 'aaaaaaaaaaaa' },
        'newPassword: must use at least 3 different characters',
      ],
      [
        { currentPassword: PASSWORD, newPassword: 'password123' },
        'newPassword: is too common; choose a less predictable password',
      ],
      [
        { currentPassword: PASSWORD, newPassword: 'bob@example.org' },
        'newPassword: must not be your email address',
      ],
      [{ currentPassword: '', newPassword: NEW_PASSWORD }, 'currentPassword: must not be empty'],
      [{ currentPassword: 7, newPassword: NEW_PASSWORD }, 'currentPassword: is required'],
    ] as const) {
      const res = await w.bob.client.post('/api/auth/password', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res), JSON.stringify(body)).toEqual({
        code: 'invalid_request',
        message,
      });
    }
    expect(w.counted.hashes).toBe(0);
    const anonymous = await new TestClient(w.app).post('/api/auth/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(anonymous.status).toBe(401);
  });

  it('refuses a wrong current password with 401, throttled like sign-in, counted before hashing', async () => {
    const w = await setup();
    const wrong = { currentPassword: 'not my password', newPassword: NEW_PASSWORD };
    const first = await w.bob.client.post('/api/auth/password', wrong);
    expect(first.status).toBe(401);
    expect(await errorOf(first)).toEqual({
      code: 'invalid_credentials',
      message: 'The current password is wrong',
    });
    // 20 more at once from the same session: the attempts reserve their place before the hash.
    const all = await Promise.all(
      Array.from({ length: 20 }, () => w.bob.client.post('/api/auth/password', wrong)),
    );
    const statuses = all.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // During the delay even the right password waits, and sign-in counts the same failures.
    const right = await w.bob.client.post('/api/auth/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(right.status).toBe(429);
    expect(right.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await new TestClient(w.app).login('bob@example.org')).status).toBe(429);
    expect(w.counted.hashes).toBe(0);
    expect((await w.actions('auth.password_change_failed')).length).toBeLessThanOrEqual(5);
  });
});

describe('password reset codes', () => {
  async function issue(w: Awaited<ReturnType<typeof setup>>, userId: string) {
    const res = await w.admin.post(`/api/admin/users/${userId}/reset-code`);
    expect(res.status).toBe(201);
    return ResetCodeResponse.parse(await res.json());
  }
  const reset = (client: TestClient, email: string, code: string, newPassword = NEW_PASSWORD) =>
    client.post('/api/auth/reset', { email, code, newPassword });

  it('works once: the password changes and every session ends; stored hashed, never logged', async () => {
    const w = await setup();
    const { code, expiresAt } = await issue(w, w.bob.id);
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(expiresAt).toBe(new Date(w.clock.now().getTime() + DAY).toISOString());
    const stored = await w.rows('SELECT * FROM password_reset_codes');
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(code);
    expect(JSON.stringify(stored)).not.toContain(code.replaceAll('-', ''));

    const anyone = new TestClient(w.app);
    // Typed in lower case without dashes, as people do.
    const res = await reset(anyone, 'Bob@Example.org', code.replaceAll('-', '').toLowerCase());
    expect(res.status).toBe(204);
    expect((await w.bob.client.get('/api/auth/me')).status).toBe(401);
    expect((await w.bob2.get('/api/auth/me')).status).toBe(401);
    expect((await new TestClient(w.app).login('bob@example.org')).status).toBe(401);
    expect((await new TestClient(w.app).login('bob@example.org', NEW_PASSWORD)).status).toBe(200);

    const again = await reset(anyone, 'bob@example.org', code, 'yet another passphrase');
    expect(again.status).toBe(400);
    expect((await errorOf(again)).code).toBe('invalid_reset_code');
    expect(await w.actions('auth.reset_code_create')).toMatchObject([
      { userId: w.adminId, target: w.bob.id },
    ]);
    expect(await w.actions('auth.password_reset')).toMatchObject([
      { userId: w.bob.id, target: w.bob.id },
    ]);
    expect(await w.actions('auth.password_reset_failed')).toMatchObject([
      { detail: { reason: 'used' } },
    ]);
    const log = await w.log();
    expect(log).not.toContain(code);
    expect(log).not.toContain(NEW_PASSWORD);
  });

  it('expires after 24 hours, and a newer code replaces an older one', async () => {
    const w = await setup();
    const old = await issue(w, w.bob.id);
    const newer = await issue(w, w.bob.id);
    const replaced = await reset(new TestClient(w.app), 'bob@example.org', old.code);
    expect(replaced.status).toBe(400);
    w.clock.advance(DAY);
    const expired = await reset(new TestClient(w.app), 'bob@example.org', newer.code);
    expect(expired.status).toBe(400);
    expect(await errorOf(expired)).toMatchObject({ code: 'invalid_reset_code' });
    expect((await w.actions('auth.password_reset_failed')).map((e) => e.detail!.reason)).toEqual([
      'expired',
      'replaced',
    ]);
    expect(w.counted.hashes).toBe(0);
  });

  it('answers an unknown email, a wrong code or another user’s code alike; bad input is a 400', async () => {
    const w = await setup();
    const carol = await w.member('carol@example.org');
    const { code } = await issue(w, carol.id);
    for (const [email, c] of [
      ['nobody@example.org', code],
      ['bob@example.org', code],
      ['carol@example.org', 'ABCD-EFGH-JKMN'],
    ]) {
      const res = await reset(new TestClient(w.app), email!, c!);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(/do not match a valid code/);
    }
    for (const [body, message] of [
      [{ email: 'carol@example.org', newPassword: NEW_PASSWORD }, 'code: is required'],
      [{ email: 'x', code, newPassword: NEW_PASSWORD }, 'email: must be a valid email address'],
      [
        { email: 'carol@example.org', code, newPassword: 'short' },
        'newPassword: must be at least 10 characters',
      ],
      [
        { email: 'carol@example.org', code, newPassword: 'carol@example.org!' },
        'newPassword: must not be your email address',
      ],
    ] as const) {
      const res = await new TestClient(w.app).post('/api/auth/reset', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).message).toBe(message);
    }
    // The code still works after all that.
    expect((await reset(new TestClient(w.app), 'carol@example.org', code)).status).toBe(204);
    // Only admins issue codes, for users that exist.
    expect((await w.bob.client.post(`/api/admin/users/${carol.id}/reset-code`)).status).toBe(403);
    expect((await w.admin.post('/api/admin/users/nobody/reset-code')).status).toBe(404);
  });

  it('is rate-limited per account and IP before any hash: 40 guesses at once', async () => {
    const w = await setup();
    const { code } = await issue(w, w.bob.id);
    const attacker = { 'x-forwarded-for': '203.0.113.9' };
    const all = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        reset(
          new TestClient(w.app, attacker),
          'bob@example.org',
          `WRNG-CODE-${String(i).padStart(4, 'A')}`,
        ),
      ),
    );
    const statuses = all.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(30);
    expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
    // Even the right code waits out the delay from that IP, and no password was hashed.
    const right = await reset(new TestClient(w.app, attacker), 'bob@example.org', code);
    expect(right.status).toBe(429);
    expect(w.counted.hashes).toBe(0);
    // Across accounts from one IP (spraying) too.
    const spray = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        reset(
          new TestClient(w.app, { 'x-forwarded-for': '198.51.100.7' }),
          `u${i}@example.org`,
          code,
        ),
      ),
    );
    expect(spray.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(15);
    // Bob's own sign-in is not blocked by the reset guesses of someone else.
    expect(
      (await new TestClient(w.app, { 'x-forwarded-for': '192.0.2.1' }).login('bob@example.org'))
        .status,
    ).toBe(200);
  });

  it('works once even when sent twice at once', async () => {
    const w = await setup();
    const { code } = await issue(w, w.bob.id);
    const both = await Promise.all([
      reset(new TestClient(w.app), 'bob@example.org', code, 'first new passphrase'),
      reset(new TestClient(w.app), 'bob@example.org', code, 'second new passphrase'),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([204, 400]);
  });
});
