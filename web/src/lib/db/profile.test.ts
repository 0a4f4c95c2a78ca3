import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { FieldDxDatabase } from './database';
import { clearProfile, loadProfile, saveProfile } from './profile';

let db: FieldDxDatabase;
let counter = 0;

function openFresh() {
  db = new FieldDxDatabase(`profile-test-${Date.now()}-${counter++}`);
  return db;
}

afterEach(async () => {
  await db?.delete();
});

describe('cached profile', () => {
  const me = { user: { id: 'u1', email: 'a@b.c', name: 'Ana' }, memberships: [], isAdmin: true };

  it('is empty on a new device', async () => {
    expect(await loadProfile(openFresh())).toBeUndefined();
  });

  it('keeps the last signed-in user across a reopen', async () => {
    const name = openFresh().name;
    await saveProfile(db, me, new Date('2026-01-02T03:04:05Z'));
    db.close();
    db = new FieldDxDatabase(name);
    expect(await loadProfile(db)).toEqual({ me, savedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('replaces the previous user and is gone after sign-out', async () => {
    openFresh();
    await saveProfile(db, me);
    const other = { ...me, user: { ...me.user, id: 'u2' } };
    await saveProfile(db, other);
    expect((await loadProfile<typeof me>(db))?.me.user.id).toBe('u2');
    await clearProfile(db);
    expect(await loadProfile(db)).toBeUndefined();
  });
});
