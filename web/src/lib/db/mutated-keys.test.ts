import { RangeSet } from 'dexie';
import { describe, expect, it } from 'vitest';
import { mutatedKeys } from './mutated-keys';

describe('mutatedKeys', () => {
  const part = 'idb://fielddx/patients/';

  it('lists the primary keys a write reported', () => {
    const parts = { [part]: new RangeSet().addKeys(['b', 'a', 'c']) };
    expect(mutatedKeys(parts, 'fielddx', 'patients')).toEqual(['a', 'b', 'c']);
  });

  it('reads a report that came from another tab as a plain object', () => {
    const parts = structuredClone({ [part]: new RangeSet().addKeys(['x', 'y']) });
    expect(mutatedKeys(parts, 'fielddx', 'patients')).toEqual(['x', 'y']);
  });

  it("says 'all' for a range (bulk writes, clear) or Dexie's everything", () => {
    expect(mutatedKeys({ [part]: new RangeSet(-Infinity, [[]]) }, 'fielddx', 'patients')).toBe(
      'all',
    );
    expect(mutatedKeys({ all: new RangeSet(-Infinity, [[]]) }, 'fielddx', 'patients')).toBe('all');
  });

  it('ignores other tables, indexes and databases', () => {
    const parts = {
      'idb://fielddx/encounters/': new RangeSet().addKey('e1'),
      'idb://fielddx/patients/lastVisitAt': new RangeSet('2026', '2027'),
      'idb://other/patients/': new RangeSet().addKey('p1'),
    };
    expect(mutatedKeys(parts, 'fielddx', 'patients')).toEqual([]);
  });
});
