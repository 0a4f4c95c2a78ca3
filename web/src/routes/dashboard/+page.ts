import { reviewApi } from '$lib/api/review';
import type { PageLoad } from './$types';

/**
 * The dashboard's figures and the chart library are asked for as the navigation starts, alongside
 * the session check, instead of one after the other once the page has rendered. The page awaits
 * `answer` when the signed-in user may review (a 403 for anyone else is never shown).
 */
export const load: PageLoad = ({ url }) => {
  const q = url.searchParams;
  const answer = reviewApi.dashboard({
    ...(q.get('teamId') ? { teamId: q.get('teamId')! } : {}),
    ...(q.get('from') ? { from: q.get('from')! } : {}),
    ...(q.get('to') ? { to: q.get('to')! } : {}),
    ...(q.get('backupAlertDays') ? { backupAlertDays: q.get('backupAlertDays')! } : {}),
  });
  // Handled where the page shows it; unobserved (not a reviewer), it must not be reported.
  answer.catch(() => {});
  void import('$lib/components/dashboard/chartjs');
  return { answer };
};
