import type {
  DashboardQuery,
  DashboardResponse,
  QueueFilters,
  QueueQuery,
  QueueResponse,
  ReportBundle,
  ReviewTeamsResponse,
} from 'sync-server/protocol';
import { hc } from 'hono/client';
import type { AppType } from 'sync-server/app';
import { readResponse } from './errors';

/** Typed from the server's routes: a renamed review route fails the type check here. */
const review = hc<AppType>('/').api.review;

export type { DashboardResponse, QueueFilters, QueueResponse, ReportBundle };

/** Query-string of the non-empty values, in a stable order (it is also the page's URL). */
export function queryString(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Query-string values as the routes take them (their schemas parse the strings). */
const asQuery = (values: object) =>
  Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as Record<string, string>;

/**
 * The supervisor's query API (sync-server/src/protocol/review.ts): everything is filtered, sorted
 * and paged on the server, so a supervisor's browser never holds more than a page.
 */
export const reviewApi = {
  queue: (query: QueueQuery) =>
    readResponse<QueueResponse>(review.queue.$get({ query: asQuery(query) })),
  teams: () => readResponse<ReviewTeamsResponse>(review.teams.$get()),
  bundle: (id: string) => readResponse<ReportBundle>(review.reports[':id'].$get({ param: { id } })),
  dashboard: (query: DashboardQuery) =>
    readResponse<DashboardResponse>(review.dashboard.$get({ query: asQuery(query) })),
};

/** Where the browser downloads an export of the queue as filtered. */
export function exportUrl(kind: 'csv' | 'fhir', filters: QueueFilters): string {
  // A plain path: the browser downloads it (hc's $url needs an absolute base).
  const path = kind === 'csv' ? '/api/review/export.csv' : '/api/review/export.fhir';
  return `${path}${queryString(filters as Record<string, string>)}`;
}
