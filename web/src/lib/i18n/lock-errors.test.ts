import { afterEach, describe, expect, it } from 'vitest';
import { WrongSecretError } from '$lib/crypto/keys';
import {
  LockedOutError,
  NoKeyringError,
  PasswordChangedError,
  PinFormatError,
  WrongPinError,
} from '$lib/db/keyring';
import { DeviceInUseError } from '$lib/db/ownership';
import { baseLocale, overwriteGetLocale } from '$lib/paraglide/runtime';
import { lockMessageOf } from './lock-errors';

const errors = [
  new WrongPinError(1),
  new WrongPinError(3),
  new LockedOutError(),
  new PasswordChangedError(true),
  new PasswordChangedError(false),
  new WrongSecretError(),
  new NoKeyringError(),
  new PinFormatError(),
  new DeviceInUseError(1),
  new DeviceInUseError(4),
];

describe('lockMessageOf', () => {
  afterEach(() => overwriteGetLocale(() => baseLocale));

  it('says in English exactly what the error says (tests and specs read those words)', () => {
    overwriteGetLocale(() => 'en');
    for (const error of errors) expect(lockMessageOf(error)).toBe(error.message);
  });

  it('translates each error, counting tries left with the plural rules', () => {
    overwriteGetLocale(() => 'fr');
    for (const error of errors) expect(lockMessageOf(error)).not.toBe(error.message);
    expect(lockMessageOf(new WrongPinError(1))).toContain('Encore 1 erreur et');
    expect(lockMessageOf(new WrongPinError(3))).toContain('Encore 3 erreurs et');
    overwriteGetLocale(() => 'pt');
    expect(lockMessageOf(new WrongPinError(1))).toContain('Mais 1 tentativa errada');
    expect(lockMessageOf(new WrongPinError(2))).toContain('Mais 2 tentativas erradas');
    expect(lockMessageOf(new DeviceInUseError(1))).toContain('1 alteração de outro usuário');
    expect(lockMessageOf(new DeviceInUseError(4))).toContain('4 alterações de outro usuário');
  });

  it('leaves other errors to the general rule', () => {
    expect(lockMessageOf(new Error('Something else'))).toBe('Something else');
  });
});
