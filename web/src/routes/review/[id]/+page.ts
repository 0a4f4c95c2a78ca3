import { reviewApi } from '$lib/api/review';
import type { PageLoad } from './$types';

/**
 * The report is asked for as the navigation starts, and already when the pointer rests on a
 * report in the queue (the app preloads data on hover), not once the page has rendered. The page
 * awaits `bundle`, and reads the report again itself after sending.
 */
export const load: PageLoad = ({ params }) => {
  const bundle = reviewApi.bundle(params.id);
  // Handled where the page shows it; unobserved (not a reviewer), it must not be reported.
  bundle.catch(() => {});
  return { reportId: params.id, bundle };
};
