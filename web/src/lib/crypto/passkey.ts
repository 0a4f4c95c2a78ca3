import { fromBase64, toBase64 } from './keys';

/**
 * WebAuthn with the PRF extension on a platform authenticator (fingerprint, face, the device's
 * screen lock): the authenticator turns a salt into a secret that never leaves its secure hardware
 * without a user verification, so a key wrapped by it cannot be brute-forced from a copied disk.
 * The challenge is local: nothing is proven to a server, the PRF output itself is the secret.
 */

interface PrfResults {
  prf?: { enabled?: boolean; results?: { first?: ArrayBuffer } };
}

/** Whether this browser may offer a platform authenticator (PRF support shows only on use). */
export async function platformAuthenticatorAvailable(): Promise<boolean> {
  if (typeof PublicKeyCredential === 'undefined') return false;
  return PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable().catch(() => false);
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

export class NoPrfError extends Error {
  constructor() {
    super('This device’s authenticator cannot protect the data key (no PRF support).');
    this.name = 'NoPrfError';
  }
}

/** Makes a passkey on this device; returns its id, the PRF salt and the PRF output. */
export async function createPasskey(user: { id: string; name: string; displayName: string }) {
  const prfSalt = random(32);
  const credential = (await navigator.credentials.create({
    publicKey: {
      rp: { name: 'FieldDx' },
      user: {
        id: new TextEncoder().encode(user.id),
        name: user.name,
        displayName: user.displayName,
      },
      challenge: random(32),
      pubKeyCredParams: [
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 },
      ],
      authenticatorSelection: {
        authenticatorAttachment: 'platform',
        userVerification: 'required',
        residentKey: 'preferred',
      },
      extensions: { prf: { eval: { first: prfSalt } } } as AuthenticationExtensionsClientInputs,
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new NoPrfError();
  const results = credential.getClientExtensionResults() as PrfResults;
  if (!results.prf?.enabled) throw new NoPrfError();
  const credentialId = toBase64(credential.rawId);
  // Some authenticators give the PRF output only when asked for an assertion.
  const output = results.prf.results?.first ?? (await passkeyPrf(credentialId, toBase64(prfSalt)));
  return { credentialId, prfSalt: toBase64(prfSalt), prfOutput: output };
}

/** Asks the authenticator (with user verification) for the PRF output of the stored salt. */
export async function passkeyPrf(credentialId: string, prfSalt: string): Promise<ArrayBuffer> {
  const assertion = (await navigator.credentials.get({
    publicKey: {
      challenge: random(32),
      allowCredentials: [{ type: 'public-key', id: fromBase64(credentialId) as BufferSource }],
      userVerification: 'required',
      extensions: {
        prf: { eval: { first: fromBase64(prfSalt) as BufferSource } },
      } as AuthenticationExtensionsClientInputs,
    },
  })) as PublicKeyCredential | null;
  const output = (assertion?.getClientExtensionResults() as PrfResults | undefined)?.prf?.results
    ?.first;
  if (!output) throw new NoPrfError();
  return output;
}
