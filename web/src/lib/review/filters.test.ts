import { describe, expect, it } from 'vitest';
import { queryString } from '$lib/api/review';
import { filtersFromUrl, queueFilters } from './filters';
import { neighbour } from './queue-nav';

describe('queue filters', () => {
  it('round-trip through the URL, leaving empty ones out', () => {
    const form = filtersFromUrl(
      new URLSearchParams('state=returned&village=K%C3%A9ni%C3%A9ba&sort=priority&bogus=1'),
    );
    expect(form.state).toBe('returned');
    expect(form.sort).toBe('priority');
    const filters = queueFilters(form);
    expect(filters).toEqual({ state: 'returned', village: 'Kéniéba' });
    expect(queryString({ ...filters, sort: form.sort })).toBe(
      '?state=returned&village=K%C3%A9ni%C3%A9ba&sort=priority',
    );
    expect(queryString({ state: '', cursor: undefined })).toBe('');
  });

  it('goes to the next and previous report of the queue', () => {
    const nav = { ids: ['a', 'b', 'c'], search: '' };
    expect(neighbour(nav, 'b', 1)).toBe('c');
    expect(neighbour(nav, 'b', -1)).toBe('a');
    expect(neighbour(nav, 'c', 1)).toBeNull();
    expect(neighbour(nav, 'x', 1)).toBeNull();
    expect(neighbour(null, 'a', 1)).toBeNull();
  });
});
