import type { FieldDxDatabase } from './database';

const OWNER_KEY = 'owner';

/** English for tests and logs; the screens show it translated (lib/i18n/lock-errors). */
export class DeviceInUseError extends Error {
  constructor(readonly pending: number) {
    super(
      `This tablet holds ${pending} ${pending === 1 ? 'edit of another user that is' : 'edits of another user that are'} not backed up yet. ` +
        'They must sign in and sync before someone else uses it, so nothing is lost.',
    );
    this.name = 'DeviceInUseError';
  }
}

/**
 * Makes this device's records belong to the user who signs in. Another user's records are wiped
 * (they are on the server), and so is the device id, unless some are not backed up yet: then the
 * sign-in is refused, so patient data never passes to the wrong person and no edit is lost.
 */
export async function claimDevice(db: FieldDxDatabase, userId: string): Promise<void> {
  await db.transaction('rw', db.tables, async () => {
    const owner = (await db.syncState.get(OWNER_KEY))?.value;
    if (owner === userId) return;
    if (owner !== undefined) {
      const pending = await db.outbox.count();
      if (pending > 0) throw new DeviceInUseError(pending);
      for (const table of db.tables) {
        if (table.name !== 'settings' && table.name !== 'syncState') await table.clear();
      }
      await db.syncState.delete('cursor');
      // The server binds a device id to its first user: the next user syncs under a new one.
      await db.syncState.delete('deviceId');
      await db.syncState.delete('lastSuccessAt');
      const drafts = await db.settings.where('key').startsWith('draft:').primaryKeys();
      await db.settings.bulkDelete(drafts);
    }
    await db.syncState.put({ key: OWNER_KEY, value: userId });
  });
}
