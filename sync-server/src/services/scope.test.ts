// scopeOf in detail; the scope of every route is the property test's (scope.property.test.ts).
// These tests kill mutants that survived it (docs/mutation-testing.md).
import { describe, expect, it, onTestFinished } from 'vitest';
import { mutation, patient, syncWorld } from '../sync-test-utils';
import { scopeOf } from './scope';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  return w;
}

describe('scopeOf', () => {
  it("names a supervisor's teams in the fingerprint, so a change of them resets the pull", async () => {
    const w = await setup();
    expect((await scopeOf(w.repos, w.sam.userId)).fingerprint).toEqual([`supervisor:${w.teamA}`]);
    // Sam pulls team A's reviews, then also supervises team B: the next pull starts over.
    const first = await w.sam.pull();
    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.sam.userId,
      role: 'supervisor',
    });
    expect((await scopeOf(w.repos, w.sam.userId)).fingerprint).toEqual(
      [`supervisor:${w.teamA}`, `supervisor:${w.teamB}`].sort(),
    );
    if (first.cursor > 0) expect((await w.sam.pull(first.cursor)).reset).toBe(true);
  });

  it('keeps the fingerprint sorted: renaming a team does not reset every pull', async () => {
    const w = await setup();
    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.alice.userId,
      role: 'clinician',
    });
    await w.alice.push([
      mutation('patients', patient(w.teamA)),
      mutation('patients', patient(w.teamB)),
    ]);
    const page = await w.alice.pull();
    expect(page.changes).toHaveLength(2);
    const before = (await scopeOf(w.repos, w.alice.userId)).fingerprint;
    // Memberships are read in team-name order: swap the names' order.
    await w.admin.patch(`/api/admin/teams/${w.teamA}`, { name: 'Zeta' });
    await w.admin.patch(`/api/admin/teams/${w.teamB}`, { name: 'Alpha' });
    expect((await scopeOf(w.repos, w.alice.userId)).fingerprint).toEqual(before);
    expect(await w.alice.pull(page.cursor)).toMatchObject({ reset: false, changes: [] });
  });

  it('an unknown user is no admin and may read nothing', async () => {
    const w = await setup();
    expect(await scopeOf(w.repos, 'no-such-user')).toEqual({
      userId: 'no-such-user',
      isAdmin: false,
      clinicianTeams: new Set(),
      supervisorTeams: new Set(),
      readTeams: [],
      fingerprint: [],
    });
    expect((await scopeOf(w.repos, w.adminId)).isAdmin).toBe(true);
  });
});

describe('a change of teams resets the pull', () => {
  it('joining a team, or swapping one for another, makes the next pull start over', async () => {
    const w = await setup();
    await w.carol.push([mutation('patients', patient(w.teamB))]);
    await w.alice.push([mutation('patients', patient(w.teamA))]);
    const first = await w.alice.pull();
    expect(first.changes).toHaveLength(1);

    // Alice joins team B: her cursor is past B's older records, so she must start over.
    await w.admin.post(`/api/admin/teams/${w.teamB}/members`, {
      userId: w.alice.userId,
      role: 'clinician',
    });
    expect(await w.alice.pull(first.cursor)).toMatchObject({ reset: true, changes: [] });
    const again = await w.alice.pull(0);
    expect(again.changes).toHaveLength(2);

    // Same number of teams, one swapped (B for a new team C): a reset again.
    const teamC = await w.createTeam('Team C');
    await w.admin.delete(`/api/admin/teams/${w.teamB}/members/${w.alice.userId}`);
    await w.admin.post(`/api/admin/teams/${teamC}/members`, {
      userId: w.alice.userId,
      role: 'clinician',
    });
    expect(await w.alice.pull(again.cursor)).toMatchObject({ reset: true, changes: [] });
  });
});
