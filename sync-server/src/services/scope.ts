import type { DbOrTx } from '../db/connection';
import { membershipsOf } from './users';

/**
 * What a user may read and write (DESIGN 3), from their team memberships at the time of the
 * request; nothing the client says is taken into account.
 *
 * - clinician of a team: reads and writes its records (all tables but reviews).
 * - supervisor of a team: reads its records; writes only reviews (of reports in that team).
 * - no membership (e.g. an admin without a clinical role): nothing.
 */
export interface Scope {
  userId: string;
  clinicianTeams: ReadonlySet<string>;
  supervisorTeams: ReadonlySet<string>;
  /** Every team the user may read, sorted. */
  readTeams: readonly string[];
}

export function scopeOf(db: DbOrTx, userId: string): Scope {
  const clinicianTeams = new Set<string>();
  const supervisorTeams = new Set<string>();
  for (const m of membershipsOf(db, userId)) {
    (m.role === 'clinician' ? clinicianTeams : supervisorTeams).add(m.teamId);
  }
  const readTeams = [...new Set([...clinicianTeams, ...supervisorTeams])].sort();
  return { userId, clinicianTeams, supervisorTeams, readTeams };
}

export const canRead = (scope: Scope, teamId: string) =>
  scope.clinicianTeams.has(teamId) || scope.supervisorTeams.has(teamId);
