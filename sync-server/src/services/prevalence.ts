import { and, eq, inArray } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import { teamModelSettings, teams } from '../db/schema';
import { ApiError } from '../errors';
import type { TxRepositories } from '../repositories';
import type { ModelPrevalence } from '../protocol';
import { writeAuditDb, type Actor } from './audit';
import type { Scope } from './scope';

/*
 * The local prevalence of each model's condition per team (docs/architecture.md §6). Set by an
 * admin or a supervisor of the team; read by the team's members with their profile, so it works
 * offline on the tablet.
 */

export async function prevalencesOf(
  repos: Pick<TxRepositories, 'models'>,
  teamIds: readonly string[],
): Promise<ModelPrevalence[]> {
  if (teamIds.length === 0) return [];
  return repos.models.prevalencesOf(teamIds);
}

/** Legacy synchronous prevalencesOf for code not yet on repositories (issue 17): to be removed. */
export function prevalencesOfDb(db: DbOrTx, teamIds: readonly string[]): ModelPrevalence[] {
  if (teamIds.length === 0) return [];
  return db
    .select({
      teamId: teamModelSettings.teamId,
      modelId: teamModelSettings.modelId,
      prevalence: teamModelSettings.prevalence,
    })
    .from(teamModelSettings)
    .where(inArray(teamModelSettings.teamId, [...teamIds]))
    .all();
}

/** The teams whose settings the caller may change, with their prevalences. */
export function manageableSettings(
  db: Db,
  scope: Scope,
  isAdmin: boolean,
): { teams: { id: string; name: string }[]; modelPrevalence: ModelPrevalence[] } {
  const all = db.select({ id: teams.id, name: teams.name }).from(teams).orderBy(teams.name).all();
  const mine = isAdmin ? all : all.filter((t) => scope.supervisorTeams.has(t.id));
  return {
    teams: mine,
    modelPrevalence: prevalencesOfDb(
      db,
      mine.map((t) => t.id),
    ),
  };
}

/** Sets (or, with null, clears) a team's prevalence for a model; admins and its supervisors only. */
export function setPrevalence(
  db: Db,
  actor: Actor & { userId: string },
  scope: Scope,
  isAdmin: boolean,
  teamId: string,
  modelId: string,
  prevalence: number | null,
): ModelPrevalence[] {
  if (!isAdmin && !scope.supervisorTeams.has(teamId)) {
    throw new ApiError(
      403,
      'forbidden',
      "Only an administrator or a supervisor of the team may set its models' local prevalence",
    );
  }
  return db.transaction((tx) => {
    if (!tx.select({ id: teams.id }).from(teams).where(eq(teams.id, teamId)).get()) {
      throw new ApiError(404, 'not_found', 'Team not found');
    }
    const key = and(eq(teamModelSettings.teamId, teamId), eq(teamModelSettings.modelId, modelId));
    if (prevalence === null) {
      tx.delete(teamModelSettings).where(key).run();
    } else {
      tx.insert(teamModelSettings)
        .values({ teamId, modelId, prevalence, updatedAt: actor.at, updatedBy: actor.userId })
        .onConflictDoUpdate({
          target: [teamModelSettings.teamId, teamModelSettings.modelId],
          set: { prevalence, updatedAt: actor.at, updatedBy: actor.userId },
        })
        .run();
    }
    writeAuditDb(tx, actor, 'team.model_prevalence', teamId, { modelId, prevalence });
    return prevalencesOfDb(tx, [teamId]);
  });
}
