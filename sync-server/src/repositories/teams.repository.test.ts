import { afterEach, describe, expect, it } from 'vitest';
import type { InvitationRow, TeamRow } from '../db/schema';
import { ApiError } from '../errors';
import type { Actor } from '../services/audit';
import { isUniqueViolation } from '../services/db-errors';
import {
  createInvitation,
  findRedeemableInvitation,
  markInvitationUsed,
  revokeInvitation,
} from '../services/invitations';
import { manageableSettings, setPrevalence } from '../services/prevalence';
import type { Scope } from '../services/scope';
import {
  createTeam,
  listTeams,
  lockMinutesOf,
  removeMembership,
  renameTeam,
  upsertMembership,
} from '../services/teams';
import { rowsOn, rowsOnPg, type SyncRows } from '../sync-test-utils';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import { DEFAULT_LOCK_MINUTES } from '../protocol';

/*
 * The teams repository (teams, memberships, invitations) and the team_model_settings part of the
 * models repository, on each dialect, through the services that use them: case-insensitive team
 * names, upserts, an invitation redeemed twice at once, and the order of every list.
 */

const dialects = ['sqlite', ...(TEST_DB === 'postgres' ? ['postgres' as const] : [])] as const;

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

const AT = new Date('2026-03-01T08:00:00.000Z');
const actor: Actor & { userId: string } = { userId: 'admin', ip: '127.0.0.1', at: AT };

async function setup(dialect: 'sqlite' | 'postgres') {
  const t = await testDatabase({ dialect });
  opened.push(t);
  const rows: SyncRows = t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite);
  const addUser = async (id: string) => {
    await rows(
      'INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      id,
      `${id}@example.org`,
      id,
      'not-a-hash',
      AT.getTime(),
    );
    return id;
  };
  const team = (
    name: string,
    lockMinutes = DEFAULT_LOCK_MINUTES,
    id: string = crypto.randomUUID(),
  ) => {
    const row: TeamRow = { id, name, lockMinutes, createdAt: AT, updatedAt: AT };
    return t.repos.teams.insertTeam(row).then(() => row);
  };
  const auditActions = async () =>
    (await t.repos.audit.list({ limit: 100 })).map((r) => r.entry.action);
  return { ...t, rows, addUser, team, auditActions };
}

