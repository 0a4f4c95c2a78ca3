import { describe, expect, it } from 'vitest';
import { matchesQuery } from './patient';
import { byLatestVisit, PatientSearchIndex, type SearchablePatient } from './patient-search-index';

const row = (id: string, lastVisitAt: string, tokens: string[], deleted = false) => ({
  id,
  lastVisitAt,
  searchTokens: tokens,
  deleted,
});

describe('PatientSearchIndex', () => {
  const rows = [
    row('a', '2026-01-01', ['awa', 'traore', 'segou']),
    row('b', '2026-03-01', ['aminata', 'traore', 'kati']),
    row('c', '2026-02-01', ['oumar', 'keita', 'kayes', 'ml778']),
    row('d', '2026-03-01', ['awa', 'kone', 'kati']), // same day as b: the newer id first
    row('e', '2026-04-01', ['awa', 'diarra'], true),
  ];
  const index = new PatientSearchIndex<SearchablePatient>();
  index.replaceAll(rows);
  const ids = (query: string, limit = 50) => index.search(query, limit).map((r) => r.id);

  it('lists the latest visit first, ties by the newer id, without deleted patients', () => {
    expect(ids('')).toEqual(['d', 'b', 'c', 'a']);
    expect(ids('', 2)).toEqual(['d', 'b']);
    expect(index.count).toBe(4);
  });

  it('keeps every query word a prefix of some word, as matchesQuery does', () => {
    for (const query of ['awa', 'A TRA', 'kat', 'ml7', 'awa kone', 'zz', 'Ségou', 'diarra']) {
      const expected = [...rows]
        .sort(byLatestVisit)
        .filter((r) => !r.deleted && matchesQuery(r.searchTokens, query))
        .map((r) => r.id);
      expect(ids(query), query).toEqual(expected);
    }
  });

  it('applies changes: a new visit moves up, a deletion hides, a removal forgets', () => {
    const copy = new PatientSearchIndex<SearchablePatient>();
    copy.replaceAll(rows);
    copy.search('', 50); // sorted once, so the change must re-sort
    copy.apply([
      { id: 'a', row: row('a', '2026-05-01', ['awa', 'traore', 'segou']) },
      { id: 'b', row: row('b', '2026-03-01', ['aminata', 'traore', 'kati'], true) },
      { id: 'c', row: undefined },
      { id: 'f', row: row('f', '2025-01-01', ['fanta']) },
      { id: 'e', row: row('e', '2026-04-01', ['awa', 'diarra']) }, // restored
    ]);
    expect(copy.search('', 50).map((r) => r.id)).toEqual(['a', 'e', 'd', 'f']);
    expect(copy.search('traore', 50).map((r) => r.id)).toEqual(['a']);
    expect(copy.count).toBe(4);
  });

  it('keeps the list order through many changes, as a fresh sort gives', () => {
    const live = new PatientSearchIndex<SearchablePatient>();
    const all = new Map<string, SearchablePatient>();
    let seed = 7;
    const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const some = () =>
      Array.from({ length: 40 }, () => {
        const id = `p${next(60)}`;
        return next(5) === 0
          ? { id, row: undefined }
          : {
              id,
              row: row(id, `2026-0${1 + next(3)}-01`, ['x'], next(4) === 0),
            };
      });
    live.replaceAll([]);
    for (let step = 0; step < 25; step++) {
      const changes = some();
      live.apply(changes);
      for (const { id, row: r } of changes) {
        if (r) all.set(id, r);
        else all.delete(id);
      }
      const expected = [...all.values()].sort(byLatestVisit).filter((r) => !r.deleted);
      expect(live.search('', 100)).toEqual(expected);
      expect(live.count).toBe(expected.length);
    }
  });
});
