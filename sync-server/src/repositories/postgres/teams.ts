import { and, asc, count, desc, eq, gt, inArray, isNull, min, sql } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { invitations, teamMemberships, teams, users } from '../../db/schema.pg';
import type { InvitationRow, TeamRow } from '../../db/schema';
import type { Role } from '../../protocol';
import type { InvitationWithTeam, TeamsRepository } from '../teams.repository';

// Still unused, unrevoked and unexpired when the UPDATE runs: on PostgreSQL a revocation committed
// by another instance after the sign-up checked the code is seen here (READ COMMITTED re-reads).
const redeemableNow = (code: string, at: Date) =>
  and(
    eq(invitations.code, code),
    isNull(invitations.usedAt),
    isNull(invitations.revokedAt),
    gt(invitations.expiresAt, at),
  );

// Byte order of the lower-cased name, as SQLite sorts it, whatever the database's collation.
const byName = sql`lower(${teams.name}) collate "C"`;

export class PgTeamsRepository implements TeamsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  membershipsOf(userId: string) {
    return this.db
      .select({ teamId: teams.id, teamName: teams.name, role: teamMemberships.role })
      .from(teamMemberships)
      .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
      .where(eq(teamMemberships.userId, userId))
      .orderBy(asc(sql`${teams.name} collate "C"`));
  }

  async minLockMinutes(teamIds: readonly string[]) {
    const [row] = await this.db
      .select({ minutes: min(teams.lockMinutes) })
      .from(teams)
      .where(inArray(teams.id, [...teamIds]));
    return row?.minutes ?? null;
  }

  async getInvitation(code: string) {
    const [row] = await this.db.select().from(invitations).where(eq(invitations.code, code));
    return row;
  }

  async markInvitationUsed(code: string, userId: string, at: Date) {
    const rows = await this.db
      .update(invitations)
      .set({ usedAt: at, usedBy: userId })
      .where(redeemableNow(code, at))
      .returning({ code: invitations.code });
    return rows.length === 1;
  }

  async allTeamIds() {
    const rows = await this.db.select({ id: teams.id }).from(teams).orderBy(asc(teams.id));
    return rows.map((t) => t.id);
  }

  async getTeam(teamId: string, forUpdate = false) {
    const query = this.db.select().from(teams).where(eq(teams.id, teamId));
    const [row] = forUpdate ? await query.for('update') : await query;
    return row;
  }

  async listTeams() {
    const counts = this.db
      .select({ teamId: teamMemberships.teamId, n: count().as('n') })
      .from(teamMemberships)
      .groupBy(teamMemberships.teamId)
      .as('counts');
    const rows = await this.db
      .select({ team: teams, n: counts.n })
      .from(teams)
      .leftJoin(counts, eq(counts.teamId, teams.id))
      .orderBy(byName, asc(teams.id));
    // count(*) in a subquery comes back as the driver gives int8: a number (db/postgres.ts).
    return rows.map(({ team, n }) => ({ team, memberCount: Number(n ?? 0) }));
  }

  teamNames() {
    return this.db
      .select({ id: teams.id, name: teams.name })
      .from(teams)
      .orderBy(byName, asc(teams.id));
  }

  async memberCount(teamId: string) {
    const [row] = await this.db
      .select({ n: count() })
      .from(teamMemberships)
      .where(eq(teamMemberships.teamId, teamId));
    return row?.n ?? 0;
  }

  async insertTeam(row: TeamRow) {
    await this.db.insert(teams).values(row);
  }

  async updateTeam(
    teamId: string,
    set: Partial<Pick<TeamRow, 'name' | 'lockMinutes'>> & { updatedAt: Date },
  ) {
    await this.db.update(teams).set(set).where(eq(teams.id, teamId));
  }

  async upsertMembership(m: { teamId: string; userId: string; role: Role; createdAt: Date }) {
    // One statement: the user is checked and the row written together. (The casts: parameters in
    // a SELECT list would otherwise be text.)
    const result = await this.db.execute(sql`
      INSERT INTO ${teamMemberships} (team_id, user_id, role, created_at)
      SELECT ${m.teamId}::text, ${users.id}, ${m.role}::text, ${m.createdAt.getTime()}::bigint
      FROM ${users} WHERE ${users.id} = ${m.userId}
      ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role
    `);
    return result.rowCount === 1;
  }

  async deleteMembership(teamId: string, userId: string) {
    const rows = await this.db
      .delete(teamMemberships)
      .where(and(eq(teamMemberships.teamId, teamId), eq(teamMemberships.userId, userId)))
      .returning({ userId: teamMemberships.userId });
    return rows.length === 1;
  }

  async insertInvitation(row: InvitationRow) {
    await this.db.insert(invitations).values(row);
  }

  async listInvitations() {
    const rows = await this.db
      .select({ invitation: invitations, teamName: teams.name })
      .from(invitations)
      .innerJoin(teams, eq(teams.id, invitations.teamId))
      .orderBy(desc(invitations.createdAt), asc(sql`${invitations.code} collate "C"`));
    return rows as InvitationWithTeam[];
  }

  async getInvitationWithTeam(code: string) {
    const [row] = await this.db
      .select({ invitation: invitations, teamName: teams.name })
      .from(invitations)
      .innerJoin(teams, eq(teams.id, invitations.teamId))
      .where(eq(invitations.code, code));
    return row as InvitationWithTeam | undefined;
  }

  async revokeInvitation(code: string, at: Date) {
    const [row] = await this.db
      .update(invitations)
      .set({ revokedAt: sql`coalesce(${invitations.revokedAt}, ${at.getTime()}::bigint)` })
      .where(eq(invitations.code, code))
      .returning({ revokedAt: invitations.revokedAt });
    return row?.revokedAt ?? undefined;
  }
}
