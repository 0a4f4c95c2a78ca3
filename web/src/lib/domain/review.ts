import { reviewStateOf, type ReviewState } from 'sync-server/protocol';
import type { Followup, Report, Review } from './records';

/**
 * The review state of a report as the tablet shows it: null for a draft; else the decision of
 * the latest review of its current revision, or awaiting. A returned report that the clinician
 * shared again on this device (its sharedAt after the review) awaits review even before the
 * server has given it its new revision.
 */
export function localReviewState(report: Report, reviews: readonly Review[]): ReviewState | null {
  if (report.status === 'draft' || !report.sharedAt) return null;
  const revision = Math.max(1, report.revision ?? 1);
  const state = reviewStateOf(revision, reviews);
  if (state !== 'returned') return state;
  const returned = latestReview(reviews.filter((r) => r.revision === revision));
  return returned && report.sharedAt > returned.createdAt ? 'awaiting' : 'returned';
}

/** The latest of these reviews (by createdAt, then id). */
export function latestReview<R extends Pick<Review, 'createdAt' | 'id'>>(
  reviews: readonly R[],
): R | undefined {
  let latest: R | undefined;
  for (const r of reviews) {
    if (
      !latest ||
      r.createdAt > latest.createdAt ||
      (r.createdAt === latest.createdAt && r.id > latest.id)
    )
      latest = r;
  }
  return latest;
}

/**
 * When a returned report is shared again: now, or just after the review that returned it if the
 * device clock is behind the supervisor's (the tablet then still sees it as shared again).
 */
export function reshareTime(returnedAt: string | undefined, now: Date): string {
  const at = now.toISOString();
  if (!returnedAt || at > returnedAt) return at;
  return new Date(Date.parse(returnedAt) + 1).toISOString();
}

export const STATE_LABELS: Record<ReviewState, string> = {
  awaiting: 'awaiting review',
  approved: 'approved',
  returned: 'returned',
};

/** UTC date of a moment, YYYY-MM-DD (follow-up due dates are dates). */
export const isoDate = (d: Date) => d.toISOString().slice(0, 10);

export function isOverdue(followup: Pick<Followup, 'dueDate' | 'status'>, today: string): boolean {
  return followup.status === 'open' && followup.dueDate < today;
}

/** Open follow-ups first, overdue ones before the rest, each by due date; then the closed ones. */
export function sortFollowups<F extends Pick<Followup, 'dueDate' | 'status' | 'id'>>(
  followups: readonly F[],
  today: string,
): F[] {
  const rank = (f: F) => (f.status !== 'open' ? 2 : isOverdue(f, today) ? 0 : 1);
  return [...followups].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (rank(a) === 2 ? b.dueDate.localeCompare(a.dueDate) : a.dueDate.localeCompare(b.dueDate)) ||
      a.id.localeCompare(b.id),
  );
}

/** When a UUIDv7 was made (ms since 1970), from its first 48 bits; null for other ids. */
export function uuidv7Time(id: string): number | null {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{12}7/i.test(hex)) return null;
  return parseInt(hex.slice(0, 12), 16);
}

/**
 * The encounter that can close a follow-up: the patient's latest visit recorded after it was asked
 * for (records made here carry their creation time in their UUIDv7 id; others count by date).
 */
export function closingEncounter<E extends { id: string; date: string; deleted: boolean }>(
  followup: Pick<Followup, 'createdAt'>,
  encounters: readonly E[],
): E | undefined {
  const askedAt = Date.parse(followup.createdAt);
  const since = followup.createdAt.slice(0, 10);
  return [...encounters]
    .filter((e) => {
      if (e.deleted || e.date < since) return false;
      const made = uuidv7Time(e.id);
      return made === null || made > askedAt;
    })
    .sort((a, b) => b.date.localeCompare(a.date) || b.id.localeCompare(a.id))[0];
}
