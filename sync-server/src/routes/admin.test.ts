import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AdminUser,
  AuditListResponse,
  Invitation,
  InvitationListResponse,
  Membership,
  MeResponse,
  Team,
  TeamListResponse,
  UserListResponse,
} from '../protocol';
import { DAY, errorOf, makeTestApp, TestClient, withAdmin } from '../test-utils';

async function setup() {
  const t = await makeTestApp();
  onTestFinished(t.close);
  return { ...t, ...(await withAdmin(t.app)) };
}

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ['GET', '/api/admin/teams'],
  ['POST', '/api/admin/teams', { name: 'X' }],
  ['PATCH', '/api/admin/teams/some-id', { name: 'X' }],
  ['POST', '/api/admin/teams/some-id/members', { userId: 'u', role: 'clinician' }],
  ['DELETE', '/api/admin/teams/some-id/members/u'],
  ['GET', '/api/admin/invitations'],
  ['POST', '/api/admin/invitations', { teamId: 't', role: 'clinician' }],
  ['DELETE', '/api/admin/invitations/AAAA-BBBB-CCCC'],
  ['GET', '/api/admin/users'],
  ['PATCH', '/api/admin/users/u', { disabled: true }],
  ['GET', '/api/admin/audit'],
  ['GET', '/api/admin/users/u/devices'],
  ['POST', '/api/admin/devices/some-device/revoke'],
  ['POST', '/api/admin/users/u/reset-code'],
];

describe('admin access', () => {
  it('is 401 for anonymous callers and 403 for non-admins on every admin route', async () => {
    const { app, member } = await setup();
    const bob = await member('bob@example.org', 'supervisor');
    const anonymous = new TestClient(app);
    for (const [method, url, body] of ADMIN_ROUTES) {
      const a = await anonymous.request(method, url, body);
      expect(a.status, `${method} ${url}`).toBe(401);
      expect((await errorOf(a)).code).toBe('unauthenticated');
      const b = await bob.client.request(method, url, body);
      expect(b.status, `${method} ${url}`).toBe(403);
      expect(await errorOf(b)).toEqual({ code: 'forbidden', message: 'Only an admin may do this' });
    }
  });
});

describe('teams', () => {
  it('creates, lists with member counts, renames', async () => {
    const { admin, createTeam, member } = await setup();
    const res = await admin.post('/api/admin/teams', { name: '  South clinic ' });
    expect(res.status).toBe(201);
    const south = Team.parse(await res.json());
    expect(south).toMatchObject({ name: 'South clinic', memberCount: 0 });

    const north = await createTeam('North clinic');
    await member('a@example.org', 'clinician', north);
    await member('b@example.org', 'supervisor', north);

    const list = TeamListResponse.parse(await (await admin.get('/api/admin/teams')).json());
    expect(list.teams.map((t) => [t.name, t.memberCount])).toEqual([
      ['North clinic', 2],
      ['South clinic', 0],
    ]);

    const renamed = await admin.patch(`/api/admin/teams/${south.id}`, { name: 'Southern clinic' });
    expect(renamed.status).toBe(200);
    expect(Team.parse(await renamed.json())).toMatchObject({
      id: south.id,
      name: 'Southern clinic',
      createdAt: south.createdAt,
    });
  });

  it('refuses a duplicate name (any case) with 409, on create and rename', async () => {
    const { admin, createTeam } = await setup();
    await createTeam('North clinic');
    const other = await createTeam('Other');
    const dup = await admin.post('/api/admin/teams', { name: 'north CLINIC' });
    expect(dup.status).toBe(409);
    expect((await errorOf(dup)).code).toBe('team_name_taken');
    const rename = await admin.patch(`/api/admin/teams/${other}`, { name: 'North clinic' });
    expect(rename.status).toBe(409);
    // Renaming a team to its own name in another case is fine.
    expect((await admin.patch(`/api/admin/teams/${other}`, { name: 'OTHER' })).status).toBe(200);
  });

  it('validates the name and 404s an unknown team', async () => {
    const { admin } = await setup();
    const empty = await admin.post('/api/admin/teams', { name: ' ' });
    expect(empty.status).toBe(400);
    expect(await errorOf(empty)).toEqual({
      code: 'invalid_request',
      message: 'name: must not be empty',
    });
    const missing = await admin.patch('/api/admin/teams/nope', { name: 'X' });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: 'not_found', message: 'Team not found' });
  });
});

