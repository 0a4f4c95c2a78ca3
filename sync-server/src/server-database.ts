import { filesystemBlobStore } from './blob-store/filesystem';
import { postgresBlobStore } from './blob-store/postgres';
import type { BlobStore } from './blob-store/store';
import { openDataDir, type Db } from './db/connection';
import { openPostgres, redactDatabaseUrl } from './db/postgres';
import type { Env } from './env';
import type { Repositories } from './repositories';
import { postgresRepositories } from './repositories/postgres';
import { sqliteRepositories } from './repositories/sqlite';

/** The server's database and blob store, as DATABASE_URL chooses (docs/postgresql.md). */
export interface ServerDatabase {
  repos: Repositories;
  /**
   * Where blob bytes go: files under DATA_DIR with SQLite; PostgreSQL itself with DATABASE_URL, so
   * every instance behind the proxy reads what any of them stored.
   */
  blobStore: BlobStore;
  /** The SQLite database (absent on PostgreSQL). */
  sqlite?: Db;
  /** What the start-up line says: the data folder, or the URL without its password. */
  description: string;
  close(): Promise<void>;
}

export async function openServerDatabase(env: Env): Promise<ServerDatabase> {
  if (env.DATABASE.dialect === 'postgres') {
    const opened = await openPostgres(env.DATABASE.url);
    return {
      repos: postgresRepositories(opened.pool),
      blobStore: postgresBlobStore(opened.pool),
      description: `PostgreSQL ${redactDatabaseUrl(env.DATABASE.url)}`,
      close: () => opened.close(),
    };
  }
  const database = openDataDir(env.DATA_DIR);
  return {
    repos: sqliteRepositories(database.db),
    blobStore: filesystemBlobStore(env.DATA_DIR),
    sqlite: database.db,
    description: env.DATA_DIR,
    close: () => Promise.resolve(database.close()),
  };
}