const invitation = (code: string, teamId: string, createdAt = AT): InvitationRow => ({
  code,
  teamId,
  role: 'clinician',
  createdBy: null,
  createdAt,
  expiresAt: new Date(createdAt.getTime() + 86_400_000),
  usedAt: null,
  usedBy: null,
  revokedAt: null,
});

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe.each(dialects)('TeamsRepository (%s)', (dialect) => {
  it('refuses a team name taken in any case, with 409 from the services and nothing written', async () => {
    const t = await setup(dialect);
    await t.team('Clinic A');
    const err = await t.repos.teams
      .insertTeam({
        id: 'other',
        name: 'clinic a',
        lockMinutes: 5,
        createdAt: AT,
        updatedAt: AT,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(err, 'teams_name_unique')).toBe(true);
    expect(isUniqueViolation(err, 'invitations_pkey')).toBe(false);

    const created = await apiError(createTeam(t.repos, 'CLINIC a', actor));
    expect([created.status, created.code]).toEqual([409, 'team_name_taken']);
    const other = await createTeam(t.repos, 'Clinic B', actor);
    const renamed = await apiError(renameTeam(t.repos, other.id, 'cLiNiC A', actor));
    expect([renamed.status, renamed.code]).toEqual([409, 'team_name_taken']);
    // The refused transactions left nothing: no team, no rename, no audit entry.
    expect((await listTeams(t.repos)).map((x) => x.name)).toEqual(['Clinic A', 'Clinic B']);
    expect(await t.auditActions()).toEqual(['team.create']);
    // A team may change the case of its own name.
    expect((await renameTeam(t.repos, other.id, 'CLINIC B', actor)).name).toBe('CLINIC B');
  });

  it('adds a member or changes their role in one upsert; an unknown user or team is 404', async () => {
    const t = await setup(dialect);
    const a = await t.team('A');
    const b = await t.team('B');
    const u = await t.addUser('u1');
    const m = { teamId: a.id, userId: u, role: 'clinician' as const, createdAt: AT };
    expect(await t.repos.teams.upsertMembership(m)).toBe(true);
    expect(await t.repos.teams.upsertMembership({ ...m, role: 'supervisor' })).toBe(true);
    expect(await t.repos.teams.upsertMembership({ ...m, userId: 'nobody' })).toBe(false);
    await upsertMembership(t.repos, b.id, u, 'clinician', actor);
    expect(await t.repos.teams.membershipsOf(u)).toEqual([
      { teamId: a.id, teamName: 'A', role: 'supervisor' },
      { teamId: b.id, teamName: 'B', role: 'clinician' },
    ]);
    expect(await t.repos.teams.memberCount(a.id)).toBe(1);
    expect(await t.repos.teams.memberCount('none')).toBe(0);
    expect((await listTeams(t.repos)).map((x) => x.memberCount)).toEqual([1, 1]);

    const noUser = await apiError(upsertMembership(t.repos, a.id, 'nobody', 'clinician', actor));
    expect([noUser.status, noUser.message]).toEqual([404, 'User not found']);
    const noTeam = await apiError(upsertMembership(t.repos, 'none', u, 'clinician', actor));
    expect([noTeam.status, noTeam.message]).toEqual([404, 'Team not found']);

    await removeMembership(t.repos, a.id, u, actor);
    const again = await apiError(removeMembership(t.repos, a.id, u, actor));
    expect([again.status, again.message]).toEqual([404, 'Membership not found']);
    expect(await t.repos.teams.membershipsOf(u)).toEqual([
      { teamId: b.id, teamName: 'B', role: 'clinician' },
    ]);
    expect(await t.auditActions()).toEqual(['team.member_remove', 'team.member_upsert']);
  });

  it('lets only one of two sign-ups at once redeem an invitation', async () => {
    const t = await setup(dialect);
    const a = await t.team('A');
    const [u1, u2] = [await t.addUser('u1'), await t.addUser('u2')];
    await t.repos.teams.insertInvitation(invitation('AAAA-BBBB-CCCC', a.id));
    const raced = await Promise.all([
      t.repos.teams.markInvitationUsed('AAAA-BBBB-CCCC', u1, AT),
      t.repos.teams.markInvitationUsed('AAAA-BBBB-CCCC', u2, AT),
    ]);
    expect(raced.sort()).toEqual([false, true]);

    // The same through the service, each in its own transaction (PostgreSQL: two connections).
    await t.repos.teams.insertInvitation(invitation('DDDD-EEEE-FFFF', a.id));
    const outcomes = await Promise.allSettled(
      [u1, u2].map((u) =>
        t.repos.transaction((tx) => markInvitationUsed(tx, 'DDDD-EEEE-FFFF', u, AT)),
      ),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as ApiError).code).toBe('invalid_invitation');
    const used = await t.repos.teams.getInvitation('DDDD-EEEE-FFFF');
    const winner = outcomes[0]!.status === 'fulfilled' ? u1 : u2;
    expect([used?.usedBy, used?.usedAt]).toEqual([winner, AT]);
  });

  it('refuses a sign-up whose invitation was revoked or expired after it was checked', async () => {
    const t = await setup(dialect);
    const a = await t.team('A');
    const u = await t.addUser('u1');
    await t.repos.teams.insertInvitation(invitation('AAAA-BBBB-CCCC', a.id));
    const signUp = t.repos.transaction(async (tx) => {
      await findRedeemableInvitation(tx, 'AAAA-BBBB-CCCC', AT);
      // Another instance revokes it meanwhile (on SQLite it waits for this transaction instead).
      const revoked = revokeInvitation(t.repos, 'AAAA-BBBB-CCCC', actor);
      if (dialect === 'postgres') await revoked;
      await markInvitationUsed(tx, 'AAAA-BBBB-CCCC', u, AT);
      return { revoked }; // (not awaited here: on SQLite it runs after this transaction)
    });
    if (dialect === 'postgres') {
      const err = await apiError(signUp);
      expect([err.code, err.message]).toEqual([
        'invalid_invitation',
        'This invitation has been revoked',
      ]);
      expect((await t.repos.teams.getInvitation('AAAA-BBBB-CCCC'))?.usedAt).toBeNull();
    } else {
      await await signUp;
      expect((await t.repos.teams.getInvitation('AAAA-BBBB-CCCC'))?.usedBy).toBe(u);
    }
    await t.repos.teams.insertInvitation(invitation('DDDD-EEEE-FFFF', a.id));
    const late = new Date(AT.getTime() + 86_400_000);
    expect(await t.repos.teams.markInvitationUsed('DDDD-EEEE-FFFF', u, late)).toBe(false);
    const err = await apiError(markInvitationUsed(t.repos, 'DDDD-EEEE-FFFF', u, late));
    expect(err.message).toBe('This invitation has expired');
  });

  it('keeps invitations in the database: created, listed newest first, revoked once', async () => {
    const t = await setup(dialect);
    const a = await t.team('A');
    await t.pool?.query('ALTER TABLE invitations ALTER COLUMN code TYPE text COLLATE "und-x-icu"');
    const later = new Date(AT.getTime() + 60_000);
    await t.repos.teams.insertInvitation(invitation('ZZZZ-ZZZZ-ZZZ2', a.id));
    await t.repos.teams.insertInvitation(invitation('aaaa-aaaa-aaa2', a.id));
    await t.repos.teams.insertInvitation(invitation('AAAA-AAAA-AAA2', a.id));
    await t.repos.teams.insertInvitation(invitation('MMMM-MMMM-MMM2', a.id, later));
    const made = await createInvitation(
      t.repos,
      { teamId: a.id, role: 'supervisor', expiresInDays: 3 },
      { ...actor, userId: null, at: later },
    );
    expect(await t.repos.teams.getInvitation(made.code)).toMatchObject({
      role: 'supervisor',
      expiresAt: new Date(later.getTime() + 3 * 86_400_000),
      usedAt: null,
    });
    // Newest first; the same time by code.
    expect((await t.repos.teams.listInvitations()).map((i) => i.invitation.code)).toEqual([
      ...[made.code, 'MMMM-MMMM-MMM2'].sort(),
      // The same time: by code, byte by byte.
      'AAAA-AAAA-AAA2',
      'ZZZZ-ZZZZ-ZZZ2',
      'aaaa-aaaa-aaa2',
    ]);
    expect((await t.repos.teams.getInvitationWithTeam(made.code))?.teamName).toBe('A');

    const first = await revokeInvitation(t.repos, made.code.toLowerCase(), actor);
    expect([first.status, first.revokedAt]).toEqual(['revoked', AT.toISOString()]);
    const second = await revokeInvitation(t.repos, made.code, { ...actor, at: later });
    expect(second.revokedAt).toBe(AT.toISOString());
    expect(await t.repos.teams.revokeInvitation('NONE-NONE-NONE', AT)).toBeUndefined();
    expect((await apiError(revokeInvitation(t.repos, 'NONE-NONE-NONE', actor))).status).toBe(404);
  });

  it('gives the shortest lock delay of the teams, as a number; the default for none', async () => {
    const t = await setup(dialect);
    const a = await t.team('A', 10);
    const b = await t.team('B', 3);
    const c = await t.team('C', 7);
    expect(await t.repos.teams.minLockMinutes([a.id, c.id])).toBe(7);
    expect(await t.repos.teams.minLockMinutes([a.id, b.id, c.id])).toBe(3);
    expect(await t.repos.teams.minLockMinutes(['unknown'])).toBeNull();
    expect(await lockMinutesOf(t.repos, [])).toBe(DEFAULT_LOCK_MINUTES);
    expect(await lockMinutesOf(t.repos, ['unknown'])).toBe(DEFAULT_LOCK_MINUTES);
    expect(await lockMinutesOf(t.repos, [a.id, b.id])).toBe(3);
  });

  it('lists teams by name regardless of case, in byte order whatever the collation', async () => {
    const t = await setup(dialect);
    // The test server's databases use the C locale, production ones often a language's: there
    // '_' sorts before '-' (ICU's root collation here), in bytes after.
    await t.pool?.query('ALTER TABLE teams ALTER COLUMN name TYPE text COLLATE "und-x-icu"');
    await t.team('a_b', 5, 'id-7');
    await t.team('A-b', 5, 'id-8');
    await t.team('beta', 5, 'id-3');
    await t.team('Alpha', 5, 'id-9');
    await t.team('alpha two', 5, 'id-1');
    await t.team('Gamma', 5, 'id-2');
    await t.team('_first', 5, 'id-5');
    const order = ['_first', 'A-b', 'a_b', 'Alpha', 'alpha two', 'beta', 'Gamma'];
    // A user's memberships: by name, byte by byte (case first), as SQLite sorts it.
    const u = await t.addUser('u1');
    for (const id of ['id-7', 'id-8', 'id-9']) {
      await t.repos.teams.upsertMembership({
        teamId: id,
        userId: u,
        role: 'clinician',
        createdAt: AT,
      });
    }
    expect((await t.repos.teams.membershipsOf(u)).map((m) => m.teamName)).toEqual([
      'A-b',
      'Alpha',
      'a_b',
    ]);
    expect((await listTeams(t.repos)).map((x) => x.name)).toEqual(order);
    expect((await t.repos.teams.teamNames()).map((x) => x.name)).toEqual(order);
    expect(await t.repos.teams.allTeamIds()).toEqual([
      'id-1',
      'id-2',
      'id-3',
      'id-5',
      'id-7',
      'id-8',
      'id-9',
    ]);
  });

  it("sets, updates and clears a team's prevalence; only its supervisors and admins may", async () => {
    const t = await setup(dialect);
    const a = await t.team('A');
    const b = await t.team('B');
    const scope: Scope = {
      userId: 'sam',
      isAdmin: false,
      clinicianTeams: new Set(),
      supervisorTeams: new Set([a.id]),
      readTeams: [a.id],
      fingerprint: [`supervisor:${a.id}`],
    };
    expect(await setPrevalence(t.repos, actor, scope, false, a.id, 'malaria', 0.25)).toEqual([
      { teamId: a.id, modelId: 'malaria', prevalence: 0.25 },
    ]);
    expect(await setPrevalence(t.repos, actor, scope, false, a.id, 'malaria', 0.125)).toEqual([
      { teamId: a.id, modelId: 'malaria', prevalence: 0.125 },
    ]);
    await setPrevalence(t.repos, actor, scope, true, b.id, 'malaria', 0.5);
    const denied = await apiError(setPrevalence(t.repos, actor, scope, false, b.id, 'x', 0.1));
    expect(denied.status).toBe(403);
    const missing = await apiError(setPrevalence(t.repos, actor, scope, true, 'none', 'x', 0.1));
    expect(missing.status).toBe(404);

    expect(await manageableSettings(t.repos, scope, false)).toEqual({
      teams: [{ id: a.id, name: 'A' }],
      modelPrevalence: [{ teamId: a.id, modelId: 'malaria', prevalence: 0.125 }],
    });
    const all = await manageableSettings(t.repos, scope, true);
    expect(all.teams.map((x) => x.name)).toEqual(['A', 'B']);
    expect(all.modelPrevalence).toHaveLength(2);

    expect(await setPrevalence(t.repos, actor, scope, false, a.id, 'malaria', null)).toEqual([]);
    expect(await t.repos.models.prevalencesOf([a.id, b.id])).toEqual([
      { teamId: b.id, modelId: 'malaria', prevalence: 0.5 },
    ]);
  });
});
