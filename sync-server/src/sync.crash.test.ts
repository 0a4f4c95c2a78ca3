/**
 * Crash test: the real server process (`tsx src/index.ts`) is SIGKILLed inside the transaction of
 * a large push (it holds the write lock), restarted on the same DATA_DIR (with TEST_DB=postgres:
 * the same PostgreSQL database), and everything is pushed again with the same mutation ids.
 * The result must equal an uninterrupted run: the same records and versions, no duplicate
 * versions, exactly one stored result per mutation, and an intact database.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME } from './db/connection';
import { PushResponse, type MutationResult } from './protocol';
import { patient, rowsOn, rowsOnPg, type SyncRows } from './sync-test-utils';
import { openPostgres } from './db/postgres';
import {
  freePort,
  makeTestApp,
  newPostgresDatabase,
  tempDir,
  TEST_DB,
  TestClient,
  withAdmin,
} from './test-utils';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const BATCHES = 6;
const BATCH = 500;
const DEVICE = 'crash-test-device';

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Batches 1-4 create 2,000 patients; batches 5-6 edit the first 1,000 of them (baseVersion 1).
 * `teamId` is filled in per server.
 */
function batches(teamId: string) {
  const out: unknown[][] = [];
  for (let b = 0; b < BATCHES; b++) {
    const mutations = [];
    for (let i = 0; i < BATCH; i++) {
      const update = b >= 4;
      const n = update ? (b - 4) * BATCH + i : b * BATCH + i;
      const id = `0192f0c8-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
      const data = patient(teamId, { village: update ? `moved-${n}` : `v-${n}` }, id);
      mutations.push({
        mutationId: `m-${b}-${i}`,
        table: 'patients',
        id,
        baseVersion: update ? 1 : 0,
        op: 'put',
        data: update ? { ...data, version: 1 } : data,
      });
    }
    out.push(mutations);
  }
  return out;
}

interface Server {
  origin: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

async function start(dataDir: string, port: number, databaseUrl?: string): Promise<Server> {
  const origin = `http://127.0.0.1:${port}`;
  let stderr = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'silent',
      WEB_DIR: '/nonexistent/fielddx-web-build',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  cleanups.push(() => proc.kill('SIGKILL'));
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited early:\n${stderr}`);
    try {
      if ((await fetch(`${origin}/api/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > 20_000) throw new Error(`no health after 20 s:\n${stderr}`);
    await sleep(25);
  }
  return { origin, proc, exited, stderr: () => stderr };
}

