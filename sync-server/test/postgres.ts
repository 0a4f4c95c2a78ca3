import { execFile, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A real PostgreSQL server for tests: initdb into a temporary folder, postgres on a free loopback
 * port with its unix socket in that folder, stopped and deleted by stop(). Should the process that
 * started it end without calling stop(), an exit hook stops it, and when no hook runs (a signal,
 * SIGKILL, Playwright ending its webServer's process group) a reaper does (startReaper below).
 * Nothing is skipped when PostgreSQL is missing: startPostgres() fails and says which Debian
 * package to install.
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

/**
 * The reaper: a shell loop in its own session (so a signal to the owner's process group spares it)
 * that checks once a second whether the owner is still alive and the folder still there. When the
 * owner is gone (a zombie counts as gone: nobody may ever collect it) and the folder is left, it
 * stops the server with `stopCommand` and deletes the folder; when stop() deleted the folder, it
 * just ends. pg_ctl starts the postmaster in a session of its own, so nothing else would stop it.
 */
const REAPER_SCRIPT = `
owner=$1; dir=$2; shift 2
alive() {
  kill -0 "$owner" 2>/dev/null || return 1
  [ -r "/proc/$owner/stat" ] || return 0
  case "$(sed 's/.*) //' "/proc/$owner/stat" | cut -d' ' -f1)" in Z) return 1 ;; esac
}
while alive && [ -d "$dir" ]; do sleep 1; done
if [ -d "$dir" ]; then "$@" >/dev/null 2>&1; rm -rf "$dir"; fi
`;

function startReaper(owner: number, dir: string, stopCommand: string[]): void {
  const reaper = spawn(
    'sh',
    ['-c', REAPER_SCRIPT, 'fielddx-pg-reaper', String(owner), dir, ...stopCommand],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  reaper.unref();
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
  const pgCtlStop = (mode: 'fast' | 'immediate') => [
    ...(user ? ['runuser', '-u', 'postgres', '--'] : []),
    path.join(bin, 'pg_ctl'),
    'stop',
    '-D',
    data,
    '-m',
    mode,
    '-w',
  ];
  let started = false;
  const cleanUp = () => {
    if (started) {
      started = false;
      const [cmd, ...argv] = pgCtlStop('immediate');
      spawnSync(cmd!, argv, { stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A process that exits before stop() must not leave a server behind: the exit hook when it exits
  // normally, the reaper when it is killed. Started before initdb, so that no moment is uncovered.
  process.once('exit', cleanUp);
  startReaper(process.pid, dir, pgCtlStop('fast'));

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
