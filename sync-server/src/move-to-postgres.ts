import Database from 'better-sqlite3';
import { asc, Column, getTableColumns, getTableName, is, sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { blobPath, filesystemBlobStore } from './blob-store/filesystem';
import { postgresBlobStore } from './blob-store/postgres';
import { DB_FILE_NAME, openDatabase, type Db } from './db/connection';
import {
  databaseConfigFrom,
  DatabaseUrlError,
  openPostgres,
  redactDatabaseUrl,
} from './db/postgres';
import * as sqliteSchema from './db/schema';
import * as pgSchema from './db/schema.pg';
import { legacyModelFilePath, modelFileHashes } from './services/models';

/*
 * `pnpm move-to-postgres` (README "Scaling out"): copies a SQLite data folder — its database, its
 * blobs and the model files its catalogue lists — into an empty PostgreSQL database and the
 * PostgreSQL blob store, then checks the copy before committing it. Everything is written in one transaction: a refusal, an error or a
 * failed check leaves the target as it was. The source is never written: the copy is read from a
 * snapshot (VACUUM INTO), upgraded to the current schema by the SQLite migrations if it is older.
 *
 * Checked before committing: every table's row count; every table's content (the sum of its rows'
 * SHA-256, read back from PostgreSQL, equal to the same over the snapshot); every blob the database
 * lists, hashed in the data folder before the copy and read back from the store after it (its
 * SHA-256 and size), and every model file moved (its SHA-256); and that the store holds exactly
 * those blobs and model files. Nothing read from a row is ever printed: errors name tables and
 * blob hashes only.
 *
 * Model files (model_versions.files) share the store with the images (services/models.ts): they
 * are read from blobs/, or from models/ where a data folder of an earlier version keeps them. One
 * the folder lacks, or whose bytes do not hash to its name, is not moved but counted: the server
 * stores a bundled version's file again at start; an uploaded one must be uploaded again.
 */

export class MoveError extends Error {}

export interface MoveReport {
  tables: { name: string; rows: number }[];
  blobs: number;
  blobBytes: number;
  /** Files under blobs/ that no row lists (an upload a crash left unrecorded): not moved. */
  unlistedBlobFiles: number;
  /** Model files the catalogue lists, moved into the store (those that are images count there). */
  modelFiles: number;
  modelFileBytes: number;
  /** Model files the catalogue lists that are missing or damaged in the data folder: not moved. */
  modelFilesMissing: number;
  ms: number;
}

interface TablePair {
  name: string;
  lite: SQLiteTable;
  pg: PgTable;
  /** SQLite property -> PostgreSQL property, matched by column name. */
  keys: [string, string][];
  /** Primary-key columns (PostgreSQL side, in key order), for ordered reads. */
  pgKey: Column[];
  liteKey: Column[];
}

const tablesOf = <T>(module: Record<string, unknown>, kind: new (...args: never[]) => T) => {
  const tables = new Map<string, T>();
  for (const value of Object.values(module)) {
    if (is(value, kind as never)) tables.set(getTableName(value as never), value as T);
  }
  return tables;
};

/** The key's columns as the table's own (a composite key's config holds copies of them). */
const primaryKeyOf = (columns: Column[], primaryKeys: { columns: Column[] }[]): Column[] => {
  const own = columns.filter((c) => c.primary);
  if (own.length > 0) return own;
  return primaryKeys.flatMap((pk) =>
    pk.columns.map((k) => columns.find((c) => c.name === k.name)!),
  );
};

/** Every table both schemas have, parents before children (foreign keys). */
export function tablesInDependencyOrder(): TablePair[] {
  const lite = tablesOf(sqliteSchema, SQLiteTable);
  const pgTables = tablesOf(pgSchema, PgTable);
  const pairs = new Map<string, TablePair>();
  for (const [name, pgTable] of pgTables) {
    if (pgSchema.PG_ONLY_TABLES.includes(name)) continue;
    const liteTable = lite.get(name);
    if (!liteTable) throw new Error(`${name} is in schema.pg.ts only`);
    const pgByName = new Map(
      Object.entries(getTableColumns(pgTable)).map(([key, c]) => [c.name, key]),
    );
    const keys = Object.entries(getTableColumns(liteTable)).map(([key, c]): [string, string] => {
      const pgKey = pgByName.get(c.name);
      if (!pgKey) throw new Error(`${name}.${c.name} is in schema.ts only`);
      return [key, pgKey];
    });
    const pc = pgConfig(pgTable);
    const lc = sqliteConfig(liteTable);
    pairs.set(name, {
      name,
      lite: liteTable,
      pg: pgTable,
      keys,
      pgKey: primaryKeyOf(pc.columns, pc.primaryKeys),
      liteKey: primaryKeyOf(lc.columns, lc.primaryKeys),
    });
  }
  const ordered: TablePair[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`foreign keys form a cycle at ${name}`);
    state.set(name, 'visiting');
    const pair = pairs.get(name)!;
    for (const fk of pgConfig(pair.pg).foreignKeys) {
      const parent = getTableName(fk.reference().foreignTable);
      if (parent !== name) visit(parent);
    }
    state.set(name, 'done');
    ordered.push(pair);
  };
  for (const name of [...pairs.keys()].sort()) visit(name);
  return ordered;
}

