import { getDatabase } from '$lib/db/database';

/** The header that names this installation (sync-server/protocol DEVICE_ID_HEADER). */
export const DEVICE_HEADER = 'x-device-id';

/**
 * The device id header for every API call once the device has one (made at its first sync,
 * lib/sync/engine.ts): the server then refuses a revoked device at its next contact, whatever the
 * call and even after its session ended, and knows when it was last seen. None before the first
 * sync, or when the database cannot be read.
 */
export async function deviceHeaders(): Promise<Record<string, string>> {
  try {
    const id = (await getDatabase().syncState.get('deviceId'))?.value;
    return typeof id === 'string' ? { [DEVICE_HEADER]: id } : {};
  } catch {
    return {};
  }
}
