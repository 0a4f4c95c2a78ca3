/** The data key is not in memory: the device is locked (or no key was made yet). */
export class LockedError extends Error {
  constructor() {
    super('The app is locked: unlock it with your PIN to see or change patient data.');
    this.name = 'LockedError';
  }
}

/**
 * Holds the data key while the app is unlocked. The key lives only here, in memory: lock()
 * overwrites it and drops it, so nothing that can decrypt the records outlives the lock.
 */
export class Vault {
  #key: Uint8Array | null = null;
  /** The same key as a non-extractable WebCrypto key, for sealing batches of rows. */
  #cryptoKey: Promise<CryptoKey> | null = null;
  #listeners = new Set<(unlocked: boolean) => void>();

  get unlocked(): boolean {
    return this.#key !== null;
  }

  /** The data key, or LockedError. */
  key(): Uint8Array {
    if (!this.#key) throw new LockedError();
    return this.#key;
  }

  /** The data key as a non-extractable WebCrypto AES-GCM key, or LockedError. */
  cryptoKey(): Promise<CryptoKey> {
    if (!this.#key) throw new LockedError();
    this.#cryptoKey ??= crypto.subtle.importKey(
      'raw',
      this.#key as BufferSource,
      'AES-GCM',
      false,
      ['encrypt', 'decrypt'],
    );
    return this.#cryptoKey;
  }

  unlock(key: Uint8Array) {
    if (key.length !== 32) throw new Error('A data key is 32 bytes.');
    if (this.#key && this.#key !== key) this.#key.fill(0);
    this.#key = key;
    this.#cryptoKey = null;
    this.#emit();
  }

  lock() {
    if (!this.#key) return;
    this.#key.fill(0);
    this.#key = null;
    this.#cryptoKey = null;
    this.#emit();
  }

  /** Called with the new state on each lock and unlock; returns the unsubscribe. */
  subscribe(listener: (unlocked: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit() {
    for (const listener of this.#listeners) listener(this.unlocked);
  }
}

/** The app's vault (tests make their own). */
export const appVault = new Vault();
