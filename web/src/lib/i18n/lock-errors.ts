import { messageOf } from '$lib/api/errors';
import { WrongSecretError } from '$lib/crypto/keys';
import {
  LockedOutError,
  NoKeyringError,
  PasswordChangedError,
  PinFormatError,
  WrongPinError,
} from '$lib/db/keyring';
import { DeviceInUseError } from '$lib/db/ownership';
import { m } from '$lib/paraglide/messages';

/**
 * The sentence to show for an error of the device lock or of the tablet's ownership: the key ring
 * and claimDevice throw English (their tests and logs read it), and the screens that show it
 * translate by the error's class here.
 */
export function lockMessageOf(error: unknown): string {
  if (error instanceof WrongPinError) return m.lock_wrong_pin({ count: error.remaining });
  if (error instanceof LockedOutError) return m.lock_locked_out();
  if (error instanceof PasswordChangedError) {
    return error.pinUsable ? m.lock_password_changed() : m.lock_password_changed_unopenable();
  }
  if (error instanceof WrongSecretError) return m.lock_wrong_secret();
  if (error instanceof NoKeyringError) return m.lock_no_keyring();
  if (error instanceof PinFormatError) return m.lock_pin_format();
  if (error instanceof DeviceInUseError) return m.device_in_use({ count: error.pending });
  return messageOf(error);
}
