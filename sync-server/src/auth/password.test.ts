import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS, isCommonPassword, NewPassword } from '../protocol';
import { TEST_ARGON2 } from '../test-utils';
import { createPasswordHasher, PRODUCTION_ARGON2 } from './password';

describe('password hashing', () => {
  it('uses argon2id with m=19456, t=2, p=1 in production', async () => {
    expect(PRODUCTION_ARGON2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const hasher = createPasswordHasher();
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('salts every hash, never matches a malformed hash, and the dummy never matches', async () => {
    const hasher = createPasswordHasher(TEST_ARGON2);
    const [a, b] = [await hasher.hash('same password'), await hasher.hash('same password')];
    expect(a).not.toBe(b);
    expect(await hasher.verify('not a hash', 'same password')).toBe(false);
    expect(await hasher.verifyDummy('same password')).toBe(false);
  });
});

describe('password policy', () => {
  it('has about fifty common passwords, matched case-insensitively', () => {
    expect(COMMON_PASSWORDS.length).toBeGreaterThanOrEqual(50);
    for (const p of ['password123', 'QwertyUiop', '1234567890', 'LETMEIN123']) {
      expect(isCommonPassword(p), p).toBe(true);
    }
    expect(isCommonPassword('tall ladder in the rain')).toBe(false);
    // Every listed password would otherwise pass the length rule.
    for (const p of COMMON_PASSWORDS) expect(p.length, p).toBeGreaterThanOrEqual(10);
  });

  it('accepts 10 to 256 characters that are not common', () => {
    expect(NewPassword.safeParse('a'.repeat(9)).success).toBe(false);
    expect(NewPassword.safeParse('tall ladde').success).toBe(true);
    expect(NewPassword.safeParse('xyz'.repeat(85) + 'x').success).toBe(true);
    expect(NewPassword.safeParse('xyz'.repeat(85) + 'xy').success).toBe(false);
    expect(NewPassword.safeParse('Password123').success).toBe(false);
  });
});
