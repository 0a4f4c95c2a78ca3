import type { TxRepositories } from '../repositories';

/**
 * What a user may read and write (DESIGN 3), from their team memberships at the time of the
 * request; nothing the client says is taken into account.
 *
 * - clinician of a team: reads and writes its records (all tables but reviews).
 * - supervisor of a team: pulls only its reviews, comments and follow-ups; reads shared reports
 *   and what they reference through /api/review; writes reviews, comments and follow-ups.
 * - admin: acts as a supervisor of every team through /api/review and review-side writes (not in
 *   pulls); clinical records only with a clinician role.
 * - no membership: nothing.
 */
export interface Scope {
  userId: string;
  isAdmin: boolean;
  clinicianTeams: ReadonlySet<string>;
  supervisorTeams: ReadonlySet<string>;
  /** Every team the user may pull from, sorted. */
  readTeams: readonly string[];
  /**
   * The teams with the role in each (`clinician:<id>` / `supervisor:<id>`), sorted: what a pull
   * cursor was issued under. A change of team or of role resets the device's pull.
   */
  fingerprint: readonly string[];
}

export async function scopeOf(
  repos: Pick<TxRepositories, 'accounts' | 'teams'>,
  userId: string,
): Promise<Scope> {
  const [memberships, isAdmin] = await Promise.all([
    repos.teams.membershipsOf(userId),
    repos.accounts.isAdmin(userId),
  ]);
  return scopeFrom(userId, isAdmin, memberships);
}

/** The scope these memberships give (their team ids and roles). */
export function scopeFrom(
  userId: string,
  isAdmin: boolean,
  memberships: readonly { teamId: string; role: string }[],
): Scope {
  const clinicianTeams = new Set<string>();
  const supervisorTeams = new Set<string>();
  for (const m of memberships) {
    (m.role === 'clinician' ? clinicianTeams : supervisorTeams).add(m.teamId);
  }
  const readTeams = [...new Set([...clinicianTeams, ...supervisorTeams])].sort();
  const fingerprint = [
    ...[...clinicianTeams].map((t) => `clinician:${t}`),
    ...[...supervisorTeams].map((t) => `supervisor:${t}`),
  ].sort();
  return { userId, isAdmin, clinicianTeams, supervisorTeams, readTeams, fingerprint };
}
export const canRead = (scope: Scope, teamId: string) =>
  scope.clinicianTeams.has(teamId) || scope.supervisorTeams.has(teamId);

/** May review the team's shared reports: its supervisor, or an admin. */
export const canReview = (scope: Scope, teamId: string) =>
  scope.isAdmin || scope.supervisorTeams.has(teamId);
