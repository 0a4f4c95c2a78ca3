/**
 * Request security over the whole app, filling what request-security.test.ts checks on a hand
 * list: the CSRF (Origin) check on EVERY state-changing route the app registers (enumerated from
 * `app.routes`, so a route added later is covered without editing this file), session fixation at
 * sign-up and with another user's valid session planted, and the session cookie's flags on every
 * response that sets or clears it.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { SESSION_COOKIE } from '../auth/cookie';
import { syncWorld } from '../sync-test-utils';
import { DAY, errorOf, makeTestApp, ORIGIN, TestClient, withAdmin } from '../test-utils';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'ALL']); // ALL: middleware, not a route

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

describe('CSRF: the Origin check on every state-changing route of the app', () => {
  it('refuses each one from another origin or none, before it reads the body, and changes nothing', async () => {
    const w = await setup();
    const code = (await (
      await w.admin.post('/api/admin/invitations', { teamId: w.teamA, role: 'clinician' })
    ).json()) as { code: string };
    // Real ids for the path parameters, so that each request would reach its handler.
    const param = (name: string, path: string): string => {
      if (name === 'userId') return w.bob.userId;
      if (name === 'teamId') return w.teamA;
      if (name === 'code') return code.code;
      if (name === 'sha256') return 'a'.repeat(64);
      if (name === 'modelId') return 'pneumonia-cxr';
      if (name === 'version') return '2.0.0';
      if (name === 'id') {
        if (path.includes('/users/')) return w.bob.userId;
        if (path.includes('/models/')) return 'pneumonia-cxr';
        return w.teamA;
      }
      throw new Error(`no value for the path parameter :${name} of ${path}: add one here`);
    };
    const routes = [
      ...new Set(
        w.app.routes
          .filter((r) => !SAFE.has(r.method))
          .map(
            (r) => `${r.method} ${r.path.replace(/:(\w+)/g, (_, n: string) => param(n, r.path))}`,
          ),
      ),
    ];
    // The enumeration found the app's routes (not a vacuous pass), those of every area.
    expect(routes.length).toBeGreaterThanOrEqual(17);
    for (const area of ['auth', 'admin', 'sync', 'blobs', 'review', 'teams'])
      expect(
        routes.some((r) => r.includes(`/api/${area}/`)),
        area,
      ).toBe(true);

    const countAudit = async () =>
      Number((await w.rows('SELECT count(*) AS n FROM audit_log'))[0]!.n);
    const before = await countAudit();
    const origins = [
      'http://evil.example',
      'null',
      `${ORIGIN}.evil.example`,
      ORIGIN.replace('http:', 'https:'),
      ORIGIN.replace('://', '://evil@'),
      `${ORIGIN}/`,
      undefined,
    ];
    for (const client of [w.admin, w.alice.client, new TestClient(w.app)]) {
      for (const route of routes) {
        const [method, url] = route.split(' ') as [string, string];
        for (const origin of origins) {
          // A body that fails validation: the Origin check must answer first.
          const res = await client.request(method, url, { bogus: true }, { origin: origin ?? '' });
          expect(res.status, `${route} from ${origin}`).toBe(403);
          expect((await errorOf(res)).code, `${route} from ${origin}`).toBe('forbidden_origin');
        }
      }
    }
    expect(await countAudit()).toBe(before);
    expect((await w.bob.pull()).changes).toEqual([]);
    expect((await w.bob.client.get('/api/auth/me')).status).toBe(200); // not removed, not disabled

    // The same requests from the app's own origin are not refused for their origin.
    for (const route of routes) {
      const [method, url] = route.split(' ') as [string, string];
      const res = await w.alice.client.request(method, url, { bogus: true });
      if (res.status === 403) expect((await errorOf(res)).code, route).not.toBe('forbidden_origin');
    }
  });
});

describe('session fixation', () => {
  it('sign-up issues a new token: a planted one is not adopted', async () => {
    const { app } = await makeTestApp();
    const planted = 'abcdefghijklmnopqrstuvwxyz234567';
    const victim = new TestClient(app);
    victim.token = planted;
    const res = await victim.signup('first@example.org');
    expect(res.status).toBe(201);
    // The planted cookie is cleared and a new one set after it (the last one wins in a browser).
    const set = res.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const issued = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(set.at(-1)!)![1]!;
    expect(issued).toMatch(/^[a-z2-7]{32}$/);
    expect(issued).not.toBe(planted);
    const signedIn = new TestClient(app);
    signedIn.token = issued;
    expect((await signedIn.get('/api/auth/me')).status).toBe(200);
    const attacker = new TestClient(app);
    attacker.token = planted;
    expect((await attacker.get('/api/auth/me')).status).toBe(401);
  });

  it("signing in over another user's valid session gives a new one; the planted one never becomes the victim's", async () => {
    const { app } = await makeTestApp();
    const { member } = await withAdmin(app);
    const attacker = await member('attacker@example.org');
    await member('victim@example.org');
    const planted = attacker.client.token!;
    const browser = new TestClient(app);
    browser.token = planted; // set by the attacker (a shared tablet, a cookie injection)
    expect((await browser.login('victim@example.org')).status).toBe(200);
    expect(browser.token).not.toBe(planted);
    const victimMe = (await (await browser.get('/api/auth/me')).json()) as {
      user: { email: string };
    };
    expect(victimMe.user.email).toBe('victim@example.org');
    const old = new TestClient(app);
    old.token = planted;
    const res = await old.get('/api/auth/me');
    if (res.status === 200) {
      const me = (await res.json()) as { user: { email: string } };
      expect(me.user.email).toBe('attacker@example.org');
    } else expect(res.status).toBe(401);
  });
});

describe('the session cookie on every response that sets or clears it', () => {
  const sessionCookies = (res: Response) =>
    res.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const checkFlags = (cookie: string, secure: boolean, what: string) => {
    const attrs = cookie
      .split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase());
    expect(attrs, what).toContain('httponly');
    expect(attrs, what).toContain('samesite=lax');
    expect(attrs, what).toContain('path=/');
    expect(
      attrs.some((a) => a.startsWith('domain=')),
      `${what}: host-only`,
    ).toBe(false);
    expect(attrs.includes('secure'), `${what}: Secure`).toBe(secure);
    const maxAge = attrs.find((a) => a.startsWith('max-age='));
    expect(maxAge, `${what}: Max-Age`).toBeDefined();
    expect(Number(maxAge!.slice('max-age='.length))).toBeLessThanOrEqual(30 * 24 * 3600);
  };

  for (const origin of ['http://localhost:8787', 'https://dx.example.org']) {
    const secure = origin.startsWith('https');
    it(`sign-up, sign-in, renewal and sign-out (${origin})`, async () => {
      const { app, clock } = await makeTestApp({ env: { PUBLIC_ORIGIN: origin } });
      const client = new TestClient(app, { origin });
      const signup = await client.signup('a@example.org');
      expect(signup.status).toBe(201);
      expect(sessionCookies(signup)).toHaveLength(1);
      checkFlags(sessionCookies(signup)[0]!, secure, 'sign-up');

      const login = await client.login('a@example.org');
      expect(login.status).toBe(200);
      for (const c of sessionCookies(login)) checkFlags(c, secure, 'sign-in');

      clock.advance(16 * DAY); // less than 15 days left: the next request renews the cookie
      const renewed = await client.get('/api/auth/me');
      expect(renewed.status).toBe(200);
      expect(sessionCookies(renewed)).toHaveLength(1);
      checkFlags(sessionCookies(renewed)[0]!, secure, 'renewal');

      const logout = await client.post('/api/auth/logout');
      expect(logout.status).toBe(204);
      const [cleared] = sessionCookies(logout);
      checkFlags(cleared!, secure, 'sign-out');
      expect(cleared).toMatch(/Max-Age=0/i);
      expect(cleared).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
    });
  }
});
