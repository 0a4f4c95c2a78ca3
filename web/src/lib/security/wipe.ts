/*
 * The tablet's reaction to being revoked (issue 15, "Lost device"): the server answered 403
 * device_revoked (with Clear-Site-Data, which a browser may or may not honour), so everything
 * FieldDx keeps on this device goes, explicitly: every IndexedDB database (records, outbox,
 * images, keys), Cache Storage (the app shell and models too: they come back from the server),
 * localStorage and sessionStorage. The wipe leaves the service worker registered (the browser's
 * Clear-Site-Data may unregister it). Then the sign-in page says what happened.
 */

/** Where the app goes after a wipe; the sign-in page reads `revoked` and says so. */
export const WIPED_URL = '/signin?revoked=1';

/**
 * Set in sessionStorage (this tab only, no data) as soon as the refusal arrives and again after
 * the wipe: the browser's own clearing unregisters the service worker, and the app may reload
 * before the wipe's own navigation, so the sign-in page learns why from this as well.
 */
const REVOKED_FLAG = 'fielddx:device-revoked';

/** The same, for this document: the browser's Clear-Site-Data may empty sessionStorage too. */
let revokedHere = false;

/**
 * And in the tab's name, which no storage clearing touches and which survives a navigation to
 * another page of the app: a navigation can cut the wipe short before its own (the user, or a
 * test, opening a page), and the browser may have emptied sessionStorage meanwhile.
 */
function tab(): { name: string } | undefined {
  return (globalThis as { window?: { name: string } }).window;
}

function markRevoked() {
  revokedHere = true;
  const window = tab();
  if (window) window.name = REVOKED_FLAG;
  try {
    globalThis.sessionStorage?.setItem(REVOKED_FLAG, '1');
  } catch {
    // Storage disabled: the URL still says it.
  }
}

/** After a sign-in on the wiped device: the message has been read. */
export function clearRevokedNotice(): void {
  revokedHere = false;
  const window = tab();
  if (window?.name === REVOKED_FLAG) window.name = '';
  try {
    globalThis.sessionStorage?.removeItem(REVOKED_FLAG);
  } catch {
    // Nothing to clear.
  }
}

/** Whether this tab was just wiped after a revocation (for the sign-in page's message). */
export function wasRevoked(url: URL): boolean {
  if (url.searchParams.has('revoked') || revokedHere || tab()?.name === REVOKED_FLAG) return true;
  try {
    return globalThis.sessionStorage?.getItem(REVOKED_FLAG) === '1';
  } catch {
    return false;
  }
}

/** How long one database may take to delete (another tab may hold it open for a moment). */
const DELETE_TIMEOUT_MS = 5_000;

export interface WipeSummary {
  databases: string[];
  caches: string[];
}

function deleteDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, DELETE_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const request = factory.deleteDatabase(name);
    request.onsuccess = done;
    request.onerror = done;
    // "blocked": a connection elsewhere has not closed yet; the deletion proceeds when it does.
  });
}

/** Erases every kind of storage the app uses on this origin. Never throws. */
export async function wipeLocalData(
  scope: {
    indexedDB?: IDBFactory;
    caches?: CacheStorage;
    localStorage?: Storage;
    sessionStorage?: Storage;
  } = globalThis,
): Promise<WipeSummary> {
  const summary: WipeSummary = { databases: [], caches: [] };
  const factory = scope.indexedDB;
  if (factory) {
    const names = (await factory.databases().catch(() => []))
      .map((d) => d.name)
      .filter((n): n is string => !!n);
    await Promise.all(names.map((name) => deleteDatabase(factory, name)));
    summary.databases = names;
  }
  if (scope.caches) {
    const keys = await scope.caches.keys().catch(() => []);
    await Promise.all(keys.map((key) => scope.caches!.delete(key).catch(() => false)));
    summary.caches = keys;
  }
  for (const storage of [scope.localStorage, scope.sessionStorage]) {
    try {
      storage?.clear();
    } catch {
      // Storage disabled by the browser: nothing of ours is in it.
    }
  }
  return summary;
}

let wiping: Promise<void> | null = null;

/** A wipe is under way: nothing else may reload the page meanwhile (lib/pwa/update.svelte.ts). */
export const isWiping = () => wiping !== null;

/**
 * Closes the app's own database (so its deletion is not blocked), wipes, and reloads on the
 * sign-in page, which then says the device was revoked. Runs once however many calls are
 * refused at the same time.
 */
export function wipeAfterRevocation(): Promise<void> {
  markRevoked();
  wiping ??= (async () => {
    try {
      const { getDatabase } = await import('$lib/db/database');
      getDatabase().close();
    } catch {
      // Not open, or already closed by the browser's own clearing.
    }
    await wipeLocalData();
    markRevoked();
    location.replace(WIPED_URL);
  })();
  return wiping;
}
