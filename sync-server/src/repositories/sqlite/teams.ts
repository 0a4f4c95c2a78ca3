import { and, asc, eq, inArray, isNull, min, sql } from 'drizzle-orm';
import type { Db } from '../../db/connection';
import { invitations, teamMemberships, teams } from '../../db/schema';
import type { TeamsRepository } from '../teams.repository';
import type { SqliteRunner } from './runner';

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
          .where(and(eq(invitations.code, code), isNull(invitations.usedAt)))
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
}
