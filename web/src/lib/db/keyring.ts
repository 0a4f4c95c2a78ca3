import {
  newDataKey,
  unwrapWithPrf,
  unwrapWithSecret,
  wrapWithPrf,
  wrapWithSecret,
  WrongSecretError,
  KDF_ITERATIONS,
  type WrappedKey,
} from '$lib/crypto/keys';
import type { Vault } from '$lib/crypto/vault';
import type { FieldDxDatabase } from './database';
import { SEALED_TABLES, sealsSetting } from './encryption';

const KEYRING = 'keyring';
/** Wrong PINs in a row that discard the PIN's wrapping of the data key. */
export const MAX_PIN_ATTEMPTS = 5;
export const PIN_PATTERN = /^\d{6,}$/;

/**
 * The data key of this tablet's user, only ever stored wrapped (architecture: docs/security-at-
 * rest.md): by the password (every online sign-in can unlock), by the PIN (offline unlock) and,
 * where the device has one, by a passkey's PRF output. Kept in clear in the settings table: it
 * holds nothing that opens the data without a secret.
 */
export interface Keyring {
  userId: string;
  password?: WrappedKey;
  pin?: WrappedKey;
  /** Wrong PINs since the last unlock; counted before each try, so a reload does not reset it. */
  pinFailures: number;
  passkey?: { credentialId: string; prfSalt: string; wrapped: WrappedKey };
  /** 5 wrong PINs: only an online sign-in with the password opens the data again. */
  lockedOut: boolean;
  /** Rows written before encryption have all been sealed. */
  sealedAll: boolean;
}

/** The tablet has no key ring yet: only a sign-in with the password creates it. */
export class NoKeyringError extends Error {
  constructor() {
    super('Sign in with your password first.');
    this.name = 'NoKeyringError';
  }
}

export class PinFormatError extends Error {
  constructor() {
    super('A PIN is at least 6 digits, digits only.');
    this.name = 'PinFormatError';
  }
}

export class WrongPinError extends Error {
  constructor(readonly remaining: number) {
    super(
      `Wrong PIN. ${remaining} more wrong ${remaining === 1 ? 'try' : 'tries'} and this tablet ` +
        'will need your password, with a connection.',
    );
    this.name = 'WrongPinError';
  }
}

export class LockedOutError extends Error {
  constructor() {
    super(
      'Too many wrong PINs: the PIN no longer unlocks this tablet. Sign in with your password ' +
        'while connected; nothing stored on the tablet is lost.',
    );
    this.name = 'LockedOutError';
  }
}

/**
 * The server accepted a new password (reset or changed on another device) but the tablet's data
 * key is still wrapped by the old one. With a usable PIN, the PIN opens the key once and the new
 * password wraps it; without one, the local data cannot be opened any more.
 */
export class PasswordChangedError extends Error {
  constructor(readonly pinUsable: boolean) {
    super(
      pinUsable
        ? 'Your password was changed. Enter this tablet’s PIN once to use your new password here.'
        : 'Your password was changed, and this tablet’s data is locked with the old one.',
    );
    this.name = 'PasswordChangedError';
  }
}

export async function loadKeyring(db: FieldDxDatabase): Promise<Keyring | undefined> {
  return (await db.settings.get(KEYRING))?.value as Keyring | undefined;
}

async function saveKeyring(db: FieldDxDatabase, ring: Keyring) {
  await db.settings.put({ key: KEYRING, value: ring });
}

export async function forgetKeyring(db: FieldDxDatabase) {
  await db.settings.delete(KEYRING);
}

/** What the PIN screen must ask for this user. */
export type LockNeed = 'nothing' | 'set-pin' | 'pin' | 'password';

export async function lockNeed(
  db: FieldDxDatabase,
  vault: Vault,
  userId: string,
): Promise<LockNeed> {
  const ring = await loadKeyring(db);
  if (!ring || ring.userId !== userId) return 'password';
  if (vault.unlocked) return ring.pin ? 'nothing' : 'set-pin';
  return ring.pin && !ring.lockedOut ? 'pin' : 'password';
}

export interface PasswordUnlock {
  /** Whether the password may undo a PIN lock-out: only when the server checked it. */
  online: boolean;
  iterations?: number;
}

/**
 * After a sign-in with the password: opens the data key (or makes one for a new user of this
 * tablet), and seals what was stored before encryption. A password changed on another device
 * re-wraps the key here when the tablet is unlocked; otherwise the PIN opens it once more.
 */
export async function unlockWithPassword(
  db: FieldDxDatabase,
  vault: Vault,
  userId: string,
  password: string,
  { online, iterations = KDF_ITERATIONS }: PasswordUnlock,
): Promise<void> {
  let ring = await loadKeyring(db);
  if (!ring || ring.userId !== userId) {
    const dataKey = newDataKey();
    ring = {
      userId,
      password: await wrapWithSecret(dataKey, password, iterations),
      pinFailures: 0,
      lockedOut: false,
      sealedAll: false,
    };
    await saveKeyring(db, ring);
    vault.unlock(dataKey);
  } else {
    if (ring.lockedOut && !online) throw new LockedOutError();
    try {
      if (!ring.password) throw new WrongSecretError();
      vault.unlock(await unwrapWithSecret(ring.password, password));
    } catch (error) {
      if (!(error instanceof WrongSecretError)) throw error;
      // The server checked this password, so it is the user's current one: it changed elsewhere.
      if (!vault.unlocked && online) throw new PasswordChangedError(!!ring.pin && !ring.lockedOut);
      if (!vault.unlocked) throw error;
      // The password changed elsewhere while this tablet stayed unlocked: wrap with the new one.
      ring.password = await wrapWithSecret(vault.key(), password, iterations);
    }
    ring = { ...ring, lockedOut: false, pinFailures: 0 };
    await saveKeyring(db, ring);
  }
  await sealExistingRows(db);
}

