import { prevalencesOf } from './prevalence';
import { invalidateUserSessions } from '../auth/session';
import { type UserRow } from '../db/schema';
import { ApiError, notFound } from '../errors';
import type { Repositories, TxRepositories } from '../repositories';
import type { AdminUser, MeResponse, MembershipSummary } from '../protocol';
import { writeAudit, type Actor } from './audit';
import { lockMinutesOf } from './teams';

export function membershipsOf(
  repos: Pick<TxRepositories, 'teams'>,
  userId: string,
): Promise<MembershipSummary[]> {
  return repos.teams.membershipsOf(userId);
}
export async function meOf(
  repos: Pick<TxRepositories, 'teams' | 'models'>,
  user: UserRow,
): Promise<MeResponse> {
  const memberships = await membershipsOf(repos, user.id);
  const teamIds = [...new Set(memberships.map((m) => m.teamId))];
  const [modelPrevalence, lockMinutes] = await Promise.all([
    prevalencesOf(repos, teamIds),
    lockMinutesOf(repos, teamIds),
  ]);
  return {
    user: { id: user.id, email: user.email, name: user.name },
    memberships,
    isAdmin: user.isAdmin,
    modelPrevalence,
    lockMinutes,
  };
}

export async function listUsers(repos: Pick<TxRepositories, 'accounts'>): Promise<AdminUser[]> {
  const [rows, memberships] = await Promise.all([
    repos.accounts.listUsers(),
    repos.accounts.listMemberships(),
  ]);
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

/**
 * Disabling ends every session of the user in the same transaction. A sign-in racing with it on
 * another instance may still create a session after the commit: validateSessionToken refuses the
 * sessions of a disabled user on every request, so that session never serves one.
 */
export async function setUserDisabled(
  repos: Repositories,
  userId: string,
  disabled: boolean,
  actor: Actor,
): Promise<AdminUser> {
  if (disabled && userId === actor.userId) {
    throw new ApiError(400, 'cannot_disable_self', 'You cannot disable your own account');
  }
  return repos.transaction(async (tx) => {
    const user = await tx.accounts.userForUpdate(userId);
    if (!user) throw notFound('User');
    const disabledAt = disabled ? (user.disabledAt ?? actor.at) : null;
    await tx.accounts.setDisabledAt(userId, disabledAt);
    if (disabled) await invalidateUserSessions(tx, userId);
    await writeAudit(tx, actor, disabled ? 'user.disable' : 'user.enable', userId);
    return toAdminUser({ ...user, disabledAt }, await membershipsOf(tx, userId));
  });
}
