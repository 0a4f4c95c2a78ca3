import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { LockedError } from '$lib/crypto/vault';
import { saveAttachment, getAttachmentBlob } from './attachments';
import { FieldDxDatabase } from './database';
import { saveDraft } from './drafts';
import { DecryptError } from '$lib/crypto/envelope';
import { createPatient, getPatient, listPatients } from './patients';
import { freshDatabase, patientFields, unlockedVault } from './test-db';

const author = { userId: 'u1', teamId: 't1' };
const opened: Dexie[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.delete();
});

/** Every value of every store, as IndexedDB holds it (no middleware), as one searchable text. */
async function rawText(name: string): Promise<string> {
  const raw = new Dexie(name);
  await raw.open();
  const parts: string[] = [];
  for (const table of raw.tables) {
    for (const row of await table.toArray()) {
      parts.push(
        JSON.stringify(row, (_k, v) =>
          ArrayBuffer.isView(v) ? new TextDecoder('latin1').decode(v as Uint8Array) : v,
        ),
      );
    }
  }
  raw.close();
  return parts.join('\n');
}

describe('encryption at rest', () => {
  it('stores no name, village, birth date, draft or image bytes in clear, and reads them back', async () => {
    const vault = unlockedVault();
    const db = freshDatabase(vault);
    opened.push(db);
    const awa = await createPatient(
      db,
      patientFields({ givenName: 'Awa', village: 'Ségou' }),
      author,
    );
    await saveDraft(db, 'new-patient', { givenName: 'Mariam', village: 'Kayes' });
    const image = new Blob([new TextEncoder().encode('PIXELS-OF-AN-XRAY')], { type: 'image/png' });
    await saveAttachment(db, awa.id, image, { width: 1, height: 1 }, author);

    const text = await rawText(db.name);
    for (const secret of ['Awa', 'Traor', 'gou', '1990-05-01', 'Mariam', 'Kayes', 'PIXELS-OF']) {
      expect(text).not.toContain(secret);
    }
    expect((await getPatient(db, awa.id))?.village).toBe('Ségou');
    expect((await listPatients(db, 'segou')).map((p) => p.id)).toEqual([awa.id]);
    const back = await getAttachmentBlob(db, (await db.attachments.toArray())[0]!.sha256);
    expect(await back?.text()).toBe('PIXELS-OF-AN-XRAY');
  });

  it('refuses to read or write patient data while locked, and reads it again after unlock', async () => {
    const vault = unlockedVault();
    const db = freshDatabase(vault);
    opened.push(db);
    const awa = await createPatient(db, patientFields(), author);
    const key = vault.key().slice();
    vault.lock();
    await expect(getPatient(db, awa.id)).rejects.toThrow(LockedError);
    await expect(createPatient(db, patientFields(), author)).rejects.toThrow(LockedError);
    // Keys and counts need no key: sync status and the sign-out check still work.
    expect(await db.outbox.count()).toBe(1);
    vault.unlock(key);
    expect((await getPatient(db, awa.id))?.givenName).toBe('Awa');
  });

  it('says clearly when a row was changed on the device or the key is not the one', async () => {
    const vault = unlockedVault();
    const db = freshDatabase(vault);
    opened.push(db);
    const awa = await createPatient(db, patientFields(), author);
    const raw = new Dexie(db.name);
    await raw.open();
    const stored = await raw.table('patients').get(awa.id);
    stored._sealed[30] ^= 1;
    await raw.table('patients').put(stored);
    raw.close();
    await expect(getPatient(db, awa.id)).rejects.toThrow(DecryptError);

    db.close();
    const wrongKey = new FieldDxDatabase(db.name, unlockedVault());
    await expect(wrongKey.outbox.toArray()).rejects.toThrow(
      /could not be decrypted: it was changed on this device or sealed with another key/,
    );
    wrongKey.close();
  });

  it('seals batches with WebCrypto inside one transaction that goes on after them', async () => {
    const vault = unlockedVault();
    const db = freshDatabase(vault);
    opened.push(db);
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: `e${String(i).padStart(2, '0')}`,
      patientId: 'p1',
      date: '2026-01-02',
      complaint: `Cough number ${i}`,
    }));
    await db.transaction('rw', [db.encounters, db.settings], async () => {
      await db.encounters.bulkPut(rows as never);
      // The transaction is still open after the batch: later requests land in it.
      expect(await db.encounters.count()).toBe(40);
      await db.settings.put({ key: 'after', value: 1 });
      const back = await db.encounters.bulkGet(rows.map((r) => r.id));
      expect(back.map((r) => (r as unknown as { complaint: string }).complaint)).toEqual(
        rows.map((r) => r.complaint),
      );
      await db.settings.put({ key: 'after2', value: 2 });
    });
    expect(await db.settings.get('after2')).toEqual({ key: 'after2', value: 2 });
    expect(await rawText(db.name)).not.toContain('Cough number');
    expect((await db.encounters.toArray()).map((r) => r.id)).toEqual(rows.map((r) => r.id));

    // One tampered row fails the whole batch read with the clear error.
    const raw = new Dexie(db.name);
    await raw.open();
    const stored = await raw.table('encounters').get('e07');
    stored._sealed[30] ^= 1;
    await raw.table('encounters').put(stored);
    raw.close();
    await expect(db.encounters.toArray()).rejects.toThrow(DecryptError);
  });

  it('writes batches asked for at once in the order they were asked for, and a write after them last', async () => {
    const vault = unlockedVault();
    const db = freshDatabase(vault);
    opened.push(db);
    const batch = (n: number, size: number, label: string) =>
      Array.from({ length: size }, (_, i) => ({
        id: `e${String(i).padStart(3, '0')}`,
        patientId: 'p1',
        date: '2026-01-02',
        complaint: `${label} ${i}`,
      }));
    // Three batches of the same ids, larger first (sealed last), then a single row: each later
    // write must win whatever the order the sealing finishes in.
    await db.transaction('rw', [db.encounters], async () => {
      const writes = [
        db.encounters.bulkPut(batch(1, 300, 'first') as never),
        db.encounters.bulkPut(batch(2, 100, 'second') as never),
        db.encounters.bulkPut(batch(3, 20, 'third') as never),
        db.encounters.put({ ...batch(4, 1, 'single')[0]! } as never),
      ];
      await Promise.all(writes);
    });
    const back = (await db.encounters.toArray()) as unknown as { id: string; complaint: string }[];
    expect(back).toHaveLength(300);
    expect(back[0]!.complaint).toBe('single 0');
    expect(back[10]!.complaint).toBe('third 10');
    expect(back[50]!.complaint).toBe('second 50');
    expect(back[200]!.complaint).toBe('first 200');
    expect(await rawText(db.name)).not.toContain('first 200');
  });
});
