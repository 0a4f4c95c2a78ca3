import { prevalencesOfDb } from './prevalence';
import { asc, eq } from 'drizzle-orm';
import { invalidateUserSessions } from '../auth/session';
import type { Db, DbOrTx } from '../db/connection';
import { teamMemberships, teams, users, type UserRow } from '../db/schema';
import { ApiError, notFound } from '../errors';
import type { TxRepositories } from '../repositories';
import type { AdminUser, MeResponse, MembershipSummary } from '../protocol';
import { writeAuditDb, type Actor } from './audit';
import { lockMinutesOfDb } from './teams';

export function membershipsOf(
  repos: Pick<TxRepositories, 'teams'>,
  userId: string,
): Promise<MembershipSummary[]> {
  return repos.teams.membershipsOf(userId);
}

/** Legacy synchronous membershipsOf for code not yet on repositories (issue 17): to be removed. */
export function membershipsOfDb(db: DbOrTx, userId: string): MembershipSummary[] {
  return db
    .select({ teamId: teams.id, teamName: teams.name, role: teamMemberships.role })
    .from(teamMemberships)
    .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
    .where(eq(teamMemberships.userId, userId))
    .orderBy(asc(teams.name))
    .all();
}

export function meOf(db: DbOrTx, user: UserRow): MeResponse {
  const memberships = membershipsOfDb(db, user.id);
  return {
    user: { id: user.id, email: user.email, name: user.name },
    memberships,
    isAdmin: user.isAdmin,
    modelPrevalence: prevalencesOfDb(db, [...new Set(memberships.map((m) => m.teamId))]),
    lockMinutes: lockMinutesOfDb(
      db,
      memberships.map((m) => m.teamId),
    ),
  };
}

export function listUsers(db: Db): AdminUser[] {
  const rows = db.select().from(users).orderBy(asc(users.email)).all();
  const memberships = db
    .select({
      userId: teamMemberships.userId,
      teamId: teams.id,
      teamName: teams.name,
      role: teamMemberships.role,
    })
    .from(teamMemberships)
    .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
    .orderBy(asc(teams.name))
    .all();
  const byUser = new Map<string, MembershipSummary[]>();
  for (const { userId, ...m } of memberships) {
    const list = byUser.get(userId) ?? [];
    list.push(m);
    byUser.set(userId, list);
  }
  return rows.map((u) => toAdminUser(u, byUser.get(u.id) ?? []));
}

function toAdminUser(u: UserRow, memberships: MembershipSummary[]): AdminUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    isAdmin: u.isAdmin,
    disabled: u.disabledAt !== null,
    createdAt: u.createdAt.toISOString(),
    memberships,
  };
}

/** Disabling ends every session of the user in the same transaction. */
export function setUserDisabled(
  db: Db,
  userId: string,
  disabled: boolean,
  actor: Actor,
): AdminUser {
  if (disabled && userId === actor.userId) {
    throw new ApiError(400, 'cannot_disable_self', 'You cannot disable your own account');
  }
  return db.transaction(
    (tx) => {
      const user = tx.select().from(users).where(eq(users.id, userId)).get();
      if (!user) throw notFound('User');
      const disabledAt = disabled ? (user.disabledAt ?? actor.at) : null;
      tx.update(users).set({ disabledAt }).where(eq(users.id, userId)).run();
      if (disabled) invalidateUserSessions(tx, userId);
      writeAuditDb(tx, actor, disabled ? 'user.disable' : 'user.enable', userId);
      return toAdminUser({ ...user, disabledAt }, membershipsOfDb(tx, userId));
    },
    { behavior: 'immediate' },
  );
}
