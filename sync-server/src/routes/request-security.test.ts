import { describe, expect, it, onTestFinished } from 'vitest';
import { SESSION_COOKIE } from '../auth/cookie';
import { mutation, patient, syncWorld } from '../sync-test-utils';
import { errorOf, ORIGIN, TestClient } from '../test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

describe('request security', () => {
  it('refuses every state-changing route from another origin, or with none, and changes nothing', async () => {
    const w = await setup();
    const code = (await (
      await w.admin.post('/api/admin/invitations', { teamId: w.teamA, role: 'clinician' })
    ).json()) as { code: string };
    const sha = 'a'.repeat(64);
    const routes: [string, string, unknown][] = [
      [
        'POST',
        '/api/auth/signup',
        {
          email: 'x@example.org',
          password: 'a long password!',
          name: 'X',
          invitationCode: code.code,
        },
      ],
      [
        'POST',
        '/api/auth/login',
        { email: 'alice@example.org', password: 'correct horse battery staple' },
      ],
      ['POST', '/api/auth/logout', {}],
      ['POST', '/api/admin/teams', { name: 'Evil' }],
      ['PATCH', `/api/admin/teams/${w.teamA}`, { name: 'Evil' }],
      ['POST', `/api/admin/teams/${w.teamA}/members`, { userId: w.adminId, role: 'clinician' }],
      ['DELETE', `/api/admin/teams/${w.teamA}/members/${w.bob.userId}`, undefined],
      ['POST', '/api/admin/invitations', { teamId: w.teamA, role: 'supervisor' }],
      ['DELETE', `/api/admin/invitations/${code.code}`, undefined],
      ['PATCH', `/api/admin/users/${w.bob.userId}`, { disabled: true }],
      [
        'POST',
        '/api/sync/push',
        { deviceId: w.alice.deviceId, mutations: [mutation('patients', patient(w.teamA))] },
      ],
      ['PUT', `/api/blobs/${sha}?teamId=${w.teamA}`, 'bytes'],
    ];
    const countAudit = async () =>
      Number((await w.rows('SELECT count(*) AS n FROM audit_log'))[0]!.n);
    const before = await countAudit();
    for (const client of [w.admin, w.alice.client]) {
      for (const [method, url, body] of routes) {
        for (const origin of ['http://evil.example', 'null', `${ORIGIN}.evil.example`, undefined]) {
          const res = await client.request(
            method,
            url,
            body,
            origin === undefined ? { origin: '' } : { origin },
          );
          expect(res.status, `${method} ${url} from ${origin}`).toBe(403);
          expect((await errorOf(res)).code).toBe('forbidden_origin');
        }
      }
    }
    // Nothing happened: no sign-up, no login, no change (each would be audited), no record.
    expect(await countAudit()).toBe(before);
    expect((await w.bob.pull()).changes).toEqual([]);
  });

  it('gives a new session token at sign-in: a token planted before is never adopted (fixation)', async () => {
    const w = await setup();
    const planted = 'abcdefghijklmnopqrstuvwxyz234567';
    const victim = new TestClient(w.app);
    victim.token = planted;
    const res = await victim.login('alice@example.org');
    expect(res.status).toBe(200);
    // The planted cookie is cleared and a new one set after it (the last one wins in a browser).
    const set = res.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const issued = /^fdx_session=([^;]*)/.exec(set.at(-1)!)![1]!;
    expect(issued).toMatch(/^[a-z2-7]{32}$/);
    expect(issued).not.toBe(planted);
    const signedIn = new TestClient(w.app);
    signedIn.token = issued;
    expect((await signedIn.get('/api/auth/me')).status).toBe(200);
    const attacker = new TestClient(w.app);
    attacker.token = planted;
    expect((await attacker.get('/api/auth/me')).status).toBe(401);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/ and clears it at sign-out', async () => {
    const w = await setup();
    const res = await new TestClient(w.app).login('alice@example.org');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    const out = await w.alice.client.post('/api/auth/logout');
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cleared).toMatch(/Max-Age=0/);
  });
});
