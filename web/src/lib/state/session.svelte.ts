import { m } from '$lib/paraglide/messages';
import { api, type Me, type SignupRequest } from '$lib/api/client';
import { ApiError } from '$lib/api/errors';
import { appVault } from '$lib/crypto/vault';
import { getDatabase } from '$lib/db/database';
import { PasswordChangedError, unlockWithPassword } from '$lib/db/keyring';
import { checkOffline, rememberForOffline } from '$lib/db/offline-signin';
import { claimDevice, DeviceInUseError } from '$lib/db/ownership';
import { lockMessageOf } from '$lib/i18n/lock-errors';
import {
  clearProfile,
  hasPendingSignOut,
  loadProfile,
  saveProfile,
  setPendingSignOut,
} from '$lib/db/profile';
import { lock } from './lock.svelte';
import { signInNotice } from './notice.svelte';

const OFFLINE_REFUSED =
  'The server cannot be reached. Without a connection only the last person who signed in on ' +
  'this tablet can sign in again, with the same email and password.';

export type SessionStatus = 'loading' | 'online' | 'offline' | 'signed-out';

/**
 * Who is signed in. Online, the server says; offline, the device remembers the last signed-in
 * user so a clinician keeps working with no signal.
 */
export class SessionState {
  me = $state<Me | null>(null);
  status = $state<SessionStatus>('loading');
  /** Why the user was sent to the sign-in page, when it was not their choice. */
  get notice(): string | null {
    return signInNotice.text;
  }
  set notice(text: string | null) {
    signInNotice.text = text;
  }

  isAdmin = $derived(this.me?.isAdmin ?? false);
  /**
   * Who writes clinical records on this device, and for which team: the first team where the user
   * is a clinician. Null for users without a clinical role (they cannot register patients).
   */
  author = $derived.by(() => {
    const team = this.me?.memberships.find((m) => m.role === 'clinician');
    if (!this.me || !team) return null;
    return {
      userId: this.me.user.id,
      teamId: team.teamId,
      teamName: team.teamName,
      name: this.me.user.name,
    };
  });

  async restore() {
    if (await hasPendingSignOut(getDatabase())) {
      await this.signOut();
      return;
    }
    // No one is signed in on this tablet (a first visit, or the last user signed out, which
    // clears the profile): there is no session to ask the server about, and asking only earns a
    // 401 that the browser logs as an error on the sign-in page.
    if (!this.me && !(await loadProfile(getDatabase()))) {
      this.status = 'signed-out';
      return;
    }
    try {
      await this.#remember(await api.me());
      this.status = 'online';
    } catch (error) {
      if (error instanceof DeviceInUseError) {
        this.notice = lockMessageOf(error);
        this.me = null;
        this.status = 'signed-out';
        return;
      }
      // Revoked: the wipe has started and ends on the sign-in page that says why. Taking this for
      // a server failure (the cached profile, then no data key → a plain sign-in page) raced it.
      if (error instanceof ApiError && error.code === 'device_revoked') return;
      if (error instanceof ApiError && error.status === 401) {
        if (this.me || (await loadProfile(getDatabase()))) {
          this.notice = m.session_ended();
        }
        await this.#forget();
        return;
      }
      // Unreachable or failing server: carry on with what the device knows.
      const cached = await loadProfile<Me>(getDatabase());
      this.me = cached?.me ?? null;
      this.status = cached ? 'offline' : 'signed-out';
    }
  }

  /**
   * Follows the browser's online/offline events (returns the clean-up): offline is shown at once,
   * and when the connection returns the server is asked again who is signed in.
   */
  watchConnection(): () => void {
    const offline = () => {
      if (this.me) this.status = 'offline';
    };
    const online = () => {
      if (this.status === 'offline') void this.restore();
    };
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    };
  }

  async signIn(email: string, password: string) {
    const db = getDatabase();
    let me: Me;
    try {
      me = await api.login({ email, password });
    } catch (error) {
      if (!(error instanceof ApiError) || !error.isNetwork) throw error;
      // No connection: the last user of this tablet may come back in with their password.
      const kept = await checkOffline<Me>(db, email, password);
      if (!kept) throw new ApiError(0, 'network', OFFLINE_REFUSED);
      // The password opens the data key too, unless wrong PINs locked the tablet: then only a
      // sign-in the server checked (rate-limited) may.
      await unlockWithPassword(db, appVault, kept.user.id, password, { online: false });
      this.me = kept;
      await saveProfile(db, kept);
      await setPendingSignOut(db, false);
      this.status = 'offline';
      this.notice = null;
      return;
    }
    await this.#remember(me);
    try {
      await unlockWithPassword(db, appVault, me.user.id, password, { online: true });
    } catch (error) {
      // Without a usable PIN the sign-in page offers to erase this tablet's data (startOver).
      if (!(error instanceof PasswordChangedError) || !error.pinUsable) throw error;
      // The PIN screen follows; the new password waits in memory to wrap the key once it opens.
      lock.awaitPinForNewPassword(password);
    }
    await rememberForOffline(db, email, password, me).catch(() => {});
    await setPendingSignOut(db, false);
    this.status = 'online';
    this.notice = null;
  }

  /**
   * The password changed elsewhere and no PIN can open this tablet's data key any more: erase
   * the local database (what was never backed up is lost: the user confirmed) and sign in again,
   * which makes a new key wrapped by the new password; the next sync pulls the server's copy.
   */
  async startOver(email: string, password: string) {
    const db = getDatabase();
    lock.forget();
    await db.delete({ disableAutoOpen: false });
    await db.open();
    await this.signIn(email, password);
  }

  async signUp(request: SignupRequest) {
    const db = getDatabase();
    const me = await api.signup(request);
    await this.#remember(me);
    await unlockWithPassword(db, appVault, me.user.id, request.password, { online: true });
    await rememberForOffline(db, request.email, request.password, me).catch(() => {});
    await setPendingSignOut(db, false);
    this.status = 'online';
    this.notice = null;
  }

  async signOut() {
    const db = getDatabase();
    try {
      await api.logout();
      await setPendingSignOut(db, false);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Offline: forget the user now and end the server session at the next chance. (A 401 means
      // the server session had already ended.)
      await setPendingSignOut(db, error.isNetwork);
    } finally {
      await this.#forget();
    }
  }

  async #remember(me: Me) {
    try {
      await claimDevice(getDatabase(), me.user.id);
    } catch (error) {
      // Someone else's unsynced work is on this tablet: do not let this user in on it. Any other
      // (local) failure must not end the user's server session.
      if (error instanceof DeviceInUseError) await api.logout().catch(() => {});
      throw error;
    }
    this.me = me;
    await saveProfile(getDatabase(), me);
  }

  async #forget() {
    // The data key leaves memory with the user; it stays wrapped on the tablet for their return.
    appVault.lock();
    this.me = null;
    this.status = 'signed-out';
    await clearProfile(getDatabase());
  }
}

export const session = new SessionState();