async function call(server: Server, token: string, method: string, url: string, body?: unknown) {
  return fetch(`${server.origin}${url}`, {
    method,
    headers: {
      origin: server.origin,
      'content-type': 'application/json',
      cookie: `fdx_session=${token}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The state to compare, with the ids that differ between two servers (team, user) left out. */
async function snapshot(rows: SyncRows) {
  const records = (await rows('SELECT id, version, deleted, data FROM records ORDER BY id')).map(
    (r) => {
      const {
        teamId: _t,
        updatedBy: _u,
        ...data
      } = JSON.parse(r.data as string) as Record<string, unknown>;
      // 0/1 on SQLite, a boolean on PostgreSQL.
      return { id: r.id, version: Number(r.version), deleted: Number(r.deleted), data };
    },
  );
  const history = (
    await rows('SELECT id, version, mutation_id AS m FROM record_history ORDER BY id, version')
  ).map((r) => ({ id: r.id, version: Number(r.version), m: r.m }));
  const results = await rows(
    'SELECT mutation_id AS m, result FROM applied_mutations ORDER BY mutation_id',
  );
  const [seqs] = await rows('SELECT count(DISTINCT seq) AS n, count(*) AS total FROM records');
  return { records, history, results, seqs: { n: Number(seqs!.n), total: Number(seqs!.total) } };
}

/** snapshot() of a SQLite file, with its integrity check. */
async function snapshotFile(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      ...(await snapshot(rowsOn(db))),
    };
  } finally {
    db.close();
  }
}

describe(`crash in the middle of a push (${TEST_DB})`, () => {
  it('recovers to the same state as an uninterrupted run when everything is pushed again', async () => {
    // The uninterrupted reference, in-process, on a file like the real server (or PostgreSQL).
    const refDir = tempDir('fdx-crash-ref-');
    cleanups.push(refDir.remove);
    const ref = await makeTestApp({ file: path.join(refDir.dir, DB_FILE_NAME) });
    cleanups.push(() => void ref.close());
    const refAdmin = await withAdmin(ref.app);
    const refTeam = await refAdmin.createTeam('Crash');
    await refAdmin.admin.post(`/api/admin/teams/${refTeam}/members`, {
      userId: refAdmin.adminId,
      role: 'clinician',
    });
    const refClient = new TestClient(ref.app);
    refClient.token = refAdmin.admin.token;
    const expected: MutationResult[] = [];
    for (const mutations of batches(refTeam)) {
      const res = await refClient.post('/api/sync/push', { deviceId: DEVICE, mutations });
      expected.push(...PushResponse.parse(await res.json()).results);
    }
    expect(expected.every((r) => r.status === 'applied')).toBe(true);

    // The real server, killed mid-push.
    const dataDir = tempDir('fdx-crash-');
    cleanups.push(dataDir.remove);
    const file = path.join(dataDir.dir, DB_FILE_NAME);
    const databaseUrl = TEST_DB === 'postgres' ? await newPostgresDatabase() : undefined;
    const port = await freePort();
    let server = await start(dataDir.dir, port, databaseUrl);
    const signup = await fetch(`${server.origin}/api/auth/signup`, {
      method: 'POST',
      headers: { origin: server.origin, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'crash@example.org',
        password: 'a long test password',
        name: 'C',
      }),
    });
    expect(signup.status).toBe(201);
    const token = /fdx_session=([^;]+)/.exec(signup.headers.get('set-cookie') ?? '')![1]!;
    const userId = ((await signup.json()) as { user: { id: string } }).user.id;
    const team = (await (
      await call(server, token, 'POST', '/api/admin/teams', { name: 'Crash' })
    ).json()) as {
      id: string;
    };
    await call(server, token, 'POST', `/api/admin/teams/${team.id}/members`, {
      userId,
      role: 'clinician',
    });
    const all = batches(team.id);

    // The kill must land inside a push's transaction: counting committed rows alone only ever
    // sees whole batches. SQLite: while the server holds the write lock, BEGIN IMMEDIATE on
    // another connection fails at once. PostgreSQL: a push holds the sync write lock (an advisory
    // transaction lock) from its start to its commit. Held across two polls a millisecond or more
    // apart, it is a push's transaction (the other writes take well under one). The fallback kill
    // at a count inside the third batch only happens if a push commits mutation by mutation, and
    // then fails the checks below.
    const watcher = databaseUrl ? await pgWatcher(databaseUrl) : sqliteWatcher(file);
    const { applied, writeLocked } = watcher;
    const fallbackAt = 2 * BATCH + 137;
    let killedInside = false;
    let lockedSince: number | null = null;
    const pushing = (async () => {
      for (const mutations of all) {
        await call(server, token, 'POST', '/api/sync/push', { deviceId: DEVICE, mutations });
      }
    })().catch(() => 'interrupted');
    for (;;) {
      const n = await applied();
      if (n >= 2 * BATCH) {
        if (await writeLocked()) {
          lockedSince ??= performance.now();
          // Seen twice at least a millisecond apart: a push's transaction, not a short write.
          if (performance.now() - lockedSince >= 1) {
            server.proc.kill('SIGKILL');
            killedInside = true;
            break;
          }
        } else lockedSince = null;
      }
      if (n >= fallbackAt) {
        server.proc.kill('SIGKILL');
        break;
      }
      if (server.proc.exitCode !== null) break;
      await sleep(0);
    }
    expect(await pushing).toBe('interrupted');
    await server.exited;
    // PostgreSQL rolls the dead connection's transaction back once it notices the socket closed.
    await watcher.settled();
    // A push cut short commits none of it: only whole batches survive.
    const survived = (await watcher.snapshot()).results.length;
    await watcher.close();
    console.info(
      `killed ${killedInside ? 'inside a push transaction' : 'at the fallback'}, ` +
        `${survived} of ${BATCHES * BATCH} mutations committed`,
    );
    expect(survived % BATCH).toBe(0);
    expect(survived).toBeGreaterThanOrEqual(2 * BATCH);
    expect(survived).toBeLessThan(BATCHES * BATCH);
    expect(killedInside).toBe(true);

    // Restart on the same data and push everything again, same ids.
    server = await start(dataDir.dir, port, databaseUrl);
    const results: MutationResult[] = [];
    for (const mutations of all) {
      const res = await call(server, token, 'POST', '/api/sync/push', {
        deviceId: DEVICE,
        mutations,
      });
      expect(res.status).toBe(200);
      results.push(...PushResponse.parse(await res.json()).results);
    }
    expect(results).toEqual(expected);
    server.proc.kill('SIGTERM');
    await server.exited;

    const after = databaseUrl ? await pgWatcher(databaseUrl) : sqliteWatcher(file);
    const got = await after.snapshot();
    await after.close();
    const want = await snapshot(ref.pool ? rowsOnPg(ref.pool) : rowsOn(ref.sqlite));
    if (!databaseUrl) expect((await snapshotFile(file)).integrity).toBe('ok');
    expect(got.records).toHaveLength(2000);
    expect(got.records).toEqual(want.records);
    expect(got.history).toEqual(want.history);
    expect(got.results).toHaveLength(BATCHES * BATCH);
    expect(got.results).toEqual(want.results);
    expect(got.seqs).toEqual({ n: 2000, total: 2000 });
  }, 30_000);
});

/** Reads the killed server's database: SQLite through a second connection to its file. */
function sqliteWatcher(file: string) {
  const db = new Database(file);
  db.pragma('busy_timeout = 0');
  const applied = db.prepare('SELECT count(*) FROM applied_mutations').pluck();
  const begin = db.prepare('BEGIN IMMEDIATE');
  const rollback = db.prepare('ROLLBACK');
  return {
    applied: () => Promise.resolve(applied.get() as number),
    writeLocked: () => {
      try {
        begin.run();
        rollback.run();
        return Promise.resolve(false);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_BUSY') return Promise.resolve(true);
        throw err;
      }
    },
    settled: () => Promise.resolve(),
    snapshot: () => snapshot(rowsOn(db)),
    close: () => Promise.resolve(db.close()),
  };
}

/** The same on PostgreSQL, through a pool of its own. */
async function pgWatcher(url: string) {
  const { pool, close } = await openPostgres(url, { max: 1 });
  const one = async (sql: string) => Number(Object.values((await pool.query(sql)).rows[0])[0]);
  const advisoryHeld = async () =>
    (await one(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted`)) > 0;
  return {
    applied: () => one('SELECT count(*) FROM applied_mutations'),
    writeLocked: advisoryHeld,
    settled: async () => {
      for (const t0 = Date.now(); (await advisoryHeld()) && Date.now() - t0 < 10_000;) {
        await sleep(20);
      }
    },
    snapshot: () => snapshot(rowsOnPg(pool)),
    close,
  };
}
