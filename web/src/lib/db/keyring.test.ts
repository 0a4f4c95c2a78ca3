import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { Vault } from '$lib/crypto/vault';
import { getAttachmentBlob } from './attachments';
import { FieldDxDatabase } from './database';
import { loadDraft } from './drafts';
import {
  loadKeyring,
  lockNeed,
  LockedOutError,
  MAX_PIN_ATTEMPTS,
  PasswordChangedError,
  rewrapPassword,
  setPin,
  unlockWithPassword,
  unlockWithPin,
  WrongPinError,
} from './keyring';
import { getPatient, listPatients } from './patients';

const FAST = 1000; // PBKDF2 iterations in tests; the app uses 600,000
const online = { online: true, iterations: FAST };
const opened: Dexie[] = [];
let counter = 0;
afterEach(async () => {
  for (const db of opened.splice(0)) await db.delete();
});

function newDb(vault = new Vault(), name = `keyring-${process.pid}-${Date.now()}-${counter++}`) {
  const db = new FieldDxDatabase(name, vault);
  opened.push(db);
  return { db, vault };
}

async function rawText(name: string): Promise<string> {
  const raw = new Dexie(name);
  await raw.open();
  const parts: string[] = [];
  for (const table of raw.tables) parts.push(JSON.stringify(await table.toArray()));
  raw.close();
  return parts.join('\n');
}

describe('the data key', () => {
  it('is made at the first password sign-in, and a PIN opens it after a lock', async () => {
    const { db, vault } = newDb();
    expect(await lockNeed(db, vault, 'u1')).toBe('password');
    await unlockWithPassword(db, vault, 'u1', 'a long field password', online);
    expect(await lockNeed(db, vault, 'u1')).toBe('set-pin');
    await setPin(db, vault, '482916', FAST);
    const key = vault.key().slice();
    vault.lock();
    expect(await lockNeed(db, vault, 'u1')).toBe('pin');
    await unlockWithPin(db, vault, '482916');
    expect(vault.key()).toEqual(key);
    expect(JSON.stringify(await loadKeyring(db))).not.toContain('482916');
  });

  it('refuses a PIN shorter than 6 digits', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'pw', online);
    await expect(setPin(db, vault, '12345', FAST)).rejects.toThrow('at least 6 digits');
  });

  it('after 5 wrong PINs needs an online password sign-in, which opens the same data', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'pw', online);
    await setPin(db, vault, '482916', FAST);
    await db.settings.put({ key: 'draft:new-patient', value: { givenName: 'Awa' } });
    vault.lock();
    for (let i = 1; i < MAX_PIN_ATTEMPTS; i++) {
      await expect(unlockWithPin(db, vault, '000000')).rejects.toThrow(WrongPinError);
    }
    await expect(unlockWithPin(db, vault, '000000')).rejects.toThrow(LockedOutError);
    // The right PIN no longer works, and the wrapping it opened is gone from the device.
    await expect(unlockWithPin(db, vault, '482916')).rejects.toThrow(LockedOutError);
    expect((await loadKeyring(db))?.pin).toBeUndefined();
    expect(await lockNeed(db, vault, 'u1')).toBe('password');
    await expect(
      unlockWithPassword(db, vault, 'u1', 'pw', { online: false, iterations: FAST }),
    ).rejects.toThrow(LockedOutError);
    await unlockWithPassword(db, vault, 'u1', 'pw', online);
    expect(await loadDraft(db, 'new-patient')).toEqual({ givenName: 'Awa' });
    expect(await lockNeed(db, vault, 'u1')).toBe('set-pin');
  });

  it('a right PIN resets the count of wrong ones', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'pw', online);
    await setPin(db, vault, '482916', FAST);
    vault.lock();
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i < MAX_PIN_ATTEMPTS; i++) {
        await expect(unlockWithPin(db, vault, '000000')).rejects.toThrow(WrongPinError);
      }
      await unlockWithPin(db, vault, '482916');
      vault.lock();
    }
  });

  it('is re-wrapped, not re-made, when the password changes: the data reads with the new one', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'old password', online);
    await db.settings.put({ key: 'draft:x', value: 'kept' });
    await rewrapPassword(db, vault, 'new password', FAST);
    vault.lock();
    await expect(unlockWithPassword(db, vault, 'u1', 'old password', online)).rejects.toThrow();
    await unlockWithPassword(db, vault, 'u1', 'new password', online);
    expect(await loadDraft(db, 'x')).toBe('kept');
  });

  it('after a reset elsewhere: the new password online asks for the PIN once, then opens it alone', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'old password', online);
    await setPin(db, vault, '482916', FAST);
    await db.settings.put({ key: 'draft:x', value: 'kept' });
    vault.lock();
    const refused = unlockWithPassword(db, vault, 'u1', 'new password', online);
    await expect(refused).rejects.toBeInstanceOf(PasswordChangedError);
    await expect(refused).rejects.toMatchObject({ pinUsable: true });
    expect(vault.unlocked).toBe(false);
    // Offline, an unknown password is just wrong: nothing says it was changed.
    await expect(
      unlockWithPassword(db, vault, 'u1', 'new password', { online: false, iterations: FAST }),
    ).rejects.not.toBeInstanceOf(PasswordChangedError);
    await expect(
      unlockWithPin(db, vault, '000000', { password: 'new password', iterations: FAST }),
    ).rejects.toBeInstanceOf(WrongPinError);
    await unlockWithPin(db, vault, '482916', { password: 'new password', iterations: FAST });
    vault.lock();
    await unlockWithPassword(db, vault, 'u1', 'new password', online);
    expect(await loadDraft(db, 'x')).toBe('kept');
    vault.lock();
    await expect(unlockWithPassword(db, vault, 'u1', 'old password', online)).rejects.toThrow();
  });

  it('after a reset elsewhere with the PIN locked out: says the PIN cannot help', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'old password', online);
    await setPin(db, vault, '482916', FAST);
    vault.lock();
    for (let i = 0; i < MAX_PIN_ATTEMPTS; i++) {
      await unlockWithPin(db, vault, '000000').catch(() => {});
    }
    await expect(unlockWithPassword(db, vault, 'u1', 'new password', online)).rejects.toMatchObject(
      { name: 'PasswordChangedError', pinUsable: false },
    );
    expect(vault.unlocked).toBe(false);
  });

  it('is made anew for another user of the tablet', async () => {
    const { db, vault } = newDb();
    await unlockWithPassword(db, vault, 'u1', 'pw', online);
    const first = vault.key().slice();
    vault.lock();
    await unlockWithPassword(db, vault, 'u2', 'pw', online);
    expect(vault.key()).not.toEqual(first);
    expect((await loadKeyring(db))?.userId).toBe('u2');
  });
});

