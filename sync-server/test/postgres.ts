import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A real PostgreSQL server for tests: initdb into a temporary folder, postgres on a free loopback
 * port with its unix socket in that folder, stopped and deleted by stop() (and, should the test
 * process end without calling it, by an exit hook). Nothing is skipped when PostgreSQL is missing:
 * startPostgres() fails and says which Debian package to install.
 */
export interface TestPostgres {
  host: string;
  port: number;
  /** The temporary folder holding the cluster, its socket and its log. */
  dir: string;
  /** postgres://… of a database that exists (created at start). */
  url: string;
  /** A new empty database (a copy of `template` when given); its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
  stop(): Promise<void>;
}

export const POSTGRES_APT_PACKAGE = 'postgresql';
const MISSING = `PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. The PostgreSQL tests need a real server: install it with \`apt-get install -y ${POSTGRES_APT_PACKAGE}\` (or set POSTGRES_BIN_DIR to the folder that holds initdb).`;

/** POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout). */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const hasServer = (dir: string) =>
    ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(path.join(dir, b)));
  if (env.POSTGRES_BIN_DIR) {
    if (hasServer(env.POSTGRES_BIN_DIR)) return env.POSTGRES_BIN_DIR;
    throw new Error(`${MISSING} POSTGRES_BIN_DIR=${env.POSTGRES_BIN_DIR} lacks them.`);
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = path.join(root, v, 'bin');
    if (hasServer(dir)) return dir;
  }
  throw new Error(MISSING);
}

const execFileAsync = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: then every server command runs as the `postgres` user. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) {
    throw new Error(
      `Running as root, and PostgreSQL refuses root: the tests run it as the \`postgres\` user, which does not exist here (\`apt-get install -y ${POSTGRES_APT_PACKAGE}\` creates it).`,
    );
  }
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(
  options: { database?: string; binDir?: string } = {},
): Promise<TestPostgres> {
  const bin = options.binDir ?? findPostgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'fielddx-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'postgres.log');
  if (user) chownSync(dir, user.uid, user.gid);
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = user
      ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]]
      : [path.join(bin, tool), args];
    return execFileAsync(cmd, argv, { env: { ...process.env, LC_ALL: 'C' } });
  };
  let started = false;
  const cleanUp = () => {
    if (started) {
      started = false;
      spawnSync(
        user ? 'runuser' : path.join(bin, 'pg_ctl'),
        [
          ...(user ? ['-u', 'postgres', '--', path.join(bin, 'pg_ctl')] : []),
          'stop',
          '-D',
          data,
          '-m',
          'immediate',
          '-w',
        ],
        { stdio: 'ignore' },
      );
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies before stop() must not leave a server behind.
  process.once('exit', cleanUp);

  try {
    await run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    let port = 0;
    // The free port may be taken between the probe and the start: try again on another.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        await run('pg_ctl', [
          'start',
          '-D',
          data,
          '-l',
          log,
          '-w',
          '-t',
          '60',
          '-o',
          // Durability is pointless for a throw-away test cluster and costs seconds per suite; one
          // server serves every test process of a run, each with its pools (test-utils.ts).
          `-p ${port} -k "${dir}" -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`,
        ]);
        started = true;
        break;
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
    const host = '127.0.0.1';
    const urlOf = (database: string) =>
      `postgres://postgres@${host}:${port}/${encodeURIComponent(database)}`;
    const createDatabase = databaseCreator(urlOf);
    const url = await createDatabase(options.database ?? 'fielddx_test');
    return {
      host,
      port,
      dir,
      url,
      createDatabase,
      stop: async () => {
        process.removeListener('exit', cleanUp);
        if (started) {
          await run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
          started = false;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    process.removeListener('exit', cleanUp);
    cleanUp();
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(
      `Could not start a test PostgreSQL: ${(error as Error).message}\n${stderr}\n${serverLog}`,
    );
  }
}

/** CREATE DATABASE on the server whose databases `urlOf` names; the new database's URL. */
function databaseCreator(urlOf: (database: string) => string) {
  return async (name: string, template?: string) => {
    const client = new pg.Client({ connectionString: urlOf('postgres') });
    await client.connect();
    try {
      await client.query(
        `CREATE DATABASE ${pg.escapeIdentifier(name)}` +
          (template ? ` TEMPLATE ${pg.escapeIdentifier(template)}` : ''),
      );
    } finally {
      await client.end();
    }
    return urlOf(name);
  };
}

/**
 * A test server that is already running, from the URL of one of its databases: what the Vitest
 * projects' global setup (test/postgres-global-setup.ts) hands to every test process.
 */
export function runningTestPostgres(url: string): Pick<TestPostgres, 'url' | 'createDatabase'> {
  const urlOf = (database: string) => {
    const u = new URL(url);
    u.pathname = `/${encodeURIComponent(database)}`;
    return u.toString();
  };
  return { url, createDatabase: databaseCreator(urlOf) };
}