/** A row as text that means the same on both sides: keys sorted, times as milliseconds. */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return { $ms: value.getTime() };
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const PAGE = 500;

/** A table's rows in primary-key order, page by page (keyset, so each page is an index seek). */
async function* pagesOf(
  read: (after: SQL | undefined) => Promise<Record<string, unknown>[]>,
  keyOf: (row: Record<string, unknown>) => unknown[],
  after: (values: unknown[]) => SQL,
) {
  let last: unknown[] | undefined;
  for (;;) {
    const rows = await read(last ? after(last) : undefined);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    last = keyOf(rows.at(-1)!);
  }
}

const propertyOf = (table: SQLiteTable | PgTable, column: Column) =>
  Object.entries(getTableColumns(table)).find(([, c]) => c === column)![0];

function liteRows(lite: Db, pair: TablePair) {
  const props = pair.liteKey.map((c) => propertyOf(pair.lite, c));
  return pagesOf(
    async (after) =>
      lite
        .select()
        .from(pair.lite)
        .where(after)
        .orderBy(...pair.liteKey.map((c) => asc(c)))
        .limit(PAGE)
        .all() as Record<string, unknown>[],
    (row) => props.map((p) => row[p]),
    (values) =>
      sql`(${sql.join(
        pair.liteKey.map((c) => sql`${c}`),
        sql`, `,
      )}) > (${sql.join(
        pair.liteKey.map((c, i) => sql`${sql.param(values[i], c)}`),
        sql`, `,
      )})`,
  );
}

function pgRows(db: NodePgDatabase<typeof pgSchema>, pair: TablePair) {
  const props = pair.pgKey.map((c) => propertyOf(pair.pg, c));
  return pagesOf(
    async (after) =>
      (await db
        .select()
        .from(pair.pg)
        .where(after)
        .orderBy(...pair.pgKey.map((c) => asc(c)))
        .limit(PAGE)) as Record<string, unknown>[],
    (row) => props.map((p) => row[p]),
    (values) =>
      sql`(${sql.join(
        pair.pgKey.map((c) => sql`${c}`),
        sql`, `,
      )}) > (${sql.join(
        pair.pgKey.map((c, i) => sql`${sql.param(values[i], c)}`),
        sql`, `,
      )})`,
  );
}

const MOD_256 = 1n << 256n;

/**
 * A table's contents as one number: the sum of its rows' SHA-256 modulo 2^256. The sum does not
 * depend on the order rows are read in, so each database reads in its own index order (text keys
 * sort differently in SQLite and in a PostgreSQL database with a non-C locale, and sorting them
 * alike would cost PostgreSQL a sort per page); a row missing, changed or doubled changes it.
 */
async function digest(
  pages: AsyncIterable<Record<string, unknown>[]>,
  rename: (row: Record<string, unknown>) => Record<string, unknown>,
) {
  let sum = 0n;
  let rows = 0;
  for await (const page of pages) {
    for (const row of page) {
      const hash = createHash('sha256').update(JSON.stringify(canonical(rename(row))));
      sum = (sum + BigInt(`0x${hash.digest('hex')}`)) % MOD_256;
      rows += 1;
    }
  }
  return { rows, sum };
}

