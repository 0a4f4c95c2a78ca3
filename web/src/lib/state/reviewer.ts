import type { Me } from '$lib/api/client';

/** Whether this user reviews reports: a supervisor in some team, or an admin (any team). */
export function canReview(me: Me | null): boolean {
  return !!me && (me.isAdmin || me.memberships.some((m) => m.role === 'supervisor'));
}

/** The author of a supervisor's record about a report of `teamId`. */
export function reviewerFor(me: Me, teamId: string) {
  return { userId: me.user.id, teamId, name: me.user.name };
}
