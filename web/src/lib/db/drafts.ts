import type { FieldDxDatabase } from './database';

/**
 * Form text that is not valid yet (a half-typed value), kept on the device only so closing the tab
 * loses nothing. Valid input goes to the record itself.
 */
export async function saveDraft(db: FieldDxDatabase, key: string, value: unknown) {
  await db.settings.put({ key: `draft:${key}`, value });
}

export async function loadDraft<T>(db: FieldDxDatabase, key: string): Promise<T | undefined> {
  return (await db.settings.get(`draft:${key}`))?.value as T | undefined;
}

export async function clearDraft(db: FieldDxDatabase, key: string) {
  await db.settings.delete(`draft:${key}`);
}