/**
 * Why a statement failed, in schema words only. Not the message: drizzle's names the query's
 * parameters (the rows), and PostgreSQL's can quote a value.
 */
function failureOf(error: unknown): string {
  let e = error as { cause?: unknown; code?: unknown } | undefined;
  while (e && typeof e.code !== 'string' && e.cause) e = e.cause as typeof e;
  const db = e as { code?: string; table?: string; column?: string; constraint?: string };
  if (typeof db?.code !== 'string') return (error as Error)?.name ?? 'an error';
  const where = [db.table, db.column].filter(Boolean).join('.');
  return `PostgreSQL error ${db.code}${where ? ` on ${where}` : ''}${db.constraint ? ` (constraint ${db.constraint})` : ''}`;
}

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** The target's tables (in its current schema) that hold at least one row. */
async function tablesWithRows(client: pg.ClientBase): Promise<string[]> {
  const tables = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const full: string[] = [];
  for (const { name } of tables.rows) {
    const any = await client.query(`SELECT 1 FROM ${pg.escapeIdentifier(name)} LIMIT 1`);
    if (any.rowCount) full.push(name);
  }
  return full;
}

function notEmpty(full: string[]): MoveError {
  const blobs = full.some((t) => t.startsWith('blob_') && t !== 'blob_teams');
  return new MoveError(
    `The target database is not empty: ${full.length === 1 ? '1 table holds' : `${full.length} tables hold`} rows` +
      ` (${full.slice(0, 5).join(', ')}${full.length > 5 ? ', …' : ''})` +
      `${blobs ? ', blobs among them' : ''}. Move into a new, empty database. Nothing was written.`,
  );
}

/** pg's messages name the user and host; this makes sure no password slips into one. */
function withoutPassword(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL: nothing to hide
  }
  return password ? message.replaceAll(password, '***') : message;
}

interface ModelFile {
  sha256: string;
  bytes: number;
  /** Where it is in the data folder: blobs/ or (a folder not yet upgraded) models/. */
  file: string;
}

/**
 * The model files the catalogue lists that are not images too, checked in the data folder before
 * anything is written: `found` (their bytes hash to their name) and `missing` (absent or damaged).
 */
async function modelFilesIn(lite: Database.Database, dataDir: string, images: Set<string>) {
  const catalogue = lite
    .prepare<[], string>('SELECT files FROM model_versions')
    .pluck()
    .all()
    .map((json) => JSON.parse(json) as Record<string, string>);
  const found: ModelFile[] = [];
  const missing: string[] = [];
  for (const sha of modelFileHashes(catalogue).filter((h) => !images.has(h))) {
    let match: ModelFile | undefined;
    for (const file of [blobPath(dataDir, sha), legacyModelFilePath(dataDir, sha)]) {
      const bytes = await readFile(file).catch(() => null);
      if (bytes && sha256Of(bytes) === sha) {
        match = { sha256: sha, bytes: bytes.length, file };
        break;
      }
    }
    if (match) found.push(match);
    else missing.push(sha);
  }
  return { found, missing };
}

export interface MoveOptions {
  dataDir: string;
  /** DATABASE_URL: the PostgreSQL database to move into. */
  databaseUrl: string | undefined;
  /** Progress lines (table names and counts only). */
  log?: (line: string) => void;
}

