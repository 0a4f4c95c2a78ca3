import { ApiError, messageOf } from '$lib/api/errors';
import { appVault, type Vault } from '$lib/crypto/vault';
import { getDatabase, type FieldDxDatabase } from '$lib/db/database';
import { getModelUpdates } from '$lib/inference/model-updates.svelte';
import { m } from '$lib/paraglide/messages';
import { retryDelay } from './backoff';
import { syncOnce, type SyncProgress, type SyncSummary } from './engine';
import { httpTransport, type SyncTransport } from './transport';

const EVERY_FEW_MINUTES = 3 * 60_000;
/** How long after the last edit a push starts: typing pauses, then the edit leaves the device. */
export const PUSH_AFTER_EDIT_MS = 2_000;

/**
 * When and how syncs run, and what the user is told about them. One sync at a time across tabs
 * (Web Locks); automatic runs at start, a moment after each edit, when the connection returns and
 * every few minutes; exponential back-off after failures; a lost session pauses sync until the
 * user signs in. Being offline is a state the browser reports, not a failure.
 */
export class SyncStatus {
  running = $state(false);
  progress = $state.raw<SyncProgress | null>(null);
  lastSuccessAt = $state<string | null>(null);
  lastSummary = $state.raw<SyncSummary | null>(null);
  /** The real reason the last sync failed; cleared only by a sync that succeeded. */
  lastError = $state<string | null>(null);
  needsSignIn = $state(false);
  /** The browser says there is no network, or the server could not be reached at all. */
  offline = $state(false);
  /**
   * The app is locked: the data key is not in memory, so nothing can be read from the (sealed)
   * outbox or stored from a pull. Sync waits, and the unlock starts it again; a sync the lock cut
   * short loses nothing (what it had stored stays stored, the rest is done again).
   */
  locked = $state(false);

  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pushTimer: ReturnType<typeof setTimeout> | undefined;
  /** An edit arrived while a sync ran: push again once it ends. */
  #pushWanted = false;
  /** The app locked while a sync ran (and may be unlocked again by the time it fails). */
  #lockedDuringRun = false;
  #stop: (() => void) | undefined;

  constructor(
    private readonly db: () => FieldDxDatabase = getDatabase,
    private readonly transport: SyncTransport = httpTransport(),
    /** After each successful sync: new model versions download in the background. */
    private readonly afterSync: () => void = () => void getModelUpdates().check(),
    vault: Vault = appVault,
  ) {
    this.locked = !vault.unlocked;
    vault.subscribe((unlocked) => {
      this.locked = !unlocked;
      if (!unlocked && this.running) this.#lockedDuringRun = true;
    });
  }

  /** Starts automatic syncing for the signed-in user. */
  start() {
    if (this.#stop) return;
    this.offline = !navigator.onLine;
    const online = () => {
      this.offline = false;
      void this.syncNow();
    };
    const offline = () => (this.offline = true);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    const interval = setInterval(() => {
      if (navigator.onLine) void this.syncNow();
    }, EVERY_FEW_MINUTES);
    // Every local edit writes an outbox row (db/records.ts writeRecord): push it soon.
    const outbox = this.db().outbox;
    const edited = () => this.pushSoon();
    outbox.hook('creating', edited);
    this.#stop = () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      outbox.hook('creating').unsubscribe(edited);
      clearInterval(interval);
      clearTimeout(this.#timer);
      clearTimeout(this.#pushTimer);
    };
    void this.#loadLastSuccess();
    // Offline (the browser says so), the 'online' event starts it: a sync that could only fail
    // would read and open a batch of the outbox just as the unlocked list loads.
    if (navigator.onLine) void this.syncNow();
  }

  stop() {
    this.#stop?.();
    this.#stop = undefined;
  }

  /** The user signed in again: sync resumes with nothing lost (the outbox waited). */
  resume() {
    this.needsSignIn = false;
    this.#failures = 0;
    void this.syncNow();
  }

  /** A sync a moment after the last edit, while online (debounced: one push per pause). */
  pushSoon(delayMs = PUSH_AFTER_EDIT_MS) {
    clearTimeout(this.#pushTimer);
    if (this.running) {
      this.#pushWanted = true;
      return;
    }
    this.#pushTimer = setTimeout(() => {
      if (!this.offline && navigator.onLine) void this.syncNow();
    }, delayMs);
  }

  async syncNow(): Promise<void> {
    if (this.running || this.needsSignIn || this.locked) return;
    const locks = globalThis.navigator?.locks;
    if (locks) {
      await locks.request('fielddx-sync', { ifAvailable: true }, async (lock) => {
        if (lock) await this.#run();
      });
    } else {
      await this.#run();
    }
  }

  async #run() {
    this.running = true;
    this.#lockedDuringRun = false;
    this.progress = null;
    clearTimeout(this.#timer);
    try {
      this.lastSummary = await syncOnce(this.db(), this.transport, (p) => (this.progress = p));
      this.lastSuccessAt = new Date().toISOString(); // eslint-disable-line svelte/prefer-svelte-reactivity -- a string is stored
      this.lastError = this.lastSummary.rejected.length
        ? m.sync_refused({
            count: this.lastSummary.rejected.length,
            reason: this.lastSummary.rejected[0]!.reason,
          })
        : null;
      this.#failures = 0;
      this.offline = false;
      this.afterSync();
    } catch (error) {
      if (this.#cutByLock()) return;
      if (error instanceof ApiError && error.isNetwork) {
        // No connection is a state, shown as such; the edits wait and go when it returns.
        this.offline = true;
        this.#failures++;
        this.#timer = setTimeout(() => void this.syncNow(), retryDelay(this.#failures));
      } else if (error instanceof ApiError && error.status === 401) {
        this.needsSignIn = true;
        this.lastError = m.sync_session_ended();
      } else {
        this.lastError = m.sync_failed({ reason: messageOf(error) });
        this.#failures++;
        this.#timer = setTimeout(() => void this.syncNow(), retryDelay(this.#failures));
      }
    } finally {
      this.running = false;
      this.progress = null;
      if (this.#pushWanted) {
        this.#pushWanted = false;
        this.pushSoon();
      }
    }
  }

  /**
   * The app locked during this sync (the failure is the key's absence, not the sync's): nothing to
   * report and no back-off. Unlocked again meanwhile, the sync runs again at once.
   */
  #cutByLock(): boolean {
    if (!this.locked && !this.#lockedDuringRun) return false;
    this.#lockedDuringRun = false;
    if (!this.locked) this.#timer = setTimeout(() => void this.syncNow(), 0);
    return true;
  }

  async #loadLastSuccess() {
    const value = (await this.db().syncState.get('lastSuccessAt'))?.value;
    if (typeof value === 'string' && !this.lastSuccessAt) this.lastSuccessAt = value;
  }
}

export const syncStatus = new SyncStatus();
