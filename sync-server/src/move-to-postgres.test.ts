import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPostgres, type TestPostgres } from '../test/postgres';
import { blobPath, filesystemBlobStore } from './blob-store/filesystem';
import { postgresBlobStore } from './blob-store/postgres';
import { DB_FILE_NAME } from './db/connection';
import { openPostgres } from './db/postgres';
import { moveToPostgres, tablesInDependencyOrder } from './move-to-postgres';
import { importBundledModels, legacyModelFilePath } from './services/models';
import {
  blobRequest,
  diagnosis,
  mutation,
  patient,
  report,
  review,
  syncWorld,
} from './sync-test-utils';
import { tempDir } from './test-utils';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (n: number, seed: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed * 101) & 0xff;
  return b;
};

// Starting a cluster takes 3–5 s on a loaded 2-core machine.
const SERVER_TIMEOUT = 120_000;
let server: TestPostgres;
let databases = 0;
const newDatabase = () => server.createDatabase(`move_${++databases}`);

/** Every file of a folder with its SHA-256: to show the move never writes to the source. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = sha256(readFileSync(file));
  }
  return out;
}

/**
 * A data folder a real sync run produced: sign-ups, teams, invitations, pushes from two teams,
 * edits, a shared report with its diagnosis image, a supervisor's review, and images uploaded
 * through the API (one spanning several 1 MiB chunks). The server is closed before the move.
 */
async function syncedDataFolder(options: { models?: boolean } = {}) {
  const w = await syncWorld({ dbInDataDir: true });
  const data = w.dataDir;
  let modelFiles: string[] = [];
  if (options.models) {
    // The bundled models, as the server imports them at start: their files in the blob store.
    const deps = { repos: w.repos, blobStore: filesystemBlobStore(data), dataDir: data };
    const bundled = fileURLToPath(new URL('../../models', import.meta.url));
    const silent = { info: () => {}, warn: () => {} };
    await importBundledModels({ ...deps, now: () => new Date() }, bundled, silent);
    const files = (await w.repos.models.listVersions()).flatMap((v) => Object.values(v.files));
    modelFiles = [...new Set(files)].sort();
  }
  const images = [bytesOf(3_000, 1), bytesOf(2_600_000, 2), bytesOf(70_000, 3)];
  for (const [i, image] of images.entries()) {
    const client = i === 2 ? w.carol.client : w.alice.client;
    const team = i === 2 ? w.teamB : w.teamA;
    const res = await blobRequest(
      w.app,
      client,
      'PUT',
      `/api/blobs/${sha256(image)}?teamId=${team}`,
      image,
      { 'content-type': 'image/jpeg' },
    );
    expect(res.status).toBe(201);
  }
  const patients = Array.from({ length: 30 }, () => patient(w.teamA));
  await w.alice.push(patients.map((p) => mutation('patients', p)));
  await w.bob.push([mutation('patients', { ...patients[0]!, village: 'Edited' }, 1)]);
  const d = diagnosis(w.teamA, patients[1]!.id, {
    inputs: { kind: 'image', imageSha256: sha256(images[0]!) },
  });
  const r = report(w.teamA, patients[1]!.id, { diagnosisIds: [d.id] });
  await w.alice.push([mutation('diagnoses', d), mutation('reports', r)]);
  await w.sam.push([mutation('reviews', review(w.teamA, r.id))]);
  await w.carol.push([mutation('patients', patient(w.teamB))]);
  await w.alice.pullAll();
  w.close();
  onTestFinished(() => rmSync(data, { recursive: true, force: true }));
  return { dataDir: data, images, modelFiles };
}

const liteCounts = (dataDir: string) => {
  const db = new Database(path.join(dataDir, DB_FILE_NAME), { readonly: true });
  try {
    return Object.fromEntries(
      tablesInDependencyOrder().map((t) => [
        t.name,
        db.prepare<[], number>(`SELECT count(*) FROM "${t.name}"`).pluck().get()!,
      ]),
    );
  } finally {
    db.close();
  }
};