export async function moveToPostgres(options: MoveOptions): Promise<MoveReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  let url: string;
  try {
    const config = databaseConfigFrom({ DATABASE_URL: options.databaseUrl });
    if (config.dialect !== 'postgres') {
      throw new MoveError(
        'Set DATABASE_URL to the empty PostgreSQL database to move into (postgres://user:password@host:5432/database).',
      );
    }
    url = config.url;
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new MoveError(error.message);
    throw error;
  }
  const shown = redactDatabaseUrl(url);

  const dataDir = path.resolve(options.dataDir);
  const source = path.join(dataDir, DB_FILE_NAME);
  const isDir = await stat(dataDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new MoveError(`No data folder at ${dataDir}: set DATA_DIR to the server's.`);
  const hasDb = await stat(source).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!hasDb) {
    throw new MoveError(
      `${dataDir} holds no ${DB_FILE_NAME}: set DATA_DIR to the folder the SQLite server used.`,
    );
  }

  // Is the target reachable and empty? Asked before anything is written, migrations included.
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    const full = await tablesWithRows(probe);
    if (full.length > 0) throw notEmpty(full);
  } catch (error) {
    if (error instanceof MoveError) throw error;
    throw new MoveError(
      `Cannot use the database at ${shown}: ${withoutPassword((error as Error).message, url)}`,
    );
  } finally {
    await probe.end().catch(() => {});
  }

  const work = await mkdtemp(path.join(tmpdir(), 'fielddx-move-'));
  try {
    // A snapshot: consistent even if a server still writes (stop it first, or its later writes
    // are not moved), and upgraded here, never in the data folder.
    const snapshotFile = path.join(work, DB_FILE_NAME);
    const sourceDb = new Database(source, { readonly: true, fileMustExist: true });
    try {
      sourceDb.pragma('busy_timeout = 5000');
      sourceDb.prepare('VACUUM INTO ?').run(snapshotFile);
    } finally {
      sourceDb.close();
    }
    const snapshot = openDatabase(snapshotFile);
    try {
      const integrity = snapshot.sqlite.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok') throw new MoveError(`${source} is damaged: ${String(integrity)}`);
      const pairs = tablesInDependencyOrder();
      const known = new Set(pairs.map((p) => p.name));
      const unknown = snapshot.sqlite
        .prepare<[], string>(
          `SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name`,
        )
        .pluck()
        .all()
        .filter((name) => !known.has(name));
      if (unknown.length > 0) {
        throw new MoveError(
          `${source} has tables this version does not know (${unknown.join(', ')}): move it with the version that made it.`,
        );
      }

      // The blobs the database lists, checked in the data folder before anything is written.
      const listed = snapshot.sqlite
        .prepare<[], { sha256: string; bytes: number }>(
          'SELECT sha256, bytes FROM blobs ORDER BY sha256',
        )
        .all();
      const files = filesystemBlobStore(dataDir);
      const bad: string[] = [];
      for (const blob of listed) {
        const bytes = await files.getBuffer(blob.sha256);
        if (!bytes || bytes.length !== blob.bytes || sha256Of(bytes) !== blob.sha256) {
          bad.push(blob.sha256);
        }
      }
      if (bad.length > 0) {
        throw new MoveError(
          `${bad.length} blob${bad.length === 1 ? '' : 's'} the database lists ${bad.length === 1 ? 'is' : 'are'} missing or damaged in ${path.join(dataDir, 'blobs')} (${bad.slice(0, 3).map(short).join(', ')}): restore them from a backup first. Nothing was written.`,
        );
      }
      const models = await modelFilesIn(
        snapshot.sqlite,
        dataDir,
        new Set(listed.map((b) => b.sha256)),
      );
      let unlistedBlobFiles = 0;
      const listedSet = new Set([...listed, ...models.found].map((b) => b.sha256));
      for await (const sha of files.list()) {
        if (!listedSet.has(sha) && !models.missing.includes(sha)) unlistedBlobFiles += 1;
      }

      const target = await openPostgres(url, { max: 1 }).catch((error: Error) => {
        throw new MoveError(
          `Cannot prepare the database at ${shown}: ${withoutPassword(error.message, url)}`,
        );
      });
      try {
        const client = await target.pool.connect();
        try {
          await client.query('BEGIN');
          const tables = await copyInTransaction(
            client,
            snapshot.db,
            pairs,
            listed,
            models.found,
            dataDir,
            log,
          );
          await client.query('COMMIT');
          const blobBytes = listed.reduce((sum, b) => sum + b.bytes, 0);
          return {
            tables,
            blobs: listed.length,
            blobBytes,
            unlistedBlobFiles,
            modelFiles: models.found.length,
            modelFileBytes: models.found.reduce((sum, f) => sum + f.bytes, 0),
            modelFilesMissing: models.missing.length,
            ms: Math.round(performance.now() - started),
          };
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          if (error instanceof MoveError) throw error;
          throw new MoveError(`The copy failed: ${failureOf(error)}. Nothing was copied.`);
        } finally {
          client.release();
        }
      } finally {
        await target.close();
      }
    } finally {
      snapshot.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function copyInTransaction(
  client: pg.PoolClient,
  lite: Db,
  pairs: TablePair[],
  listed: { sha256: string; bytes: number }[],
  modelFiles: ModelFile[],
  dataDir: string,
  log: (line: string) => void,
) {
  const db = drizzlePg({ client, schema: pgSchema });
  // No instance may write while the copy runs; and the target must still be empty under the lock.
  const all = [...pairs.map((p) => p.name), ...pgSchema.PG_ONLY_TABLES];
  await client.query(`LOCK TABLE ${all.map(pg.escapeIdentifier).join(', ')} IN EXCLUSIVE MODE`);
  const full = await tablesWithRows(client);
  if (full.length > 0) throw notEmpty(full);

  const tables: { name: string; rows: number }[] = [];
  for (const pair of pairs) {
    const tableStarted = performance.now();
    let rows = 0;
    for await (const page of liteRows(lite, pair)) {
      const values = page.map((row) =>
        Object.fromEntries(pair.keys.map(([from, to]) => [to, row[from]])),
      );
      await db
        .insert(pair.pg)
        .values(values as never)
        .catch((error: unknown) => {
          throw new MoveError(
            `Copying ${pair.name} failed: ${failureOf(error)}. Nothing was copied.`,
          );
        });
      rows += page.length;
    }
    // Ids made by PostgreSQL from now on follow the copied ones.
    for (const column of pgConfig(pair.pg).columns) {
      if (!(column as { generatedIdentity?: unknown }).generatedIdentity) continue;
      const t = pg.escapeIdentifier(pair.name);
      const c = pg.escapeIdentifier(column.name);
      await client.query(
        `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${c}) FROM ${t}), 1),
                (SELECT max(${c}) FROM ${t}) IS NOT NULL)`,
        [t, column.name],
      );
    }
    tables.push({ name: pair.name, rows });
    log(`  ${pair.name}: ${rows} rows (${Math.round(performance.now() - tableStarted)} ms)`);
  }

  const blobsStarted = performance.now();
  const store = postgresBlobStore({ client, inTransaction: true });
  for (const blob of listed) {
    await store.put(blob.sha256, await readFile(blobPath(dataDir, blob.sha256)));
  }
  for (const model of modelFiles) await store.put(model.sha256, await readFile(model.file));
  log(
    `  blobs: ${listed.length}, model files: ${modelFiles.length} (${Math.round(performance.now() - blobsStarted)} ms)`,
  );
  const checkStarted = performance.now();

  // The checks, on what this transaction wrote, before it is committed.
  for (const pair of pairs) {
    const expected = await digest(liteRows(lite, pair), (row) =>
      Object.fromEntries(pair.keys.map(([from, to]) => [to, row[from]])),
    );
    const actual = await digest(pgRows(db, pair), (row) => row);
    if (actual.rows !== expected.rows) {
      throw new MoveError(
        `Check failed: ${pair.name} has ${actual.rows} rows in PostgreSQL, ${expected.rows} in SQLite. Nothing was copied.`,
      );
    }
    if (actual.sum !== expected.sum) {
      throw new MoveError(
        `Check failed: ${pair.name} holds other values in PostgreSQL than in SQLite. Nothing was copied.`,
      );
    }
  }
  const stored: string[] = [];
  for await (const sha of store.list()) stored.push(sha);
  // Images and model files are disjoint (modelFilesIn): exactly both, each once.
  const expectedShas = [...listed, ...modelFiles].map((b) => b.sha256).sort();
  if (JSON.stringify(stored) !== JSON.stringify(expectedShas)) {
    throw new MoveError(
      `Check failed: the blob store holds ${stored.length} blobs, the database lists ${expectedShas.length} (images and model files). Nothing was copied.`,
    );
  }
  for (const blob of [...listed, ...modelFiles]) {
    const bytes = await store.getBuffer(blob.sha256);
    if (!bytes || bytes.length !== blob.bytes || sha256Of(bytes) !== blob.sha256) {
      throw new MoveError(
        `Check failed: blob ${short(blob.sha256)} reads back other bytes from PostgreSQL. Nothing was copied.`,
      );
    }
  }
  log(`  checked (${Math.round(performance.now() - checkStarted)} ms)`);
  return tables;
}
