import type { QueueFilters } from 'sync-server/protocol';

export const FILTER_KEYS = [
  'state',
  'teamId',
  'clinicianId',
  'village',
  'modelId',
  'finding',
  'from',
  'to',
  'disagreement',
] as const satisfies readonly (keyof QueueFilters)[];

export type FilterForm = Record<(typeof FILTER_KEYS)[number] | 'sort', string>;

/** The queue's filters as the page's URL holds them (unknown or empty values left out). */
export function filtersFromUrl(params: URLSearchParams): FilterForm {
  const form = Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? ''])) as FilterForm;
  form.sort = params.get('sort') === 'priority' ? 'priority' : 'age';
  return form;
}

/** The filters the server takes (the sort and empty fields left out). */
export function queueFilters(form: FilterForm): QueueFilters {
  const filters: Record<string, string> = {};
  for (const key of FILTER_KEYS) if (form[key]) filters[key] = form[key];
  return filters as QueueFilters;
}
