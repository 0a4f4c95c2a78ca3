import { and, asc, count, desc, eq, gt, inArray, isNull, min, sql } from 'drizzle-orm';
import type { Db } from '../../db/connection';
import {
  invitations,
  teamMemberships,
  teams,
  users,
  type InvitationRow,
  type TeamRow,
} from '../../db/schema';
import type { Role } from '../../protocol';
import type { TeamsRepository } from '../teams.repository';
import type { SqliteRunner } from './runner';

// Still unused, unrevoked and unexpired when the UPDATE runs: on PostgreSQL a revocation committed
// by another instance after the sign-up checked the code is seen here (READ COMMITTED re-reads).
const redeemableNow = (code: string, at: Date) =>
  and(
    eq(invitations.code, code),
    isNull(invitations.usedAt),
    isNull(invitations.revokedAt),
    gt(invitations.expiresAt, at),
  );

// Read on every request that needs a scope: prepared once per connection.
const prepareMemberships = (db: Db) =>
  db
    .select({ teamId: teams.id, teamName: teams.name, role: teamMemberships.role })
    .from(teamMemberships)
    .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
    .where(eq(teamMemberships.userId, sql.placeholder('userId')))
    .orderBy(asc(teams.name))
    .prepare();
const membershipStatements = new WeakMap<Db, ReturnType<typeof prepareMemberships>>();

export class SqliteTeamsRepository implements TeamsRepository {
  constructor(private readonly r: SqliteRunner) {}

  membershipsOf(userId: string) {
    let statement = membershipStatements.get(this.r.db);
    if (!statement)
      membershipStatements.set(this.r.db, (statement = prepareMemberships(this.r.db)));
    const s = statement;
    return this.r.run(() => s.all({ userId }));
  }

  minLockMinutes(teamIds: readonly string[]) {
    return this.r.run(
      () =>
        this.r.db
          .select({ minutes: min(teams.lockMinutes) })
          .from(teams)
          .where(inArray(teams.id, [...teamIds]))
          .get()?.minutes ?? null,
    );
  }

  getInvitation(code: string) {
    return this.r.run(() =>
      this.r.db.select().from(invitations).where(eq(invitations.code, code)).get(),
    );
  }

  markInvitationUsed(code: string, userId: string, at: Date) {
    return this.r.run(
      () =>
        this.r.db
          .update(invitations)
          .set({ usedAt: at, usedBy: userId })
          .where(redeemableNow(code, at))
          .run().changes === 1,
    );
  }

  allTeamIds() {
    return this.r.run(() =>
      this.r.db
        .select({ id: teams.id })
        .from(teams)
        .orderBy(asc(teams.id))
        .all()
        .map((t) => t.id),
    );
  }

  // A SQLite write transaction holds the whole database: nothing to lock row by row.
  getTeam(teamId: string, _forUpdate = false) {
    return this.r.run(() => this.r.db.select().from(teams).where(eq(teams.id, teamId)).get());
  }

  listTeams() {
    const counts = this.r.db
      .select({ teamId: teamMemberships.teamId, n: count().as('n') })
      .from(teamMemberships)
      .groupBy(teamMemberships.teamId)
      .as('counts');
    return this.r.run(() =>
      this.r.db
        .select({ team: teams, n: counts.n })
        .from(teams)
        .leftJoin(counts, eq(counts.teamId, teams.id))
        .orderBy(asc(sql`lower(${teams.name})`), asc(teams.id))
        .all()
        .map(({ team, n }) => ({ team, memberCount: n ?? 0 })),
    );
  }

  teamNames() {
    return this.r.run(() =>
      this.r.db
        .select({ id: teams.id, name: teams.name })
        .from(teams)
        .orderBy(asc(sql`lower(${teams.name})`), asc(teams.id))
        .all(),
    );
  }

  memberCount(teamId: string) {
    return this.r.run(
      () =>
        this.r.db
          .select({ n: count() })
          .from(teamMemberships)
          .where(eq(teamMemberships.teamId, teamId))
          .get()?.n ?? 0,
    );
  }

  insertTeam(row: TeamRow) {
    return this.r.run(() => {
      this.r.db.insert(teams).values(row).run();
    });
  }

  updateTeam(
    teamId: string,
    set: Partial<Pick<TeamRow, 'name' | 'lockMinutes'>> & { updatedAt: Date },
  ) {
    return this.r.run(() => {
      this.r.db.update(teams).set(set).where(eq(teams.id, teamId)).run();
    });
  }

  upsertMembership(m: { teamId: string; userId: string; role: Role; createdAt: Date }) {
    // One statement: the user is checked and the row written together. (SQLite needs the WHERE
    // for an upsert on INSERT … SELECT.)
    return this.r.run(
      () =>
        this.r.db.run(sql`
          INSERT INTO ${teamMemberships} (team_id, user_id, role, created_at)
          SELECT ${m.teamId}, ${users.id}, ${m.role}, ${m.createdAt.getTime()}
          FROM ${users} WHERE ${users.id} = ${m.userId}
          ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role
        `).changes === 1,
    );
  }

  deleteMembership(teamId: string, userId: string) {
    return this.r.run(
      () =>
        this.r.db
          .delete(teamMemberships)
          .where(and(eq(teamMemberships.teamId, teamId), eq(teamMemberships.userId, userId)))
          .run().changes === 1,
    );
  }

  insertInvitation(row: InvitationRow) {
    return this.r.run(() => {
      this.r.db.insert(invitations).values(row).run();
    });
  }

  listInvitations() {
    return this.r.run(() =>
      this.r.db
        .select({ invitation: invitations, teamName: teams.name })
        .from(invitations)
        .innerJoin(teams, eq(teams.id, invitations.teamId))
        .orderBy(desc(invitations.createdAt), asc(invitations.code))
        .all(),
    );
  }

  getInvitationWithTeam(code: string) {
    return this.r.run(() =>
      this.r.db
        .select({ invitation: invitations, teamName: teams.name })
        .from(invitations)
        .innerJoin(teams, eq(teams.id, invitations.teamId))
        .where(eq(invitations.code, code))
        .get(),
    );
  }

  revokeInvitation(code: string, at: Date) {
    return this.r.run(
      () =>
        this.r.db
          .update(invitations)
          .set({ revokedAt: sql`coalesce(${invitations.revokedAt}, ${at.getTime()})` })
          .where(eq(invitations.code, code))
          .returning({ revokedAt: invitations.revokedAt })
          .get()?.revokedAt ?? undefined,
    );
  }
}
