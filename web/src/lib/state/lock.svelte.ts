import { m } from '$lib/paraglide/messages';
import { appVault } from '$lib/crypto/vault';
import { getDatabase } from '$lib/db/database';
import { passkeyPrf } from '$lib/crypto/passkey';
import {
  loadKeyring,
  lockNeed,
  setPin,
  unlockWithPasskey,
  unlockWithPin,
  type LockNeed,
} from '$lib/db/keyring';
import { patientSearch } from '$lib/db/patient-search';
import { DEFAULT_LOCK_MINUTES } from '$lib/security/lock-delay';

const ACTIVITY = ['pointerdown', 'keydown', 'touchstart', 'wheel'] as const;
const CHECK_EVERY_MS = 5_000;

/**
 * Whether an unlocked app must lock now: nothing was touched or typed for `lockAfterMs`. While the
 * app is hidden nothing is touched, so hidden for that long locks too, seen when it shows again.
 */
export function idleExpired(lastActiveAt: number, now: number, lockAfterMs: number): boolean {
  return now - lastActiveAt >= lockAfterMs;
}

/**
 * The lock of the app: what the PIN screen must ask (need), and the idle lock. Locking drops the
 * data key from memory (the vault overwrites it) and the decrypted patient list with it.
 */
export class LockState {
  need = $state<LockNeed | 'unknown'>('unknown');
  /** A passkey of this device wraps the data key too (Unlock with this device). */
  hasPasskey = $state(false);
  /** Idle or hidden this long, it locks: the team setting (lockDelayMs), set by the layout. */
  lockAfterMs = $state(DEFAULT_LOCK_MINUTES * 60_000);
  /** The password changed elsewhere: the PIN must open the key once (PasswordChangedError). */
  passwordChanged = $state(false);
  /** The new password, in memory only, until the PIN opens the key and it wraps it. */
  #newPassword: string | null = null;
  #userId: string | null = null;
  #lastActiveAt = Date.now();

  async check(userId: string) {
    this.#userId = userId;
    this.need = await lockNeed(getDatabase(), appVault, userId);
    const ring = await loadKeyring(getDatabase());
    this.hasPasskey = !!ring?.passkey && ring.userId === userId && !ring.lockedOut;
  }

  get unlocked(): boolean {
    return this.need === 'nothing' || this.need === 'set-pin';
  }

  async lock() {
    appVault.lock();
    patientSearch(getDatabase()).dispose();
    if (this.#userId) await this.check(this.#userId);
  }

  awaitPinForNewPassword(password: string) {
    this.#newPassword = password;
    this.passwordChanged = true;
  }

  /** Signed out: the key goes, and nothing is asked until the next sign-in. */
  forget() {
    this.#newPassword = null;
    this.passwordChanged = false;
    appVault.lock();
    patientSearch(getDatabase()).dispose();
    this.#userId = null;
    this.need = 'unknown';
  }

  async setPin(pin: string) {
    await setPin(getDatabase(), appVault, pin);
    this.#lastActiveAt = Date.now();
    if (this.#userId) await this.check(this.#userId);
  }

  async unlockWithPin(pin: string) {
    try {
      const newPassword = this.#newPassword ? { password: this.#newPassword } : undefined;
      await unlockWithPin(getDatabase(), appVault, pin, newPassword);
      this.#newPassword = null;
      this.passwordChanged = false;
      this.#lastActiveAt = Date.now();
    } finally {
      if (this.#userId) await this.check(this.#userId);
    }
  }

  /** Unlocks through the device's authenticator (fingerprint, face, screen lock). */
  async unlockWithPasskey() {
    const ring = await loadKeyring(getDatabase());
    if (!ring?.passkey) throw new Error(m.lock_no_passkey());
    const output = await passkeyPrf(ring.passkey.credentialId, ring.passkey.prfSalt);
    try {
      await unlockWithPasskey(getDatabase(), appVault, output);
      this.#lastActiveAt = Date.now();
    } finally {
      if (this.#userId) await this.check(this.#userId);
    }
  }

  /** Locks after lockAfterMs idle or hidden; returns the clean-up. */
  watchIdle(): () => void {
    const active = () => {
      if (document.visibilityState === 'visible') this.#lastActiveAt = Date.now();
    };
    const check = () => {
      if (this.unlocked && idleExpired(this.#lastActiveAt, Date.now(), this.lockAfterMs)) {
        void this.lock();
      }
    };
    const visibility = () => (document.visibilityState === 'visible' ? check() : undefined);
    for (const event of ACTIVITY) window.addEventListener(event, active, { passive: true });
    document.addEventListener('visibilitychange', visibility);
    const timer = setInterval(check, CHECK_EVERY_MS);
    return () => {
      for (const event of ACTIVITY) window.removeEventListener(event, active);
      document.removeEventListener('visibilitychange', visibility);
      clearInterval(timer);
    };
  }
}

export const lock = new LockState();
