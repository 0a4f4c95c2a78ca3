import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from './database';
import { claimDevice, DeviceInUseError } from './ownership';
import { createPatient } from './patients';
import { freshDatabase } from './test-db';

const fields = {
  givenName: 'Awa',
  familyName: 'Traoré',
  sex: 'female' as const,
  birthDate: '1990-05-01',
  birthDateEstimated: false,
  village: '',
  phone: '',
  identifiers: [],
};
let db: FieldDxDatabase;
beforeEach(() => {
  db = freshDatabase();
});
afterEach(() => db.delete());

describe('device ownership', () => {
  it('keeps the records of the same user', async () => {
    await claimDevice(db, 'u1');
    await createPatient(db, fields, { userId: 'u1', teamId: 't1' });
    await claimDevice(db, 'u1');
    expect(await db.patients.count()).toBe(1);
  });

  it("refuses another user while the first one's edits are not backed up", async () => {
    await claimDevice(db, 'u1');
    await createPatient(db, fields, { userId: 'u1', teamId: 't1' });
    await expect(claimDevice(db, 'u2')).rejects.toBeInstanceOf(DeviceInUseError);
    expect(await db.patients.count()).toBe(1);
  });

  it("wipes the first user's synced records and device id for the next user", async () => {
    await claimDevice(db, 'u1');
    await createPatient(db, fields, { userId: 'u1', teamId: 't1' });
    await db.outbox.clear(); // as after a successful sync
    await db.syncState.bulkPut([
      { key: 'deviceId', value: 'dev-1' },
      { key: 'cursor', value: 42 },
    ]);
    await claimDevice(db, 'u2');
    expect(await db.patients.count()).toBe(0);
    expect(await db.syncState.get('cursor')).toBeUndefined();
    // The server binds a device id to its first user: the next one gets a new id.
    expect(await db.syncState.get('deviceId')).toBeUndefined();
    expect((await db.syncState.get('owner'))?.value).toBe('u2');
  });
});
