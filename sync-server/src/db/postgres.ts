import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as schema from './schema.pg';

// The PostgreSQL connection (docs/postgresql.md), used when DATABASE_URL is set.

export type PgDb = NodePgDatabase<typeof schema>;
/** A database handle or an open transaction: what the PostgreSQL repositories run on. */
export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0];
export type PgDbOrTx = PgDb | PgTx;

export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle-pg', import.meta.url));

export type DatabaseConfig = { dialect: 'sqlite' } | { dialect: 'postgres'; url: string };

export class DatabaseUrlError extends Error {}

/**
 * Which database DATABASE_URL asks for: unset or empty is the embedded SQLite database (the
 * default); postgres:// or postgresql:// is PostgreSQL. Anything else is refused, never guessed.
 */
export function databaseConfigFrom(env: Record<string, string | undefined>): DatabaseConfig {
  const value = env.DATABASE_URL?.trim();
  if (!value) return { dialect: 'sqlite' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DatabaseUrlError(
      'DATABASE_URL is not a URL: set it to postgres://user:password@host:5432/database, or unset it to use the embedded SQLite database',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new DatabaseUrlError(
      `DATABASE_URL must start with postgres:// or postgresql:// (got ${url.protocol}//); unset it to use the embedded SQLite database`,
    );
  }
  if (!url.hostname && !url.searchParams.get('host')) {
    throw new DatabaseUrlError('DATABASE_URL names no host');
  }
  if (url.pathname.length <= 1) throw new DatabaseUrlError('DATABASE_URL names no database');
  return { dialect: 'postgres', url: value };
}

/** The URL without its password, for logs and error messages. */
export function redactDatabaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

// int8 as a JS number for queries outside drizzle's typed columns (which map it themselves): the
// bigints here are millisecond times, sequence numbers and byte counts, all far below 2^53.
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface OpenedPostgres {
  db: PgDb;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Connects a pool to DATABASE_URL and applies pending migrations (drizzle-pg). */
export async function openPostgres(
  url: string,
  options: { max?: number } = {},
): Promise<OpenedPostgres> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
  // An idle client that loses its connection emits on the pool, and without a listener Node exits;
  // the pool drops that client and the next query opens a new connection (or reports the outage).
  pool.on('error', () => {});
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return { db: drizzle({ client: pool, schema }), pool, close: () => pool.end() };
}

/** Any constant: the key of the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 0x46_44_78_6d; // "FDxm"

/**
 * Applies pending migrations under an advisory lock: several instances starting together on one
 * database would otherwise all run the same CREATE TABLEs, and all but one fail.
 */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle({ client, schema }), { migrationsFolder: PG_MIGRATIONS_DIR });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
