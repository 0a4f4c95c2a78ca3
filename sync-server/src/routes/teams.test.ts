import { describe, expect, it, onTestFinished } from 'vitest';
import { MeResponse } from '../protocol';
import { errorOf, makeTestApp, TestClient, withAdmin } from '../test-utils';

async function setup() {
  const t = await makeTestApp();
  onTestFinished(t.close);
  const world = await withAdmin(t.app);
  const teamA = await world.createTeam('Team A');
  const teamB = await world.createTeam('Team B');
  const clinician = await world.member('clinician@example.org', 'clinician', teamA);
  const supervisor = await world.member('supervisor@example.org', 'supervisor', teamA);
  const put = (client: TestClient, team: string, prevalence: unknown, model = 'pneumonia-cxr') =>
    client.request('PUT', `/api/teams/${team}/models/${model}/prevalence`, { prevalence });
  const me = async (client: TestClient) =>
    MeResponse.parse(await (await client.get('/api/auth/me')).json());
  return { ...t, ...world, teamA, teamB, clinician, supervisor, put, me };
}

describe("a team's local prevalence of a model's condition", () => {
  it('is set by a supervisor of the team and reaches its members with their profile', async () => {
    const s = await setup();
    const res = await s.put(s.supervisor.client, s.teamA, 0.12);
    expect(res.status).toBe(200);
    const expected = [{ teamId: s.teamA, modelId: 'pneumonia-cxr', prevalence: 0.12 }];
    expect((await s.me(s.clinician.client)).modelPrevalence).toEqual(expected);
    // Cleared: the training prevalence applies again.
    expect((await s.put(s.supervisor.client, s.teamA, null)).status).toBe(200);
    expect((await s.me(s.clinician.client)).modelPrevalence).toEqual([]);
    const audit = (await (await s.admin.get('/api/admin/audit?limit=5')).json()) as {
      entries: { action: string; target: string }[];
    };
    expect(audit.entries.filter((e) => e.action === 'team.model_prevalence')).toHaveLength(2);
  });

  it('is refused to clinicians and to supervisors of other teams, and allowed to admins', async () => {
    const s = await setup();
    expect((await s.put(s.clinician.client, s.teamA, 0.2)).status).toBe(403);
    expect((await s.put(s.supervisor.client, s.teamB, 0.2)).status).toBe(403);
    expect((await s.put(s.admin, s.teamB, 0.2)).status).toBe(200);
    expect((await s.put(s.admin, 'no-such-team', 0.2)).status).toBe(404);
    expect((await s.put(new TestClient(s.app), s.teamA, 0.2)).status).toBe(401);
    // Team B's setting is not Team A's members' business.
    expect((await s.me(s.clinician.client)).modelPrevalence).toEqual([]);
    // What each may manage: the admin every team, a supervisor their own, a clinician none.
    const settings = async (client: TestClient) =>
      (await (await client.get('/api/teams/settings')).json()) as {
        teams: { id: string }[];
        modelPrevalence: unknown[];
      };
    expect((await settings(s.admin)).teams.map((t) => t.id).sort()).toEqual(
      [s.teamA, s.teamB, s.clinician.teamId, s.supervisor.teamId]
        .filter((t, i, all) => all.indexOf(t) === i)
        .sort(),
    );
    expect((await settings(s.admin)).modelPrevalence).toHaveLength(1);
    expect((await settings(s.supervisor.client)).teams.map((t) => t.id)).toEqual([s.teamA]);
    expect((await settings(s.clinician.client)).teams).toEqual([]);
  });

  it('refuses values that are not a share between 0 and 100 %, with the reason', async () => {
    const s = await setup();
    for (const [value, message] of [
      [0, /more than 0 %/],
      [1, /less than 100 %/],
      [1.5, /less than 100 %/],
      ['12', /must be a number/],
    ] as const) {
      const res = await s.put(s.supervisor.client, s.teamA, value);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    expect((await s.put(s.supervisor.client, s.teamA, 0.1, 'Not_An_Id')).status).toBe(404);
  });
});

describe("a team's lock delay (minutes idle or hidden before its tablets lock)", () => {
  const lock = (client: TestClient, team: string, lockMinutes: unknown) =>
    client.request('PUT', `/api/admin/teams/${team}/lock`, { lockMinutes });

  it('is 5 minutes by default, set by an admin, audited, and reaches the members', async () => {
    const s = await setup();
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(5);
    const res = await lock(s.admin, s.teamA, 2);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: s.teamA, lockMinutes: 2 });
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(2);
    const teams = (await (await s.admin.get('/api/admin/teams')).json()) as {
      teams: { id: string; lockMinutes: number }[];
    };
    expect(teams.teams.find((t) => t.id === s.teamA)?.lockMinutes).toBe(2);
    expect(teams.teams.find((t) => t.id === s.teamB)?.lockMinutes).toBe(5);
    const audit = (await (
      await s.admin.get('/api/admin/audit?action=team.lock_minutes')
    ).json()) as {
      entries: { action: string; target: string }[];
    };
    expect(audit.entries.map((e) => e.target)).toEqual([s.teamA]);
  });

  it('is refused to supervisors, clinicians and the signed-out, and to unknown teams', async () => {
    const s = await setup();
    expect((await lock(s.supervisor.client, s.teamA, 30)).status).toBe(403);
    expect((await lock(s.clinician.client, s.teamA, 30)).status).toBe(403);
    expect((await lock(new TestClient(s.app), s.teamA, 30)).status).toBe(401);
    expect((await lock(s.admin, 'no-such-team', 30)).status).toBe(404);
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(5);
  });

  it("follows only the user's own teams, the shortest when they are in several", async () => {
    const s = await setup();
    expect((await lock(s.admin, s.teamB, 1)).status).toBe(200);
    // Team B is not theirs: Team A's delay applies.
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(5);
    expect((await lock(s.admin, s.teamA, 20)).status).toBe(200);
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(20);
    // In Team B as well now: the stricter delay wins.
    const added = await s.admin.request('POST', `/api/admin/teams/${s.teamB}/members`, {
      userId: s.clinician.id,
      role: 'clinician',
    });
    expect(added.status).toBe(200);
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(1);
  });

  it('refuses what is not a whole number of minutes from 1 to 60, with the reason', async () => {
    const s = await setup();
    for (const [value, message] of [
      [0, /between 1 and 60/],
      [61, /between 1 and 60/],
      [-5, /between 1 and 60/],
      [2.5, /whole number/],
      ['5', /number of minutes/],
      [null, /number of minutes/],
    ] as const) {
      const res = await lock(s.admin, s.teamA, value);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    const missing = await s.admin.request('PUT', `/api/admin/teams/${s.teamA}/lock`, {});
    expect(missing.status).toBe(400);
    expect((await s.me(s.clinician.client)).lockMinutes).toBe(5);
  });
});