describe('memberships', () => {
  it('adds, changes the role of, and removes a member', async () => {
    const { admin, createTeam, member } = await setup();
    const bob = await member('bob@example.org');
    const team = await createTeam('Second team');

    const add = await admin.post(`/api/admin/teams/${team}/members`, {
      userId: bob.id,
      role: 'clinician',
    });
    expect(add.status).toBe(200);
    expect(Membership.parse(await add.json())).toEqual({
      teamId: team,
      userId: bob.id,
      role: 'clinician',
    });
    const upgrade = await admin.post(`/api/admin/teams/${team}/members`, {
      userId: bob.id,
      role: 'supervisor',
    });
    expect(upgrade.status).toBe(200);

    const me = MeResponse.parse(await (await bob.client.get('/api/auth/me')).json());
    expect(me.memberships).toContainEqual({
      teamId: team,
      teamName: 'Second team',
      role: 'supervisor',
    });

    const remove = await admin.delete(`/api/admin/teams/${team}/members/${bob.id}`);
    expect(remove.status).toBe(204);
    const again = await admin.delete(`/api/admin/teams/${team}/members/${bob.id}`);
    expect(again.status).toBe(404);
    const after = MeResponse.parse(await (await bob.client.get('/api/auth/me')).json());
    expect(after.memberships.map((m) => m.teamId)).not.toContain(team);
  });

  it('lets an admin add themselves, so a one-person installation works', async () => {
    const { admin, adminId, createTeam } = await setup();
    const team = await createTeam('Solo');
    const res = await admin.post(`/api/admin/teams/${team}/members`, {
      userId: adminId,
      role: 'clinician',
    });
    expect(res.status).toBe(200);
    const me = MeResponse.parse(await (await admin.get('/api/auth/me')).json());
    expect(me).toMatchObject({
      isAdmin: true,
      memberships: [{ teamId: team, role: 'clinician' }],
    });
  });

  it('404s an unknown team or user and validates the role', async () => {
    const { admin, adminId, createTeam } = await setup();
    const team = await createTeam('T');
    const noTeam = await admin.post('/api/admin/teams/nope/members', {
      userId: adminId,
      role: 'clinician',
    });
    expect(noTeam.status).toBe(404);
    expect((await errorOf(noTeam)).message).toBe('Team not found');
    const noUser = await admin.post(`/api/admin/teams/${team}/members`, {
      userId: 'nobody',
      role: 'clinician',
    });
    expect(noUser.status).toBe(404);
    expect((await errorOf(noUser)).message).toBe('User not found');
    const badRole = await admin.post(`/api/admin/teams/${team}/members`, {
      userId: adminId,
      role: 'admin',
    });
    expect(badRole.status).toBe(400);
    expect((await errorOf(badRole)).message).toBe("role: must be 'clinician' or 'supervisor'");
    expect((await admin.delete(`/api/admin/teams/nope/members/${adminId}`)).status).toBe(404);
  });
});

describe('invitations', () => {
  it('creates a code that expires in 7 days by default, and lists it with its status', async () => {
    const { admin, adminId, createTeam, clock } = await setup();
    const team = await createTeam('East');
    const res = await admin.post('/api/admin/invitations', { teamId: team, role: 'supervisor' });
    expect(res.status).toBe(201);
    const inv = Invitation.parse(await res.json());
    expect(inv).toMatchObject({
      teamId: team,
      teamName: 'East',
      role: 'supervisor',
      status: 'active',
      createdBy: adminId,
      usedAt: null,
      usedBy: null,
      revokedAt: null,
    });
    expect(inv.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(inv.code).not.toMatch(/[01OIL]/);
    expect(new Date(inv.expiresAt).getTime() - clock.t.getTime()).toBe(7 * DAY);

    const custom = Invitation.parse(
      await (
        await admin.post('/api/admin/invitations', {
          teamId: team,
          role: 'clinician',
          expiresInDays: 90,
        })
      ).json(),
    );
    expect(new Date(custom.expiresAt).getTime() - clock.t.getTime()).toBe(90 * DAY);
    expect(custom.code).not.toBe(inv.code);
  });

  it('reports active, used, expired and revoked', async () => {
    const { app, admin, createTeam, invite, clock } = await setup();
    const team = await createTeam('West');
    const used = await invite(team, 'clinician', 30);
    const revoked = await invite(team, 'clinician', 30);
    const expired = await invite(team, 'clinician', 1);
    clock.advance(1000);
    const active = await invite(team, 'clinician', 30);
    expect((await new TestClient(app).signup('u@example.org', 'U', used)).status).toBe(201);
    const del = await admin.delete(`/api/admin/invitations/${revoked.toLowerCase()}`);
    expect(del.status).toBe(200);
    expect(Invitation.parse(await del.json()).status).toBe('revoked');
    clock.advance(2 * DAY);

    const list = InvitationListResponse.parse(
      await (await admin.get('/api/admin/invitations')).json(),
    );
    const status = Object.fromEntries(list.invitations.map((i) => [i.code, i.status]));
    expect(status).toEqual({
      [used]: 'used',
      [revoked]: 'revoked',
      [expired]: 'expired',
      [active]: 'active',
    });
    expect(list.invitations[0]!.code).toBe(active); // newest first
    expect(list.invitations.find((i) => i.code === used)!.usedBy).toEqual(expect.any(String));
  });

  it('validates the request and 404s an unknown team or code', async () => {
    const { admin, createTeam } = await setup();
    const team = await createTeam('T');
    for (const [body, message] of [
      [
        { teamId: team, role: 'clinician', expiresInDays: 0 },
        'expiresInDays: must be between 1 and 90',
      ],
      [
        { teamId: team, role: 'clinician', expiresInDays: 91 },
        'expiresInDays: must be between 1 and 90',
      ],
      [
        { teamId: team, role: 'clinician', expiresInDays: 1.5 },
        'expiresInDays: must be a whole number',
      ],
      [{ teamId: team, role: 'boss' }, "role: must be 'clinician' or 'supervisor'"],
      [{ role: 'clinician' }, 'teamId: is required'],
    ] as const) {
      const res = await admin.post('/api/admin/invitations', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res)).toEqual({ code: 'invalid_request', message });
    }
    const noTeam = await admin.post('/api/admin/invitations', { teamId: 'x', role: 'clinician' });
    expect(noTeam.status).toBe(404);
    const noCode = await admin.delete('/api/admin/invitations/AAAA-BBBB-CCCC');
    expect(noCode.status).toBe(404);
    expect(await errorOf(noCode)).toEqual({ code: 'not_found', message: 'Invitation not found' });
  });
});

