import type { FieldDxDatabase } from './database';

const PROFILE_KEY = 'profile';

/** What the device remembers of the last signed-in user, so the shell opens offline. */
export interface CachedProfile<Me> {
  me: Me;
  savedAt: string;
}

export async function saveProfile<Me>(db: FieldDxDatabase, me: Me, now = new Date()) {
  const value: CachedProfile<Me> = { me, savedAt: now.toISOString() };
  await db.settings.put({ key: PROFILE_KEY, value });
}

export async function loadProfile<Me>(db: FieldDxDatabase): Promise<CachedProfile<Me> | undefined> {
  const row = await db.settings.get(PROFILE_KEY);
  return row?.value as CachedProfile<Me> | undefined;
}

export async function clearProfile(db: FieldDxDatabase) {
  await db.settings.delete(PROFILE_KEY);
}

const PENDING_SIGN_OUT_KEY = 'pendingSignOut';

/** A sign-out made offline: the server session must still be ended when the server is reachable. */
export async function setPendingSignOut(db: FieldDxDatabase, pending: boolean) {
  if (pending) await db.settings.put({ key: PENDING_SIGN_OUT_KEY, value: true });
  else await db.settings.delete(PENDING_SIGN_OUT_KEY);
}

export async function hasPendingSignOut(db: FieldDxDatabase): Promise<boolean> {
  return (await db.settings.get(PENDING_SIGN_OUT_KEY))?.value === true;
}
