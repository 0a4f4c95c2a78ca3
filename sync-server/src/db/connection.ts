import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema>;
/** A database handle or an open transaction: what helpers inside a service accept. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));
export const DB_FILE_NAME = 'fielddx.sqlite';

export interface OpenedDatabase {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

/**
 * Opens (creating if needed) the SQLite database and applies pending migrations.
 * `file` is a path or ':memory:'.
 */
export function openDatabase(file: string): OpenedDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // The server checkpoints in idle time (repositories/sqlite/checkpoint.ts); SQLite's automatic
  // checkpoint, inside a COMMIT, is only the ceiling for sustained writes: 20,000 pages (80 MB)
  // leaves room for a 10,000-record sync (~40 MB of WAL) without one.
  sqlite.pragma('wal_autocheckpoint = 20000');
  const db = drizzle({ client: sqlite, schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db, sqlite, close: () => sqlite.close() };
}

export function openDataDir(dataDir: string): OpenedDatabase {
  return openDatabase(path.join(dataDir, DB_FILE_NAME));
}
