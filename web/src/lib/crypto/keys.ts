/**
 * The data key's wrappings, with WebCrypto: a secret (password or PIN) is stretched with
 * PBKDF2-SHA256 into a non-extractable AES-GCM key that seals the 32-byte data key; a WebAuthn
 * PRF output goes through HKDF-SHA256 instead (it is already a uniformly random secret).
 */

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256 (docs/security-at-rest.md says why PBKDF2). */
export const KDF_ITERATIONS = 600_000;
const WRAP_AAD = new TextEncoder().encode('fielddx data key v1');

export interface WrappedKey {
  /** Base64 of the PBKDF2 salt (absent for a PRF wrapping). */
  salt?: string;
  iterations?: number;
  iv: string;
  sealed: string;
}

/** The secret does not open this wrapping (wrong PIN or password, or a changed wrapping). */
export class WrongSecretError extends Error {
  constructor() {
    super('That does not unlock this tablet.');
    this.name = 'WrongSecretError';
  }
}

export const toBase64 = (bytes: Uint8Array | ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)));
export const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export function newDataKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

async function secretKey(secret: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

async function prfKey(prfOutput: BufferSource): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', prfOutput, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: WRAP_AAD },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

async function sealWith(key: CryptoKey, dataKey: Uint8Array) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: WRAP_AAD },
    key,
    dataKey as BufferSource,
  );
  return { iv: toBase64(iv), sealed: toBase64(sealed) };
}

async function openWith(key: CryptoKey, wrapped: WrappedKey): Promise<Uint8Array> {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(wrapped.iv) as BufferSource, additionalData: WRAP_AAD },
      key,
      fromBase64(wrapped.sealed) as BufferSource,
    );
    return new Uint8Array(plain);
  } catch {
    throw new WrongSecretError();
  }
}

export async function wrapWithSecret(
  dataKey: Uint8Array,
  secret: string,
  iterations = KDF_ITERATIONS,
): Promise<WrappedKey> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await secretKey(secret, salt, iterations);
  return { salt: toBase64(salt), iterations, ...(await sealWith(key, dataKey)) };
}

export async function unwrapWithSecret(wrapped: WrappedKey, secret: string): Promise<Uint8Array> {
  if (!wrapped.salt || !wrapped.iterations) throw new WrongSecretError();
  const key = await secretKey(secret, fromBase64(wrapped.salt), wrapped.iterations);
  return openWith(key, wrapped);
}

export async function wrapWithPrf(
  dataKey: Uint8Array,
  prfOutput: BufferSource,
): Promise<WrappedKey> {
  return sealWith(await prfKey(prfOutput), dataKey);
}

export async function unwrapWithPrf(
  wrapped: WrappedKey,
  prfOutput: BufferSource,
): Promise<Uint8Array> {
  return openWith(await prfKey(prfOutput), wrapped);
}
