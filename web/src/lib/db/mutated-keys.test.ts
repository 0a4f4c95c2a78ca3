import Dexie, { RangeSet, type ObservabilitySet } from 'dexie';
import { describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from './database';
import { mutatedKeys } from './mutated-keys';
import { freshDatabase } from './test-db';

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

describe('exactKeys', () => {
  const db = () => freshDatabase();
  async function reportOf(database: FieldDxDatabase, write: () => Promise<unknown>) {
    const reports: (string[] | 'all')[] = [];
    const listener = (parts: ObservabilitySet) => {
      const keys = mutatedKeys(parts, database.name, 'patients');
      if (keys === 'all' || keys.length) reports.push(keys);
    };
    Dexie.on('storagemutated', listener);
    try {
      await write();
    } finally {
      Dexie.on('storagemutated').unsubscribe(listener);
    }
    return reports;
  }
  const patient = (id: string) =>
    ({ id, searchTokens: [id], lastVisitAt: '2026-01-01', deleted: false }) as never;

  it('names every key of a bulk write, which Dexie reports as a range', async () => {
    const database = db();
    await database.open(); // creating the database reports every table changed
    const ids = Array.from({ length: 120 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    expect(await reportOf(database, () => database.patients.bulkPut(ids.map(patient)))).toEqual([
      ids,
    ]);
    const some = ids.slice(0, 60);
    expect(await reportOf(database, () => database.patients.bulkDelete(some))).toEqual([some]);
    // A range of keys (a collection on the primary key) is not listed.
    expect(
      await reportOf(database, () => database.patients.where('id').startsWith('p1').delete()),
    ).toEqual(['all']);
    expect(await reportOf(database, () => database.patients.clear())).toEqual(['all']);
    await database.delete();
  });
});
