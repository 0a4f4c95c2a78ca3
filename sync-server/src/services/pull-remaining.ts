import type { SyncRepository } from '../repositories/sync.repository';
import type { Scope } from './scope';

/**
 * How many records after `after` (a pull cursor) the caller's scope holds: what a pull from there
 * would still bring, for the device to show "1,200 of 10,000". The same scope as a pull page
 * (services/sync.ts pull): every table of the teams where the caller is a clinician, only the
 * review side of the teams they only supervise, nothing of other teams (the count itself is the
 * sync repository's countChanges, on either dialect).
 *
 * An upper bound: the device's own writes that the pull leaves out (no echo, `acked`) are counted.
 * On a first download (nothing acknowledged yet) it is exact. It walks the rowid range after the
 * cursor like the pull itself, so a route asks for it once per sync (`?remaining=1`), not per page.
 */
export function pullRemaining(repo: SyncRepository, scope: Scope, after: number): Promise<number> {
  const clinical = [...scope.clinicianTeams];
  const supervisedOnly = [...scope.supervisorTeams].filter((t) => !scope.clinicianTeams.has(t));
  if (clinical.length === 0 && supervisedOnly.length === 0) return Promise.resolve(0);
  return repo.countChanges(after, clinical, supervisedOnly);
}

/** A pull page's JSON body (an object) with `remaining` added, without parsing it again. */
export function withRemaining(body: string, remaining: number): string {
  return `${body.slice(0, body.lastIndexOf('}'))},"remaining":${remaining}}`;
}