describe('users', () => {
  it('lists users with their memberships and disabled flag', async () => {
    const { admin, adminId, member } = await setup();
    const bob = await member('bob@example.org', 'supervisor');
    await admin.patch(`/api/admin/users/${bob.id}`, { disabled: true });
    const list = UserListResponse.parse(await (await admin.get('/api/admin/users')).json());
    expect(list.users).toEqual([
      expect.objectContaining({
        id: adminId,
        email: 'admin@example.org',
        isAdmin: true,
        disabled: false,
        memberships: [],
      }),
      expect.objectContaining({
        id: bob.id,
        email: 'bob@example.org',
        isAdmin: false,
        disabled: true,
        memberships: [
          { teamId: bob.teamId, teamName: 'Team of bob@example.org', role: 'supervisor' },
        ],
      }),
    ]);
    expect(JSON.stringify(list)).not.toMatch(/argon2|password/i);
  });

  it('disables and re-enables; an admin cannot disable themselves; unknown id is 404', async () => {
    const { admin, adminId, member } = await setup();
    const bob = await member('bob@example.org');
    const off = await admin.patch(`/api/admin/users/${bob.id}`, { disabled: true });
    expect(off.status).toBe(200);
    expect(AdminUser.parse(await off.json()).disabled).toBe(true);
    const on = await admin.patch(`/api/admin/users/${bob.id}`, { disabled: false });
    expect(AdminUser.parse(await on.json()).disabled).toBe(false);

    const self = await admin.patch(`/api/admin/users/${adminId}`, { disabled: true });
    expect(self.status).toBe(400);
    expect((await errorOf(self)).code).toBe('cannot_disable_self');
    expect((await admin.get('/api/auth/me')).status).toBe(200);

    const missing = await admin.patch('/api/admin/users/nope', { disabled: true });
    expect(missing.status).toBe(404);
    const bad = await admin.patch(`/api/admin/users/${bob.id}`, { disabled: 'yes' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('disabled: must be true or false');
  });
});

describe('audit', () => {
  it('records every admin write and lists newest first with a limit', async () => {
    const { admin, adminId, createTeam, invite, member, repos } = await setup();
    const team = await createTeam('Audit team');
    const code = await invite(team);
    await admin.delete(`/api/admin/invitations/${code}`);
    await admin.patch(`/api/admin/teams/${team}`, { name: 'Renamed' });
    const bob = await member('bob@example.org');
    await admin.post(`/api/admin/teams/${team}/members`, { userId: bob.id, role: 'clinician' });
    await admin.delete(`/api/admin/teams/${team}/members/${bob.id}`);
    await admin.patch(`/api/admin/users/${bob.id}`, { disabled: true });
    await admin.patch(`/api/admin/users/${bob.id}`, { disabled: false });

    const log = (await repos.audit.list({ limit: 10_000 })).map((r) => r.entry).reverse();
    const actions = log.filter((r) => r.userId === adminId).map((r) => r.action);
    expect(actions).toEqual([
      'auth.signup',
      'team.create',
      'invitation.create',
      'invitation.revoke',
      'team.update',
      'team.create', // bob's team
      'invitation.create',
      'team.member_upsert',
      'team.member_remove',
      'user.disable',
      'user.enable',
    ]);
    // Invitation codes are credentials: only a prefix is kept.
    expect(JSON.stringify(log)).not.toContain(code);

    const res = await admin.get('/api/admin/audit?limit=3');
    expect(res.status).toBe(200);
    const { entries } = AuditListResponse.parse(await res.json());
    expect(entries.map((e) => e.action)).toEqual([
      'user.enable',
      'user.disable',
      'team.member_remove',
    ]);
    expect(entries[0]).toMatchObject({ userId: adminId, target: bob.id, ip: 'unknown' });

    const all = AuditListResponse.parse(await (await admin.get('/api/admin/audit')).json());
    expect(all.entries.length).toBeGreaterThan(10);
    const bad = await admin.get('/api/admin/audit?limit=0');
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('limit: must be between 1 and 500');
  });
});
