import { type TeamRow } from '../db/schema';
import type { Repositories, TxRepositories } from '../repositories';
import { ApiError, notFound } from '../errors';
import { DEFAULT_LOCK_MINUTES, type Membership, type Role, type Team } from '../protocol';
import { writeAudit, type Actor } from './audit';
import { isUniqueViolation } from './db-errors';

function toTeam(row: TeamRow, memberCount: number): Team {
  return {
    id: row.id,
    name: row.name,
    memberCount,
    lockMinutes: row.lockMinutes,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const nameTaken = (name: string) =>
  new ApiError(409, 'team_name_taken', `A team named "${name}" already exists`);

/** The unique index on lower(name): "Clinic A" and "clinic a" are one name (db/schema.ts). */
const NAME_INDEX = 'teams_name_unique';

/**
 * The team, or 404. With `forUpdate` (inside a transaction) its row stays locked until the end, so
 * that two changes of one team at once are audited with the right previous value on PostgreSQL.
 */
export async function getTeamRow(
  repos: Pick<TxRepositories, 'teams'>,
  teamId: string,
  forUpdate = false,
): Promise<TeamRow> {
  const team = await repos.teams.getTeam(teamId, forUpdate);
  if (!team) throw notFound('Team');
  return team;
}

export async function listTeams(repos: Pick<TxRepositories, 'teams'>): Promise<Team[]> {
  return (await repos.teams.listTeams()).map(({ team, memberCount }) => toTeam(team, memberCount));
}

export async function createTeam(repos: Repositories, name: string, actor: Actor): Promise<Team> {
  try {
    return await repos.transaction(async (tx) => {
      const row: TeamRow = {
        id: crypto.randomUUID(),
        name,
        lockMinutes: DEFAULT_LOCK_MINUTES,
        createdAt: actor.at,
        updatedAt: actor.at,
      };
      // Two admins creating the same name at once: the unique index refuses the second.
      await tx.teams.insertTeam(row);
      await writeAudit(tx, actor, 'team.create', row.id, { name });
      return toTeam(row, 0);
    });
  } catch (err) {
    if (isUniqueViolation(err, NAME_INDEX)) throw nameTaken(name);
    throw err;
  }
}

export async function renameTeam(
  repos: Repositories,
  teamId: string,
  name: string,
  actor: Actor,
): Promise<Team> {
  try {
    return await repos.transaction(async (tx) => {
      const team = await getTeamRow(tx, teamId, true);
      await tx.teams.updateTeam(teamId, { name, updatedAt: actor.at });
      await writeAudit(tx, actor, 'team.update', teamId, { name, previousName: team.name });
      return toTeam({ ...team, name, updatedAt: actor.at }, await tx.teams.memberCount(teamId));
    });
  } catch (err) {
    if (isUniqueViolation(err, NAME_INDEX)) throw nameTaken(name);
    throw err;
  }
}

/** Sets how long the team's tablets stay unlocked while idle or hidden; admins only (route). */
export async function setLockMinutes(
  repos: Repositories,
  teamId: string,
  lockMinutes: number,
  actor: Actor,
): Promise<Team> {
  return repos.transaction(async (tx) => {
    const team = await getTeamRow(tx, teamId, true);
    await tx.teams.updateTeam(teamId, { lockMinutes, updatedAt: actor.at });
    await writeAudit(tx, actor, 'team.lock_minutes', teamId, {
      lockMinutes,
      previous: team.lockMinutes,
    });
    return toTeam(
      { ...team, lockMinutes, updatedAt: actor.at },
      await tx.teams.memberCount(teamId),
    );
  });
}

/**
 * The lock delay of a user in these teams: the shortest (a tablet used for several teams follows
 * the strictest), the default when they belong to none.
 */
export async function lockMinutesOf(
  repos: Pick<TxRepositories, 'teams'>,
  teamIds: readonly string[],
): Promise<number> {
  if (teamIds.length === 0) return DEFAULT_LOCK_MINUTES;
  return (await repos.teams.minLockMinutes(teamIds)) ?? DEFAULT_LOCK_MINUTES;
}
/** Adds the user to the team, or changes their role there. An admin may add themselves. */
export async function upsertMembership(
  repos: Repositories,
  teamId: string,
  userId: string,
  role: Role,
  actor: Actor,
): Promise<Membership> {
  return repos.transaction(async (tx) => {
    await getTeamRow(tx, teamId);
    // The user's existence is checked by the write itself (INSERT … SELECT FROM users).
    if (!(await tx.teams.upsertMembership({ teamId, userId, role, createdAt: actor.at }))) {
      throw notFound('User');
    }
    await writeAudit(tx, actor, 'team.member_upsert', teamId, { userId, role });
    return { teamId, userId, role };
  });
}

export async function removeMembership(
  repos: Repositories,
  teamId: string,
  userId: string,
  actor: Actor,
): Promise<void> {
  await repos.transaction(async (tx) => {
    await getTeamRow(tx, teamId);
    if (!(await tx.teams.deleteMembership(teamId, userId))) throw notFound('Membership');
    await writeAudit(tx, actor, 'team.member_remove', teamId, { userId });
  });
}
