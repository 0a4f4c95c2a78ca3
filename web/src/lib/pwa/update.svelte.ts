import { Workbox } from 'workbox-window';
import { isWiping } from '$lib/security/wipe';

/**
 * Service-worker registration with an update offer. A new version waits until the user chooses
 * to reload, so nobody loses a half-filled form to an automatic refresh.
 */
export class AppUpdate {
  available = $state(false);
  offlineReady = $state(false);
  #workbox: Workbox | undefined;
  /** The user chose "Reload to update": only then does a new worker taking control reload. */
  #applying = false;

  register() {
    if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
    const workbox = new Workbox('/sw.js', { scope: '/' });
    workbox.addEventListener('waiting', () => (this.available = true));
    workbox.addEventListener('activated', (event) => {
      if (!event.isUpdate) this.offlineReady = true;
    });
    workbox.addEventListener('controlling', (event) => {
      // Only after the user's choice, and not in the middle of a wipe. A revoked device's
      // Clear-Site-Data changes the worker before the app sees the refusal: a reload then lost
      // both the wipe and the reason for it (the sign-in page said nothing).
      if (event.isUpdate && this.#applying && !isWiping()) window.location.reload();
    });
    this.#workbox = workbox;
    void workbox.register();
  }

  /** Called only from the user's click on "Reload to update". */
  apply() {
    this.#applying = true;
    this.#workbox?.messageSkipWaiting();
  }

  dismiss() {
    this.available = false;
  }
}

export const appUpdate = new AppUpdate();
