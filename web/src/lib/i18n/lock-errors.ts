import { messageOf } from '$lib/api/errors';
import { WrongSecretError } from '$lib/crypto/keys';
import { LockedOutError, PasswordChangedError, WrongPinError } from '$lib/db/keyring';
import { m } from '$lib/paraglide/messages';

/**
 * The sentence to show for an error of the device lock: the key ring throws English (its tests
 * and logs read it), and the screens that show it translate by the error's class here.
 */
export function lockMessageOf(error: unknown): string {
  if (error instanceof WrongPinError) return m.lock_wrong_pin({ count: error.remaining });
  if (error instanceof LockedOutError) return m.lock_locked_out();
  if (error instanceof PasswordChangedError) {
    return error.pinUsable ? m.lock_password_changed() : m.lock_password_changed_unopenable();
  }
  if (error instanceof WrongSecretError) return m.lock_wrong_secret();
  return messageOf(error);
}
