import type {
  DashboardQuery,
  DashboardResponse,
  QueueFilters,
  QueueQuery,
  QueueResponse,
  ReportBundle,
  ReviewTeamsResponse,
} from 'sync-server/protocol';
import { readResponse } from './errors';

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

const get = <T>(path: string) => readResponse<T>(fetch(path, { credentials: 'same-origin' }));

/**
 * The supervisor's query API (sync-server/src/protocol/review.ts): everything is filtered, sorted
 * and paged on the server, so a supervisor's browser never holds more than a page.
 */
export const reviewApi = {
  queue: (query: QueueQuery) =>
    get<QueueResponse>(`/api/review/queue${queryString(query as Record<string, string>)}`),
  teams: () => get<ReviewTeamsResponse>('/api/review/teams'),
  bundle: (id: string) => get<ReportBundle>(`/api/review/reports/${encodeURIComponent(id)}`),
  dashboard: (query: DashboardQuery) =>
    get<DashboardResponse>(`/api/review/dashboard${queryString(query as Record<string, string>)}`),
};

/** Where the browser downloads an export of the queue as filtered. */
export function exportUrl(kind: 'csv' | 'fhir', filters: QueueFilters): string {
  const path = kind === 'csv' ? '/api/review/export.csv' : '/api/review/export.fhir';
  return `${path}${queryString(filters as Record<string, string>)}`;
}
