import { m } from '$lib/paraglide/messages';
import { formatNumber } from '$lib/i18n/format';

export interface StorageStatus {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

/** How much this app stores on the device, and whether the browser promised to keep it. */
export async function storageStatus(): Promise<StorageStatus> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.estimate) return { usage: null, quota: null, persisted: null };
  const [estimate, persisted] = await Promise.all([
    storage.estimate(),
    storage.persisted ? storage.persisted() : Promise.resolve(null),
  ]);
  return { usage: estimate.usage ?? null, quota: estimate.quota ?? null, persisted };
}

/**
 * Asks the browser not to evict our data under storage pressure (patients live only here until
 * synced). Browsers may say no; then data stays, but is not guaranteed.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.persist) return false;
  if (storage.persisted && (await storage.persisted())) return true;
  return storage.persist();
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return m.bytes_unknown();
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value < 10 && unit > 0 ? 1 : 0;
  return `${formatNumber(value, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${units[unit]}`;
}