describe('data stored before encryption (schema 5)', () => {
  it('is sealed at the first unlock, with nothing lost', async () => {
    const name = `plain-v5-${process.pid}-${Date.now()}`;
    const v5 = new Dexie(name);
    v5.version(1).stores({ settings: 'key' });
    v5.version(2).stores({
      patients: 'id, lastVisitAt, *searchTokens',
      encounters: 'id, patientId, [patientId+date]',
      diagnoses: 'id, patientId, encounterId',
      reports: 'id, patientId, status',
      reviews: 'id, reportId',
      attachments: 'id, patientId, sha256',
      outbox: '++seq, [table+recordId]',
      blobs: 'sha256',
      syncState: 'key',
    });
    v5.version(3).stores({ conflicts: 'id, [table+recordId]' });
    v5.version(4).stores({ patients: 'id, lastVisitAt, familyKey' });
    v5.version(5).stores({ comments: 'id, reportId', followups: 'id, patientId, status' });
    const awa = {
      id: 'p1',
      teamId: 't1',
      version: 0,
      updatedAt: '2026-01-01T00:00:00.000Z',
      updatedBy: 'u1',
      deleted: false,
      givenName: 'Awa',
      familyName: 'Traoré',
      sex: 'female',
      birthDate: '1990-05-01',
      birthDateEstimated: false,
      village: 'Ségou',
      phone: '',
      identifiers: [],
      searchTokens: ['awa', 'traore', 'segou'],
      familyKey: 'traore',
      lastVisitAt: '2026-01-01T00:00:00.000Z',
    };
    await v5.table('patients').put(awa);
    const { searchTokens: _s, familyKey: _f, lastVisitAt: _l, ...synced } = awa;
    await v5.table('outbox').add({
      mutationId: 'm1',
      table: 'patients',
      recordId: 'p1',
      op: 'put',
      baseVersion: 0,
      data: synced,
      createdAt: awa.updatedAt,
    });
    await v5
      .table('encounters')
      .put({ id: 'e1', patientId: 'p1', date: '2026-01-02', complaint: 'Cough since Tuesday' });
    await v5
      .table('blobs')
      .put({ sha256: 'ab'.repeat(32), blob: new Blob(['XRAY-BYTES'], { type: 'image/png' }) });
    await v5.table('settings').put({ key: 'draft:new-patient', value: { village: 'Kayes' } });
    await v5.table('syncState').put({ key: 'cursor', value: 42 });
    v5.close();

    const { db, vault } = newDb(new Vault(), name);
    await db.open();
    // Readable as it was before the first unlock (a pull or the sign-out check may read keys).
    expect(await db.outbox.count()).toBe(1);
    await unlockWithPassword(db, vault, 'u1', 'pw', online);

    const text = await rawText(name);
    for (const secret of ['Awa', 'Traor', 'gou', '1990-05-01', 'Kayes', 'Cough', 'XRAY-BYTES']) {
      expect(text).not.toContain(secret);
    }
    expect(await getPatient(db, 'p1')).toEqual(awa);
    expect((await listPatients(db, 'segou')).map((p) => p.id)).toEqual(['p1']);
    const [outbox] = await db.outbox.toArray();
    expect(outbox).toMatchObject({ seq: 1, mutationId: 'm1', data: synced });
    expect((await db.encounters.get('e1'))?.complaint).toBe('Cough since Tuesday');
    expect(await (await getAttachmentBlob(db, 'ab'.repeat(32)))?.text()).toBe('XRAY-BYTES');
    expect(await loadDraft(db, 'new-patient')).toEqual({ village: 'Kayes' });
    expect((await db.syncState.get('cursor'))?.value).toBe(42);
    expect((await loadKeyring(db))?.sealedAll).toBe(true);
  });
});
