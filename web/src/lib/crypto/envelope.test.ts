import { describe, expect, it } from 'vitest';
import { DecryptError, open, openJson, seal, sealJson, textBytes } from './envelope';
import {
  unwrapWithPrf,
  unwrapWithSecret,
  wrapWithPrf,
  wrapWithSecret,
  WrongSecretError,
} from './keys';

const key = () => crypto.getRandomValues(new Uint8Array(32));
const aad = textBytes('patients\u0000"p1"');

describe('sealed values', () => {
  it('round-trip bytes and JSON, with a new nonce each time', () => {
    const k = key();
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(open(k, seal(k, bytes, aad), aad)).toEqual(bytes);
    const value = { givenName: 'Awa', village: 'Ségou', vitals: { pulse: 80 } };
    expect(openJson(k, sealJson(k, value, aad), aad)).toEqual(value);
    expect(seal(k, bytes, aad)).not.toEqual(seal(k, bytes, aad));
  });

  it('hold no plaintext', () => {
    const sealed = sealJson(key(), { village: 'Ségou' }, aad);
    expect(new TextDecoder().decode(sealed)).not.toContain('gou');
  });

  it('refuse the wrong key with a clear error', () => {
    const sealed = sealJson(key(), { a: 1 }, aad);
    expect(() => openJson(key(), sealed, aad, 'A stored patients row')).toThrow(DecryptError);
    expect(() => openJson(key(), sealed, aad, 'A stored patients row')).toThrow(
      'A stored patients row could not be decrypted: it was changed on this device or sealed with another key.',
    );
  });

  it('refuse a tampered ciphertext, a truncated one and one moved to another row', () => {
    const k = key();
    const sealed = sealJson(k, { a: 1 }, aad);
    const flipped = sealed.slice();
    flipped[20]! ^= 1;
    expect(() => open(k, flipped, aad)).toThrow(DecryptError);
    expect(() => open(k, sealed.subarray(0, 20), aad)).toThrow(DecryptError);
    expect(() => open(k, sealed, textBytes('patients\u0000"p2"'))).toThrow(DecryptError);
  });
});

describe('wrapped data keys', () => {
  it('open with the secret they were wrapped with, and only with it', async () => {
    const dataKey = key();
    const wrapped = await wrapWithSecret(dataKey, '123456', 1000);
    expect(await unwrapWithSecret(wrapped, '123456')).toEqual(dataKey);
    await expect(unwrapWithSecret(wrapped, '123457')).rejects.toThrow(WrongSecretError);
    expect(JSON.stringify(wrapped)).not.toContain('123456');
  });

  it('open with the same PRF output, and not with another', async () => {
    const dataKey = key();
    const prf = key();
    const wrapped = await wrapWithPrf(dataKey, prf as BufferSource);
    expect(await unwrapWithPrf(wrapped, prf as BufferSource)).toEqual(dataKey);
    await expect(unwrapWithPrf(wrapped, key() as BufferSource)).rejects.toThrow(WrongSecretError);
  });
});
