import { and, asc, eq, inArray, isNull, min } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import { invitations, teamMemberships, teams } from '../../db/schema.pg';
import type { TeamsRepository } from '../teams.repository';

export class PgTeamsRepository implements TeamsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  membershipsOf(userId: string) {
    return this.db
      .select({ teamId: teams.id, teamName: teams.name, role: teamMemberships.role })
      .from(teamMemberships)
      .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
      .where(eq(teamMemberships.userId, userId))
      .orderBy(asc(teams.name));
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
      .where(and(eq(invitations.code, code), isNull(invitations.usedAt)))
      .returning({ code: invitations.code });
    return rows.length === 1;
  }

  async allTeamIds() {
    const rows = await this.db.select({ id: teams.id }).from(teams).orderBy(asc(teams.id));
    return rows.map((t) => t.id);
  }
}
