import { and, asc, count, eq, inArray, min, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import { teamMemberships, teams, users, type TeamRow } from '../db/schema';
import type { TxRepositories } from '../repositories';
import { ApiError, notFound } from '../errors';
import { DEFAULT_LOCK_MINUTES, type Membership, type Role, type Team } from '../protocol';
import { writeAuditDb, type Actor } from './audit';
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

function memberCount(db: DbOrTx, teamId: string): number {
  const row = db
    .select({ n: count() })
    .from(teamMemberships)
    .where(eq(teamMemberships.teamId, teamId))
    .get();
  return row?.n ?? 0;
}

export function getTeamRow(db: DbOrTx, teamId: string): TeamRow {
  const team = db.select().from(teams).where(eq(teams.id, teamId)).get();
  if (!team) throw notFound('Team');
  return team;
}

export function listTeams(db: Db): Team[] {
  const counts = db
    .select({ teamId: teamMemberships.teamId, n: count().as('n') })
    .from(teamMemberships)
    .groupBy(teamMemberships.teamId)
    .as('counts');
  return db
    .select({ team: teams, n: counts.n })
    .from(teams)
    .leftJoin(counts, eq(counts.teamId, teams.id))
    .orderBy(asc(sql`lower(${teams.name})`))
    .all()
    .map(({ team, n }) => toTeam(team, n ?? 0));
}

export function createTeam(db: Db, name: string, actor: Actor): Team {
  try {
    return db.transaction(
      (tx) => {
        const row: TeamRow = {
          id: crypto.randomUUID(),
          name,
          lockMinutes: DEFAULT_LOCK_MINUTES,
          createdAt: actor.at,
          updatedAt: actor.at,
        };
        tx.insert(teams).values(row).run();
        writeAuditDb(tx, actor, 'team.create', row.id, { name });
        return toTeam(row, 0);
      },
      { behavior: 'immediate' },
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(name);
    throw err;
  }
}

export function renameTeam(db: Db, teamId: string, name: string, actor: Actor): Team {
  try {
    return db.transaction(
      (tx) => {
        const team = getTeamRow(tx, teamId);
        tx.update(teams).set({ name, updatedAt: actor.at }).where(eq(teams.id, teamId)).run();
        writeAuditDb(tx, actor, 'team.update', teamId, { name, previousName: team.name });
        return toTeam({ ...team, name, updatedAt: actor.at }, memberCount(tx, teamId));
      },
      { behavior: 'immediate' },
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(name);
    throw err;
  }
}

/** Sets how long the team's tablets stay unlocked while idle or hidden; admins only (route). */
export function setLockMinutes(db: Db, teamId: string, lockMinutes: number, actor: Actor): Team {
  return db.transaction(
    (tx) => {
      const team = getTeamRow(tx, teamId);
      tx.update(teams).set({ lockMinutes, updatedAt: actor.at }).where(eq(teams.id, teamId)).run();
      writeAuditDb(tx, actor, 'team.lock_minutes', teamId, {
        lockMinutes,
        previous: team.lockMinutes,
      });
      return toTeam({ ...team, lockMinutes, updatedAt: actor.at }, memberCount(tx, teamId));
    },
    { behavior: 'immediate' },
  );
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

/** Legacy synchronous lockMinutesOf for code not yet on repositories (issue 17): to be removed. */
export function lockMinutesOfDb(db: DbOrTx, teamIds: readonly string[]): number {
  if (teamIds.length === 0) return DEFAULT_LOCK_MINUTES;
  const row = db
    .select({ minutes: min(teams.lockMinutes) })
    .from(teams)
    .where(inArray(teams.id, [...teamIds]))
    .get();
  return row?.minutes ?? DEFAULT_LOCK_MINUTES;
}

/** Adds the user to the team, or changes their role there. An admin may add themselves. */
export function upsertMembership(
  db: Db,
  teamId: string,
  userId: string,
  role: Role,
  actor: Actor,
): Membership {
  return db.transaction(
    (tx) => {
      getTeamRow(tx, teamId);
      const user = tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).get();
      if (!user) throw notFound('User');
      tx.insert(teamMemberships)
        .values({ teamId, userId, role, createdAt: actor.at })
        .onConflictDoUpdate({
          target: [teamMemberships.teamId, teamMemberships.userId],
          set: { role },
        })
        .run();
      writeAuditDb(tx, actor, 'team.member_upsert', teamId, { userId, role });
      return { teamId, userId, role };
    },
    { behavior: 'immediate' },
  );
}

export function removeMembership(db: Db, teamId: string, userId: string, actor: Actor): void {
  db.transaction(
    (tx) => {
      getTeamRow(tx, teamId);
      const where = and(eq(teamMemberships.teamId, teamId), eq(teamMemberships.userId, userId));
      const result = tx.delete(teamMemberships).where(where).run();
      if (result.changes === 0) throw notFound('Membership');
      writeAuditDb(tx, actor, 'team.member_remove', teamId, { userId });
    },
    { behavior: 'immediate' },
  );
}
