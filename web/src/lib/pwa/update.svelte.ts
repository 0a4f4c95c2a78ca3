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

  register() {
    if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
    const workbox = new Workbox('/sw.js', { scope: '/' });
    workbox.addEventListener('waiting', () => (this.available = true));
    workbox.addEventListener('activated', (event) => {
      if (!event.isUpdate) this.offlineReady = true;
    });
    workbox.addEventListener('controlling', (event) => {
      // Not in the middle of a wipe: the browser's Clear-Site-Data unregisters the worker, and a
      // reload then would cut the wipe short (lib/security/wipe.ts navigates when it is done).
      if (event.isUpdate && !isWiping()) window.location.reload();
    });
    this.#workbox = workbox;
    void workbox.register();
  }

  /** Called only from the user's click on "Reload to update". */
  apply() {
    this.#workbox?.messageSkipWaiting();
  }

  dismiss() {
    this.available = false;
  }
}

export const appUpdate = new AppUpdate();
