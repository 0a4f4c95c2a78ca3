// Helpers for the Vitest suites and benchmarks (not imported by the server).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from './app';
import type { BlobStore } from './blob-store/store';
import { createPasswordHasher, type Argon2Params, type PasswordHasher } from './auth/password';
import { SESSION_COOKIE } from './auth/cookie';
import { openDatabase, type Db } from './db/connection';
import { parseEnv, type Env } from './env';
import type { Logger } from './logger';
import pg from 'pg';
import { runningTestPostgres, startPostgres, type TestPostgres } from '../test/postgres';
import { migratePostgres, openPostgres } from './db/postgres';
import type { Repositories } from './repositories';
import { postgresRepositories } from './repositories/postgres';
import { sqliteRepositories } from './repositories/sqlite';

/**
 * Much cheaper than PRODUCTION_ARGON2, so that the suites stay fast on two cores. Only the tests
 * that check production parameters or timing use the real cost.
 */
export const TEST_ARGON2: Argon2Params = { memoryCost: 256, timeCost: 1, parallelism: 1 };
export const testPasswords: PasswordHasher = createPasswordHasher(TEST_ARGON2);

export const ORIGIN = 'http://localhost:8787';
export const PASSWORD = 'correct horse battery staple';

export function tempDir(prefix = 'fdx-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testEnv(overrides: Partial<Env> = {}): Env {
  return {
    ...parseEnv({ LOG_LEVEL: 'silent', WEB_DIR: '/nonexistent/fielddx-web-build' }, tmpdir()),
    ...overrides,
  };
}

/** A settable clock for sessions, invitations and the rate limit. */
export class TestClock {
  constructor(public t = new Date('2026-01-15T10:00:00.000Z')) {}
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t = new Date(this.t.getTime() + ms);
  }
}

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

// ---------------------------------------------------------------------------------------------
// Which database the suites run on: SQLite by default; TEST_DB=postgres (the sync-server-pg Vitest
// project) runs the same files on a real PostgreSQL (test/postgres.ts): one server per test
// process, a fresh database per app, copied from a migrated template.

export const TEST_DB: 'sqlite' | 'postgres' =
  process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

let sharedServer: Promise<Pick<TestPostgres, 'url' | 'createDatabase'>> | undefined;
let template: Promise<string> | undefined;
let databases = 0;

/**
 * The PostgreSQL test server: the one the Vitest project's global setup started
 * (FDX_TEST_POSTGRES_URL), or, outside those projects (benchmarks), one started on first use and
 * stopped when the process exits.
 */
export function testPostgresServer(): Promise<Pick<TestPostgres, 'url' | 'createDatabase'>> {
  const running = process.env.FDX_TEST_POSTGRES_URL;
  return (sharedServer ??= running
    ? Promise.resolve(runningTestPostgres(running))
    : startPostgres());
}

/** A new, migrated PostgreSQL database of the process's test server: its URL. */
export async function newPostgresDatabase(): Promise<string> {
  const server = await testPostgresServer();
  template ??= (async () => {
    const name = `template_${process.pid}`;
    const url = await server.createDatabase(name);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migratePostgres(pool);
    } finally {
      await pool.end();
    }
    return name;
  })();
  return server.createDatabase(`test_${process.pid}_${++databases}`, await template);
}

export interface TestDatabase {
  repos: Repositories;
  /** The SQLite database (SQLite only): for the services not yet on repositories. */
  db: Db;
  /** The SQLite driver (SQLite only). */
  sqlite: ReturnType<typeof openDatabase>['sqlite'];
  /** The PostgreSQL pool (PostgreSQL only). */
  pool?: pg.Pool;
  close(): Promise<void>;
}

/** What a PostgreSQL test app has instead of a SQLite handle: any use says so. */
const noSqlite = new Proxy({} as never, {
  get(_target, prop) {
    throw new Error(
      `this test runs on PostgreSQL (TEST_DB=postgres) and used the SQLite handle (.${String(prop)})`,
    );
  },
});

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** A fresh database of the dialect TEST_DB names (or `dialect`), with its repositories. */
export async function testDatabase(
  options: { dialect?: 'sqlite' | 'postgres'; file?: string; poolMax?: number } = {},
): Promise<TestDatabase> {
  if ((options.dialect ?? TEST_DB) === 'postgres') {
    const opened = await openPostgres(await newPostgresDatabase(), { max: options.poolMax ?? 8 });
    return {
      repos: postgresRepositories(opened.pool),
      db: noSqlite,
      sqlite: noSqlite,
      pool: opened.pool,
      // Once: a test may close early and again when it finishes.
      close: once(() => opened.close()),
    };
  }
  const database = openDatabase(options.file ?? ':memory:');
  return {
    repos: sqliteRepositories(database.db),
    db: database.db,
    sqlite: database.sqlite,
    close: () => Promise.resolve(database.close()),
  };
}

