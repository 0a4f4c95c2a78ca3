import { hash, verify } from '@node-rs/argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP's argon2id minimum (m=19 MiB, t=2, p=1). @node-rs/argon2 defaults to argon2id. */
export const PRODUCTION_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * Spends the same work as a real verify against a hash made with the same parameters, and returns
   * false. Used for unknown emails so that their timing matches a wrong password.
   */
  verifyDummy(password: string): Promise<false>;
}

export function createPasswordHasher(params: Argon2Params = PRODUCTION_ARGON2): PasswordHasher {
  // Made up front (in libuv's thread pool) so that even the first unknown email costs one verify.
  const dummy = hash(crypto.randomUUID(), params);
  dummy.catch(() => {}); // a failure surfaces in verifyDummy, not as an unhandled rejection
  const hasher: PasswordHasher = {
    hash: (password) => hash(password, params),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false; // a malformed stored hash never matches
      }
    },
    async verifyDummy(password) {
      await hasher.verify(await dummy, password);
      return false;
    },
  };
  return hasher;
}
