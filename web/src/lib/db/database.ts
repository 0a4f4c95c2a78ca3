import Dexie, { type Table } from 'dexie';

export interface SettingRow {
  key: string;
  value: unknown;
}

/**
 * The one IndexedDB database of the app. Schema versions are append-only: never edit a
 * version() block that has shipped; add a new one (with an upgrade function when data moves).
 */
export class FieldDxDatabase extends Dexie {
  settings!: Table<SettingRow, string>;

  constructor(name = 'fielddx') {
    super(name);
    this.version(1).stores({ settings: 'key' });
    // A newer app version in another tab wants to upgrade the schema: let it.
    this.on('versionchange', () => {
      this.close();
      return false;
    });
  }
}

let instance: FieldDxDatabase | undefined;

/** The app's database, opened on first use (never during module import, so tests stay isolated). */
export function getDatabase(): FieldDxDatabase {
  instance ??= new FieldDxDatabase();
  return instance;
}
