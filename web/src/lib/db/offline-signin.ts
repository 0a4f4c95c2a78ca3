import type { FieldDxDatabase } from './database';

const KEY = 'offlineSignIn';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const PBKDF2_ITERATIONS = 600_000;

/**
 * What lets the last user of this tablet sign in again without a connection: a PBKDF2-SHA256
 * verifier of their password (never the password), with the salt and the user's profile. It
 * guards the app's screens against someone else picking up the tablet; it does not encrypt the
 * records in IndexedDB.
 */
interface OfflineSignIn<Me> {
  email: string;
  salt: string;
  iterations: number;
  verifier: string;
  me: Me;
}

const toHex = (bytes: ArrayBuffer | Uint8Array) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (hex: string) =>
  new Uint8Array((hex.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)));
const normalEmail = (email: string) => email.trim().toLowerCase();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return toHex(bits);
}

/** Same length, compared without an early exit. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** After a sign-in with the server: remember how to check this user's password offline. */
export async function rememberForOffline<Me>(
  db: FieldDxDatabase,
  email: string,
  password: string,
  me: Me,
  iterations = PBKDF2_ITERATIONS,
) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const value: OfflineSignIn<Me> = {
    email: normalEmail(email),
    salt: toHex(salt),
    iterations,
    verifier: await derive(password, salt, iterations),
    me,
  };
  await db.settings.put({ key: KEY, value });
}

/** The remembered user when email and password are theirs; null otherwise (or none remembered). */
export async function checkOffline<Me>(
  db: FieldDxDatabase,
  email: string,
  password: string,
): Promise<Me | null> {
  const kept = (await db.settings.get(KEY))?.value as OfflineSignIn<Me> | undefined;
  if (!kept || kept.email !== normalEmail(email)) return null;
  const verifier = await derive(password, fromHex(kept.salt), kept.iterations);
  return sameText(verifier, kept.verifier) ? kept.me : null;
}

export async function forgetOffline(db: FieldDxDatabase) {
  await db.settings.delete(KEY);
}
