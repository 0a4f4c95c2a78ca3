import { parsePatientForm } from '$lib/domain/patient';
import type { PatientFields, SyncedTable } from '$lib/domain/records';
import { Vault } from '$lib/crypto/vault';
import { FieldDxDatabase } from './database';
import { knownVersion } from './versions';

let counter = 0;

/**
 * A fresh database with a unique name, so tests never see each other's data. It seals patient data
 * as the app does, with a vault unlocked by a random key (pass one to lock it or change keys).
 */
export function freshDatabase(vault = unlockedVault()): FieldDxDatabase {
  return new FieldDxDatabase(`test-${process.pid}-${Date.now()}-${counter++}`, vault);
}

export function unlockedVault(): Vault {
  const vault = new Vault();
  vault.unlock(crypto.getRandomValues(new Uint8Array(32)));
  return vault;
}

type PatientForm = Parameters<typeof parsePatientForm>[0];

/** A valid patient (Awa Traoré of Ségou) as the form gives it, with `over` replacing form values. */
export function patientFields(over: Partial<PatientForm> = {}, today = new Date()): PatientFields {
  const result = parsePatientForm(
    {
      givenName: 'Awa',
      familyName: 'Traoré',
      sex: 'female',
      birthDate: '1990-05-01',
      ageYears: '',
      ageMonths: '',
      village: 'Ségou',
      phone: '',
      identifiers: [],
      ...over,
    },
    today,
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

/**
 * A stored record with the version this device knows for it (versions.ts): the version its next
 * edit starts from, which a push answer may have given it without rewriting the record.
 */
export async function asKnown<T extends { id: string; version?: unknown }>(
  db: FieldDxDatabase,
  table: SyncedTable,
  record: T | undefined,
): Promise<T | undefined> {
  if (!record) return record;
  const pending =
    (await db.outbox.where('[table+recordId]').equals([table, record.id]).count()) > 0;
  return { ...record, version: await knownVersion(db, table, record, pending) };
}