/** Wraps the (unlocked) data key with a new password: a password change re-encrypts no data. */
export async function rewrapPassword(
  db: FieldDxDatabase,
  vault: Vault,
  newPassword: string,
  iterations = KDF_ITERATIONS,
) {
  const ring = await loadKeyring(db);
  if (!ring) throw new NoKeyringError();
  ring.password = await wrapWithSecret(vault.key(), newPassword, iterations);
  await saveKeyring(db, ring);
}

export async function setPin(
  db: FieldDxDatabase,
  vault: Vault,
  pin: string,
  iterations = KDF_ITERATIONS,
) {
  if (!PIN_PATTERN.test(pin)) throw new PinFormatError();
  const ring = await loadKeyring(db);
  if (!ring) throw new NoKeyringError();
  ring.pin = await wrapWithSecret(vault.key(), pin, iterations);
  ring.pinFailures = 0;
  ring.lockedOut = false;
  await saveKeyring(db, ring);
}

/**
 * Opens the data key with the PIN. Each try is counted before it is made; the fifth wrong one
 * discards the PIN's wrapping (the password's remains), so the PIN cannot be guessed further.
 */
export async function unlockWithPin(
  db: FieldDxDatabase,
  vault: Vault,
  pin: string,
  /** A new password the server accepted (PasswordChangedError): it wraps the key once open. */
  newPassword?: { password: string; iterations?: number },
): Promise<void> {
  const ring = await loadKeyring(db);
  if (!ring?.pin || ring.lockedOut) throw new LockedOutError();
  ring.pinFailures += 1;
  await saveKeyring(db, ring);
  try {
    vault.unlock(await unwrapWithSecret(ring.pin, pin));
  } catch (error) {
    if (!(error instanceof WrongSecretError)) throw error;
    if (ring.pinFailures >= MAX_PIN_ATTEMPTS) {
      delete ring.pin;
      ring.lockedOut = true;
      await saveKeyring(db, ring);
      throw new LockedOutError();
    }
    throw new WrongPinError(MAX_PIN_ATTEMPTS - ring.pinFailures);
  }
  ring.pinFailures = 0;
  await saveKeyring(db, ring);
  if (newPassword) await rewrapPassword(db, vault, newPassword.password, newPassword.iterations);
  await sealExistingRows(db);
}

/** Adds a passkey's wrapping of the (unlocked) data key, from its PRF output. */
export async function addPasskey(
  db: FieldDxDatabase,
  vault: Vault,
  credentialId: string,
  prfSalt: string,
  prfOutput: BufferSource,
) {
  const ring = await loadKeyring(db);
  if (!ring) throw new NoKeyringError();
  ring.passkey = { credentialId, prfSalt, wrapped: await wrapWithPrf(vault.key(), prfOutput) };
  await saveKeyring(db, ring);
}

export async function unlockWithPasskey(
  db: FieldDxDatabase,
  vault: Vault,
  prfOutput: BufferSource,
) {
  const ring = await loadKeyring(db);
  if (!ring?.passkey || ring.lockedOut) throw new LockedOutError();
  vault.unlock(await unwrapWithPrf(ring.passkey.wrapped, prfOutput));
  ring.pinFailures = 0;
  await saveKeyring(db, ring);
  await sealExistingRows(db);
}

const CHUNK = 500;

/**
 * Seals every row stored before encryption existed (schema 5 and older), once, on the first
 * unlock. Rows are rewritten in chunks of one transaction each through the sealing middleware;
 * an interrupted run starts again at the next unlock and loses nothing (a plain row stays
 * readable until it is sealed).
 */
export async function sealExistingRows(db: FieldDxDatabase): Promise<void> {
  const ring = await loadKeyring(db);
  if (!ring || ring.sealedAll) return;
  for (const name of SEALED_TABLES) {
    const table = db.table(name);
    const keys = await table.toCollection().primaryKeys();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const slice = keys.slice(i, i + CHUNK);
      await db.transaction('rw', table, async () => {
        const rows = (await table.bulkGet(slice)).filter((row) => row !== undefined);
        await table.bulkPut(rows);
      });
    }
  }
  const drafts = await db.settings.filter((row) => sealsSetting(row.key)).toArray();
  await db.settings.bulkPut(drafts);
  // Images one at a time: the old rows hold Blobs, read outside any transaction.
  for (const sha256 of (await db.blobs.toCollection().primaryKeys()) as string[]) {
    const row = (await db.blobs.get(sha256)) as unknown as Record<string, unknown> | undefined;
    if (!row) continue;
    if (row.blob instanceof Blob) {
      const bytes = new Uint8Array(await row.blob.arrayBuffer());
      await db.blobs.put({ sha256, bytes, mime: row.blob.type || 'application/octet-stream' });
    } else await db.blobs.put(row as never);
  }
  await saveKeyring(db, { ...((await loadKeyring(db)) ?? ring), sealedAll: true });
}
