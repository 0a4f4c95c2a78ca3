import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { FieldDxDatabase } from './database';

describe('schema upgrades', () => {
  it('opens a version 1 database (settings only) and keeps its data through the latest version', async () => {
    const name = `migration-${Date.now()}`;
    const v1 = new Dexie(name);
    v1.version(1).stores({ settings: 'key' });
    await v1.table('settings').put({ key: 'profile', value: { me: { user: { id: 'u1' } } } });
    v1.close();

    const db = new FieldDxDatabase(name);
    await db.open();
    expect(db.verno).toBe(3);
    expect(await db.settings.get('profile')).toEqual({
      key: 'profile',
      value: { me: { user: { id: 'u1' } } },
    });
    expect(await db.patients.count()).toBe(0);
    await db.delete();
  });
});
