import { describe, expect, it, onTestFinished } from 'vitest';
import type { PasswordHasher } from '../auth/password';
import { errorOf, makeTestApp, TestClient, testPasswords, withAdmin } from '../test-utils';

async function setup(options?: Parameters<typeof makeTestApp>[0]) {
  const t = await makeTestApp(options);
  onTestFinished(t.close);
  return t;
}

const statuses = async (responses: Promise<Response>[]) =>
  (await Promise.all(responses)).map((r) => r.status);
const countOf = (list: number[], status: number) => list.filter((s) => s === status).length;

describe('login rate limit under concurrency (adversarial test, hole 2)', () => {
  it('40 wrong passwords at once for one account: the attempts are counted before the hash', async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const all = await statuses(
      Array.from({ length: 40 }, (_, i) =>
        new TestClient(app, { 'x-forwarded-for': '10.9.0.1' }).login(
          'admin@example.org',
          `wrong password ${i}`,
        ),
      ),
    );
    expect(countOf(all, 429)).toBeGreaterThanOrEqual(30);
    expect(countOf(all, 401) + countOf(all, 429)).toBe(40);
  });

  it('40 wrong passwords at once from one IP across accounts', async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const attacker = { 'x-forwarded-for': '203.0.113.50' };
    const all = await statuses(
      Array.from({ length: 40 }, (_, i) =>
        new TestClient(app, attacker).login(`user${i}@example.org`, 'wrong password'),
      ),
    );
    expect(countOf(all, 429)).toBeGreaterThanOrEqual(20);
  });
});

describe('sign-up (adversarial test, hole 3)', () => {
  /** A hasher that counts the hashes it makes. */
  function countingPasswords() {
    const counted = { hashes: 0 };
    const inner = testPasswords;
    const passwords: PasswordHasher = {
      hash: (p) => {
        counted.hashes += 1;
        return inner.hash(p);
      },
      verify: inner.verify,
      verifyDummy: inner.verifyDummy,
    };
    return { counted, passwords };
  }

  it('checks the invitation code before hashing the password', async () => {
    const { counted, passwords } = countingPasswords();
    const { app } = await setup({ passwords, env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const before = counted.hashes;
    const res = await new TestClient(app, { 'x-forwarded-for': '10.1.1.1' }).signup(
      'eve@example.org',
      'Eve',
      'AAAA-BBBB-CCCC',
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_invitation');
    expect(counted.hashes).toBe(before);
  });

  it('rate-limits failed sign-ups per IP, 50 at once, and audits the failures', async () => {
    const { counted, passwords } = countingPasswords();
    const { app, repos } = await setup({ passwords, env: { TRUST_PROXY: true } });
    const entries = async (action: 'auth.signup_failed' | 'auth.signup_rate_limited') =>
      (await repos.audit.list({ action, limit: 10_000 })).map((r) => r.entry);
    const { invite, createTeam } = await withAdmin(app);
    const before = counted.hashes;
    const attacker = { 'x-forwarded-for': '203.0.113.77' };
    const all = await statuses(
      Array.from({ length: 50 }, (_, i) =>
        new TestClient(app, attacker).signup(`eve${i}@example.org`, 'Eve', 'AAAA-BBBB-CCCC'),
      ),
    );
    expect(countOf(all, 429)).toBeGreaterThanOrEqual(40);
    expect(countOf(all, 400) + countOf(all, 429)).toBe(50);
    expect(counted.hashes).toBe(before);
    const failures = await entries('auth.signup_failed');
    expect(failures.length).toBe(countOf(all, 400));
    expect(failures[0]).toMatchObject({ ip: '203.0.113.77', userId: null });
    expect(JSON.stringify(failures)).not.toContain('AAAA-BBBB-CCCC');
    expect((await entries('auth.signup_rate_limited')).length).toBe(countOf(all, 429));

    // Even a valid code is refused from that IP during the limit; another IP signs up.
    const code = await invite(await createTeam('Clinic'));
    expect((await new TestClient(app, attacker).signup('ok@example.org', 'Ok', code)).status).toBe(
      429,
    );
    const clinic = new TestClient(app, { 'x-forwarded-for': '198.51.100.1' });
    expect((await clinic.signup('ok@example.org', 'Ok', code)).status).toBe(201);
  });

  it('does not count successful sign-ups: a clinic signs up its whole staff from one IP', async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    const { invite, createTeam } = await withAdmin(app);
    const team = await createTeam('Clinic');
    const clinic = { 'x-forwarded-for': '198.51.100.2' };
    for (let i = 0; i < 25; i++) {
      const res = await new TestClient(app, clinic).signup(
        `staff${i}@example.org`,
        'Staff',
        await invite(team),
      );
      expect(res.status).toBe(201);
    }
  });
});

describe('no lock-out by strangers (adversarial test, hole 5)', () => {
  it('failures from anywhere do not keep the owner out at an IP they signed in from before', async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const home = new TestClient(app, { 'x-forwarded-for': '198.51.100.10' });
    expect((await home.login('admin@example.org')).status).toBe(200);
    // A botnet: 40 wrong passwords from 40 addresses.
    for (let i = 0; i < 40; i++) {
      const bot = new TestClient(app, { 'x-forwarded-for': `10.66.0.${i}` });
      expect([401, 429]).toContain((await bot.login('admin@example.org', `guess ${i}`)).status);
    }
    expect((await home.login('admin@example.org')).status).toBe(200);
    // From a new address the account-wide delay applies.
    const fresh = new TestClient(app, { 'x-forwarded-for': '10.77.0.1' });
    expect((await fresh.login('admin@example.org')).status).toBe(429);
  });

  it("someone guessing from a clinic's shared IP does not keep its staff out", async () => {
    const { app } = await setup({ env: { TRUST_PROXY: true } });
    const { member } = await withAdmin(app);
    const clinic = { 'x-forwarded-for': '198.51.100.20' };
    const nurse = await member('nurse@example.org');
    expect((await new TestClient(app, clinic).login('nurse@example.org')).status).toBe(200);
    for (let i = 0; i < 40; i++) {
      await new TestClient(app, clinic).login(`someone${i}@example.org`, 'guess');
    }
    expect((await new TestClient(app, clinic).login('nurse@example.org')).status).toBe(200);
    expect(nurse.id).toBeTruthy();
  });

  it('caps the delay: never more than 15 minutes after the latest failure', async () => {
    const { app, clock } = await setup({ env: { TRUST_PROXY: true } });
    await withAdmin(app);
    const from = new TestClient(app, { 'x-forwarded-for': '10.0.5.5' });
    let retryAfters = 0;
    for (let failures = 0; failures < 20;) {
      const res = await from.login('admin@example.org', `wrong ${failures}`);
      if (res.status === 429) {
        retryAfters = Math.max(retryAfters, Number(res.headers.get('retry-after')));
        clock.advance(Number(res.headers.get('retry-after')) * 1000);
      } else failures++;
    }
    expect(retryAfters).toBe(15 * 60);
    const res = await from.login('admin@example.org');
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    clock.advance(15 * 60 * 1000);
    expect((await from.login('admin@example.org')).status).toBe(200);
  });
});
