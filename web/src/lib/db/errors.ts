/** The device ran out of storage: the whole write was rolled back, nothing is half-saved. */
export class StorageFullError extends Error {
  constructor() {
    super(
      'This device is out of storage space, so nothing was saved. Free some space (old photos, ' +
        'videos or unused apps) and try again; what you typed is still on the screen.',
    );
    this.name = 'StorageFullError';
  }
}

function isQuotaError(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { inner?: unknown }).inner) {
    const name = (e as { name?: unknown }).name;
    if (name === 'QuotaExceededError') return true;
  }
  return false;
}

/** Runs a write; a full disk becomes a StorageFullError with a message a clinician understands. */
export async function guardQuota<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isQuotaError(error)) throw new StorageFullError();
    throw error;
  }
}