export interface TestAppOptions {
  env?: Partial<Env>;
  blobStore?: BlobStore;
  passwords?: PasswordHasher;
  logger?: Logger;
  /** A SQLite file instead of ':memory:' (SQLite only). */
  file?: string;
}

/** The app on a fresh database (SQLite, or PostgreSQL with TEST_DB=postgres) and a test clock. */
export async function makeTestApp(options: TestAppOptions = {}) {
  const database = await testDatabase({ file: options.file });
  const clock = new TestClock();
  const env = testEnv(options.env);
  const app = createApp({
    repos: database.repos,
    env,
    blobStore: options.blobStore,
    now: clock.now,
    passwords: options.passwords ?? testPasswords,
    logger: options.logger,
  });
  return { app, env, clock, ...database };
}

export type TestApp = Awaited<ReturnType<typeof makeTestApp>>['app'];

/** The session token a response sets; '' when it clears the cookie; undefined when untouched. */
export function sessionCookieOf(res: Response): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(c);
    if (m) return /max-age=0/i.test(c) ? '' : m[1];
  }
  return undefined;
}

/** A browser-like client: sends the Origin on writes and keeps the session cookie. */
export class TestClient {
  token: string | undefined;
  constructor(
    readonly app: TestApp,
    readonly headers: Record<string, string> = {},
  ) {}

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { ...this.headers, ...headers };
    if (method !== 'GET' && method !== 'HEAD' && !('origin' in h)) h.origin = ORIGIN;
    if (body !== undefined) h['content-type'] ??= 'application/json';
    if (this.token) h.cookie = `${SESSION_COOKIE}=${this.token}`;
    const res = await this.app.request(url, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = sessionCookieOf(res);
    if (set !== undefined) this.token = set || undefined;
    return res;
  }
  get = (url: string, headers?: Record<string, string>) =>
    this.request('GET', url, undefined, headers);
  post = (url: string, body?: unknown, headers?: Record<string, string>) =>
    this.request('POST', url, body, headers);
  patch = (url: string, body?: unknown) => this.request('PATCH', url, body);
  delete = (url: string) => this.request('DELETE', url);

  signup(email: string, name = 'Test User', invitationCode?: string, password = PASSWORD) {
    return this.post('/api/auth/signup', { email, password, name, invitationCode });
  }
  login(email: string, password = PASSWORD) {
    return this.post('/api/auth/login', { email, password });
  }
}

/** An admin (the first account) signed in, plus helpers to make teams and invited members. */
export async function withAdmin(app: TestApp) {
  const admin = new TestClient(app);
  const res = await admin.signup('admin@example.org', 'Ada Admin');
  if (res.status !== 201) throw new Error(`admin signup failed: ${res.status}`);
  const adminId = ((await res.json()) as { user: { id: string } }).user.id;

  async function createTeam(name: string): Promise<string> {
    const r = await admin.post('/api/admin/teams', { name });
    if (r.status !== 201) throw new Error(`team creation failed: ${r.status}`);
    return ((await r.json()) as { id: string }).id;
  }
  async function invite(teamId: string, role = 'clinician', expiresInDays?: number) {
    const r = await admin.post('/api/admin/invitations', { teamId, role, expiresInDays });
    if (r.status !== 201) throw new Error(`invitation failed: ${r.status}`);
    return ((await r.json()) as { code: string }).code;
  }
  /** A new user invited into a new (or given) team, signed in. */
  async function member(email: string, role = 'clinician', teamId?: string) {
    const team = teamId ?? (await createTeam(`Team of ${email}`));
    const code = await invite(team, role);
    const client = new TestClient(app);
    const r = await client.signup(email, 'Member', code);
    if (r.status !== 201) throw new Error(`member signup failed: ${r.status}`);
    const id = ((await r.json()) as { user: { id: string } }).user.id;
    return { client, id, teamId: team };
  }
  return { admin, adminId, createTeam, invite, member };
}

export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

/** A TCP port free on the loopback right now (for tests and benchmarks that start the server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