async function pgCounts(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const counts: Record<string, number> = {};
    for (const { name } of tables.rows) {
      counts[name] = (
        await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}"`)
      ).rows[0]!.n;
    }
    return counts;
  } finally {
    await client.end();
  }
}

const nonEmpty = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name]) => name)
    .sort();

beforeAll(async () => {
  server = await startPostgres();
}, SERVER_TIMEOUT);
afterAll(async () => {
  await server?.stop();
}, SERVER_TIMEOUT);

describe('moving a SQLite data folder into PostgreSQL', { timeout: SERVER_TIMEOUT }, () => {
  it('copies every table and blob of a real sync run, checks them, and leaves the source as it was', async () => {
    const { dataDir, images } = await syncedDataFolder();
    const before = fingerprint(dataDir);
    const expected = liteCounts(dataDir);
    // What a sync run writes: the comparison below is about real rows, not empty tables.
    for (const table of [
      'users',
      'sessions',
      'teams',
      'team_memberships',
      'invitations',
      'audit_log',
      'records',
      'applied_mutations',
      'devices',
      'blobs',
      'blob_teams',
      'review_reports',
    ]) {
      expect(expected[table], table).toBeGreaterThan(0);
    }

    const url = await newDatabase();
    const lines: string[] = [];
    const result = await moveToPostgres({ dataDir, databaseUrl: url, log: (l) => lines.push(l) });

    expect(Object.fromEntries(result.tables.map((t) => [t.name, t.rows]))).toEqual(expected);
    expect(result.blobs).toBe(3);
    expect(result.blobBytes).toBe(images.reduce((sum, b) => sum + b.length, 0));
    expect(result.unlistedBlobFiles).toBe(0);
    const counts = await pgCounts(url);
    for (const [table, n] of Object.entries(expected)) expect(counts[table], table).toBe(n);
    expect(counts.blob_contents).toBe(3);
    expect(counts.blob_chunks).toBe(1 + 3 + 1);
    expect(counts.blob_upload_chunks).toBe(0);
    // The report names tables and counts, never what a row holds.
    expect(lines.join('\n')).not.toMatch(/Amina|Okafor|Kibera|example\.org/);

    const target = await openPostgres(url);
    onTestFinished(target.close);
    const store = postgresBlobStore(target.pool);
    for (const image of images) {
      expect((await store.getBuffer(sha256(image)))?.equals(image)).toBe(true);
    }
    // The same rows: a patient record, a user (login still works off its hash), times as times.
    const edited = await target.pool.query<{ data: string; version: number }>(
      `SELECT data, version FROM records WHERE table_name = 'patients' AND data LIKE '%Edited%'`,
    );
    expect(edited.rows).toHaveLength(1);
    expect(edited.rows[0]!.version).toBe(2);
    // Ids PostgreSQL makes from now on follow the moved ones.
    const maxAudit = (await target.pool.query<{ n: number }>('SELECT max(id) AS n FROM audit_log'))
      .rows[0]!.n;
    const next = await target.pool.query<{ id: number }>(
      `INSERT INTO audit_log (at, action, ip) VALUES (0, 'login', '127.0.0.1') RETURNING id`,
    );
    expect(next.rows[0]!.id).toBe(maxAudit + 1);

    // Not one file of the data folder changed. Opening a WAL database, even read-only, makes
    // SQLite's side files (-shm, an empty -wal) when the server had removed them on close.
    const after = fingerprint(dataDir);
    expect(after).toMatchObject(before);
    expect(Object.keys(after).filter((f) => !(f in before))).toEqual(
      [`${DB_FILE_NAME}-shm`, `${DB_FILE_NAME}-wal`].filter((f) => f in after),
    );
    expect(after[`${DB_FILE_NAME}-wal`] ?? sha256(new Uint8Array())).toBe(sha256(new Uint8Array()));
  });

  it('refuses a target with any rows or blobs, writing nothing', async () => {
    const { dataDir } = await syncedDataFolder();
    const url = await newDatabase();
    await moveToPostgres({ dataDir, databaseUrl: url });
    const moved = await pgCounts(url);
    await expect(moveToPostgres({ dataDir, databaseUrl: url })).rejects.toThrow(
      /not empty: \d+ tables hold rows \(.*\), blobs among them\. .*Nothing was written/,
    );
    expect(await pgCounts(url)).toEqual(moved);

    // Only a blob in the store, nothing else.
    const blobsOnly = await newDatabase();
    const opened = await openPostgres(blobsOnly);
    await postgresBlobStore(opened.pool).put(sha256(bytesOf(10, 9)), bytesOf(10, 9));
    await opened.close();
    await expect(moveToPostgres({ dataDir, databaseUrl: blobsOnly })).rejects.toThrow(
      /not empty: 2 tables hold rows \(blob_chunks, blob_contents\), blobs among them/,
    );
    expect(nonEmpty(await pgCounts(blobsOnly))).toEqual(['blob_chunks', 'blob_contents']);

    // Someone else's table, not migrated by us: refused before any migration runs.
    const foreign = await newDatabase();
    const client = new pg.Client({ connectionString: foreign });
    await client.connect();
    await client.query('CREATE TABLE notes (body text); INSERT INTO notes VALUES ($$x$$)');
    await client.end();
    await expect(moveToPostgres({ dataDir, databaseUrl: foreign })).rejects.toThrow(
      /not empty: 1 table holds rows \(notes\)\./,
    );
    expect(Object.keys(await pgCounts(foreign))).toEqual(['notes']);
  });

  it('rolls everything back when a check fails after the copy', async () => {
    const { dataDir } = await syncedDataFolder();
    for (const [trigger, fails] of [
      // A target that changes a value as it is written: the content check sees it.
      [
        `CREATE FUNCTION tamper() RETURNS trigger AS $$ BEGIN NEW.name := NEW.name || '!'; RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER tamper BEFORE INSERT ON teams FOR EACH ROW EXECUTE FUNCTION tamper();`,
        /Check failed: teams holds other values in PostgreSQL than in SQLite\. Nothing was copied/,
      ],
      // A target that drops rows: the count check sees it.
      [
        `CREATE FUNCTION drop_row() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER drop_row BEFORE INSERT ON devices FOR EACH ROW EXECUTE FUNCTION drop_row();`,
        /Check failed: devices has 0 rows in PostgreSQL, \d+ in SQLite/,
      ],
    ] as const) {
      const url = await newDatabase();
      const opened = await openPostgres(url);
      await opened.pool.query(trigger);
      await opened.close();
      await expect(moveToPostgres({ dataDir, databaseUrl: url })).rejects.toThrow(fails);
      expect(nonEmpty(await pgCounts(url))).toEqual([]);
    }
  });

  it('names the table and constraint when PostgreSQL refuses a row, never the row', async () => {
    const { dataDir } = await syncedDataFolder();
    const url = await newDatabase();
    const opened = await openPostgres(url);
    await opened.pool.query(
      `ALTER TABLE users ADD CONSTRAINT no_admin CHECK (email <> 'admin@example.org')`,
    );
    await opened.close();
    const error = await moveToPostgres({ dataDir, databaseUrl: url }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /Copying users failed: PostgreSQL error 23514 on users \(constraint no_admin\)\. Nothing was copied/,
    );
    expect(String(error)).not.toMatch(/example\.org|Ada|argon2/);
    expect(nonEmpty(await pgCounts(url))).toEqual([]);
  });

  it('refuses a data folder whose listed blobs are missing or damaged, writing nothing', async () => {
    const { dataDir, images } = await syncedDataFolder();
    writeFileSync(blobPath(dataDir, sha256(images[2]!)), 'not the image');
    const url = await newDatabase();
    await expect(moveToPostgres({ dataDir, databaseUrl: url })).rejects.toThrow(
      new RegExp(
        `1 blob the database lists is missing or damaged .*\\(${sha256(images[2]!).slice(0, 12)}…\\).*Nothing was written`,
      ),
    );
    rmSync(blobPath(dataDir, sha256(images[2]!)));
    await expect(moveToPostgres({ dataDir, databaseUrl: url })).rejects.toThrow(
      /missing or damaged/,
    );
    expect(await pgCounts(url)).toEqual({});
  });

  it('moves the model files the catalogue lists, from either layout, and checks them', async () => {
    const { dataDir, images, modelFiles } = await syncedDataFolder({ models: true });
    expect(modelFiles).toHaveLength(3); // two graphs and an input check
    // One as a data folder of an earlier version keeps it: under models/ only.
    mkdirSync(path.join(dataDir, 'models'));
    renameSync(blobPath(dataDir, modelFiles[0]!), legacyModelFilePath(dataDir, modelFiles[0]!));
    const size = (sha: string, i: number) =>
      statSync(i === 0 ? legacyModelFilePath(dataDir, sha) : blobPath(dataDir, sha)).size;

    const url = await newDatabase();
    const result = await moveToPostgres({ dataDir, databaseUrl: url });
    expect(result).toMatchObject({
      blobs: 3,
      modelFiles: 3,
      modelFileBytes: modelFiles.reduce((sum, sha, i) => sum + size(sha, i), 0),
      modelFilesMissing: 0,
      unlistedBlobFiles: 0,
    });
    const target = await openPostgres(url);
    onTestFinished(target.close);
    const store = postgresBlobStore(target.pool);
    const stored: string[] = [];
    for await (const sha of store.list()) stored.push(sha);
    expect(stored).toEqual([...images.map(sha256), ...modelFiles].sort());
    for (const sha of modelFiles) expect(sha256((await store.getBuffer(sha))!)).toBe(sha);

    // A target that silently drops a model file: the check of the exact set sees it.
    const dropping = await newDatabase();
    const opened = await openPostgres(dropping);
    await opened.pool.query(
      `CREATE FUNCTION drop_model() RETURNS trigger AS $$ BEGIN
         IF NEW.sha256 = '${modelFiles[1]!}' THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
       CREATE TRIGGER drop_model BEFORE INSERT ON blob_contents FOR EACH ROW EXECUTE FUNCTION drop_model();`,
    );
    await opened.close();
    await expect(moveToPostgres({ dataDir, databaseUrl: dropping })).rejects.toThrow(
      /Check failed: the blob store holds 5 blobs, the database lists 6 \(images and model files\)\. Nothing was copied/,
    );
    expect(nonEmpty(await pgCounts(dropping))).toEqual([]);

    // A model file lost, another damaged: both counted, not moved; the rest moves and checks.
    rmSync(legacyModelFilePath(dataDir, modelFiles[0]!));
    writeFileSync(blobPath(dataDir, modelFiles[2]!), 'not the model');
    const partial = await moveToPostgres({ dataDir, databaseUrl: await newDatabase() });
    expect(partial).toMatchObject({ blobs: 3, modelFiles: 1, modelFilesMissing: 2 });
    expect(partial.unlistedBlobFiles).toBe(0);
  });

  it('says what is wrong with the data folder or DATABASE_URL, never printing the password', async () => {
    const empty = tempDir('fdx-move-empty-');
    onTestFinished(empty.remove);
    const url = await newDatabase();
    await expect(
      moveToPostgres({ dataDir: path.join(empty.dir, 'nope'), databaseUrl: url }),
    ).rejects.toThrow(/No data folder at .*nope: set DATA_DIR/);
    await expect(moveToPostgres({ dataDir: empty.dir, databaseUrl: url })).rejects.toThrow(
      /holds no fielddx\.sqlite/,
    );
    await expect(moveToPostgres({ dataDir: empty.dir, databaseUrl: undefined })).rejects.toThrow(
      /Set DATABASE_URL to the empty PostgreSQL database/,
    );
    await expect(
      moveToPostgres({ dataDir: empty.dir, databaseUrl: 'mysql://u:p@db/x' }),
    ).rejects.toThrow(/must start with postgres:\/\//);

    const { dataDir } = await syncedDataFolder();
    const secret = 'S3cr3t-pa55';
    const closed = `postgres://fielddx:${secret}@127.0.0.1:1/fielddx`;
    const refused = await moveToPostgres({ dataDir, databaseUrl: closed }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(
      /Cannot use the database at postgres:\/\/fielddx:\*\*\*@127\.0\.0\.1:1\/fielddx: .*ECONNREFUSED/,
    );
    const noDb = `postgres://postgres:${secret}@${server.host}:${server.port}/missing_db`;
    const missing = await moveToPostgres({ dataDir, databaseUrl: noDb }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/database "missing_db" does not exist/);
    for (const error of [refused, missing]) expect(String(error)).not.toContain(secret);
  });
});

describe('pnpm move-to-postgres', { timeout: SERVER_TIMEOUT }, () => {
  const cli = fileURLToPath(new URL('./move-to-postgres-cli.ts', import.meta.url));
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', cli], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });

  it('leaves the target empty when killed in the middle, and then moves it whole', async () => {
    const w = await syncWorld({ dbInDataDir: true });
    for (let i = 0; i < 5; i++) {
      await w.alice.push(
        Array.from({ length: 1000 }, () => mutation('patients', patient(w.teamA))),
      );
    }
    w.close();
    onTestFinished(() => rmSync(w.dataDir, { recursive: true, force: true }));
    const url = await newDatabase();
    const child = spawn(process.execPath, ['--import', 'tsx', cli], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, DATA_DIR: w.dataDir, DATABASE_URL: url },
    });
    let out = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // The first table is copied, the rest of the transaction is still to come.
      if (/applied_mutations: 5000 rows/.test(out)) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toMatch(/Moved and checked/);
    expect(nonEmpty(await pgCounts(url))).toEqual([]);
    const again = run({ DATA_DIR: w.dataDir, DATABASE_URL: url });
    expect(again.status, again.stderr).toBe(0);
    expect((await pgCounts(url)).records).toBe(5000);
  });

  it('prints a short report and exits 0; refuses a second run with exit 1', async () => {
    const { dataDir } = await syncedDataFolder();
    // A file no row lists (an upload a crash left unrecorded): reported, not moved.
    const orphan = bytesOf(50, 7);
    mkdirSync(path.dirname(blobPath(dataDir, sha256(orphan))), { recursive: true });
    writeFileSync(blobPath(dataDir, sha256(orphan)), orphan);
    const url = await newDatabase();
    const ok = run({ DATA_DIR: dataDir, DATABASE_URL: url });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ {2}records: \d+ rows \(\d+ ms\)$/m);
    expect(ok.stdout).toMatch(
      /Moved and checked: \d+ tables, \d+ rows \(counts and contents equal\), 3 blobs, \d+ bytes, 0 model files, 0 bytes \(SHA-256 read back\)/,
    );
    expect(ok.stdout).toMatch(/Not moved: 1 file\(s\) under blobs\/ that no row lists/);
    expect(statSync(path.join(dataDir, DB_FILE_NAME)).isFile()).toBe(true);

    const again = run({ DATA_DIR: dataDir, DATABASE_URL: url });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^move-to-postgres: The target database is not empty/m);

    const bad = run({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /Cannot use the database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/,
    );
    expect(bad.stdout + bad.stderr).not.toContain('hunter2');
  });
});
