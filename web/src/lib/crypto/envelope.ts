import { gcm } from '@noble/ciphers/aes.js';

/** First byte of every sealed value: lets a later format coexist with this one. */
const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value could not be opened: the key is not the one it was sealed with, or it was changed. */
export class DecryptError extends Error {
  constructor(what: string) {
    super(
      `${what} could not be decrypted: it was changed on this device or sealed with another key.`,
    );
    this.name = 'DecryptError';
  }
}

/**
 * AES-256-GCM with a random 96-bit nonce, synchronous (pure JS): it runs inside Dexie's
 * middleware, where awaiting WebCrypto would let the IndexedDB transaction commit under us.
 * `aad` binds the value to where it is stored (table and key), so a row cannot be swapped for
 * another one without the tag failing.
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = gcm(key, nonce, aad).encrypt(plaintext);
  const out = new Uint8Array(1 + NONCE_BYTES + sealed.length);
  out[0] = FORMAT;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_BYTES);
  return out;
}

export function open(
  key: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
  what = 'A stored value',
): Uint8Array {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== FORMAT) {
    throw new DecryptError(what);
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  try {
    return gcm(key, nonce, aad).decrypt(sealed.subarray(1 + NONCE_BYTES));
  } catch {
    throw new DecryptError(what);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function sealJson(key: Uint8Array, value: unknown, aad: Uint8Array): Uint8Array {
  return seal(key, encoder.encode(JSON.stringify(value)), aad);
}

export function openJson<T>(
  key: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
  what?: string,
): T {
  return JSON.parse(decoder.decode(open(key, sealed, aad, what))) as T;
}

export function textBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The same format with WebCrypto (asynchronous, native, on other threads): used for batches of
 * rows, where it is several times faster than the synchronous cipher. Either opens what the other
 * sealed (AES-256-GCM, ciphertext then 16-byte tag).
 */
export async function sealAsync(
  key: CryptoKey,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: aad as BufferSource },
      key,
      plaintext as BufferSource,
    ),
  );
  const out = new Uint8Array(1 + NONCE_BYTES + sealed.length);
  out[0] = FORMAT;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_BYTES);
  return out;
}

export async function openAsync(
  key: CryptoKey,
  sealed: Uint8Array,
  aad: Uint8Array,
  what = 'A stored value',
): Promise<Uint8Array> {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== FORMAT) {
    throw new DecryptError(what);
  }
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: sealed.subarray(1, 1 + NONCE_BYTES) as BufferSource,
        additionalData: aad as BufferSource,
      },
      key,
      sealed.subarray(1 + NONCE_BYTES) as BufferSource,
    );
    return new Uint8Array(plain);
  } catch {
    throw new DecryptError(what);
  }
}

export async function sealJsonAsync(key: CryptoKey, value: unknown, aad: Uint8Array) {
  return sealAsync(key, encoder.encode(JSON.stringify(value)), aad);
}

export async function openJsonAsync<T>(
  key: CryptoKey,
  sealed: Uint8Array,
  aad: Uint8Array,
  what?: string,
): Promise<T> {
  return JSON.parse(decoder.decode(await openAsync(key, sealed, aad, what))) as T;
}
