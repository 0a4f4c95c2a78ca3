import { ApiError } from '../errors';
import type { Repositories, TxRepositories } from '../repositories';
import type { ModelPrevalence } from '../protocol';
import { writeAudit, type Actor } from './audit';
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
/** The teams whose settings the caller may change, with their prevalences. */
export async function manageableSettings(
  repos: Pick<TxRepositories, 'teams' | 'models'>,
  scope: Scope,
  isAdmin: boolean,
): Promise<{ teams: { id: string; name: string }[]; modelPrevalence: ModelPrevalence[] }> {
  const all = await repos.teams.teamNames();
  const mine = isAdmin ? all : all.filter((t) => scope.supervisorTeams.has(t.id));
  return {
    teams: mine,
    modelPrevalence: await prevalencesOf(
      repos,
      mine.map((t) => t.id),
    ),
  };
}

/** Sets (or, with null, clears) a team's prevalence for a model; admins and its supervisors only. */
export async function setPrevalence(
  repos: Repositories,
  actor: Actor & { userId: string },
  scope: Scope,
  isAdmin: boolean,
  teamId: string,
  modelId: string,
  prevalence: number | null,
): Promise<ModelPrevalence[]> {
  if (!isAdmin && !scope.supervisorTeams.has(teamId)) {
    throw new ApiError(
      403,
      'forbidden',
      "Only an administrator or a supervisor of the team may set its models' local prevalence",
    );
  }
  return repos.transaction(async (tx) => {
    if (!(await tx.teams.getTeam(teamId))) {
      throw new ApiError(404, 'not_found', 'Team not found');
    }
    // An upsert (INSERT … ON CONFLICT DO UPDATE): two settings at once leave the last one.
    if (prevalence === null) await tx.models.clearPrevalence(teamId, modelId);
    else {
      await tx.models.setPrevalence({
        teamId,
        modelId,
        prevalence,
        updatedAt: actor.at,
        updatedBy: actor.userId,
      });
    }
    await writeAudit(tx, actor, 'team.model_prevalence', teamId, { modelId, prevalence });
    return prevalencesOf(tx, [teamId]);
  });
}
