// Installs the workspace's dependencies (pnpm, frozen lockfile) with a word on what is happening,
// then checks that the native SQLite module loads and rebuilds it when it does not. Shared by
// `pnpm start` and `pnpm test`, so each works on a fresh clone on its own.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** The pnpm that runs this script (npx puts it on PATH for its scripts). */
function pnpm(args, env = {}) {
  return spawnSync('pnpm', args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
}

/**
 * node-gyp must build better-sqlite3 against the Node headers on this machine: with no internet it
 * cannot download them. Debian's and the official Node packages put them under /usr or the Node
 * install prefix.
 */
function nodeHeadersEnv() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = join(process.execPath, '..', '..');
  for (const dir of [prefix, '/usr', '/usr/local']) {
    if (existsSync(join(dir, 'include', 'node', 'node.h'))) return { npm_config_nodedir: dir };
  }
  return {};
}

const sqliteLoads = () =>
  spawnSync(
    process.execPath,
    ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"],
    { cwd: join(root, 'sync-server'), stdio: 'ignore' },
  ).status === 0;

/** Returns true when the dependencies are installed and the native SQLite module loads. */
export function installDependencies(log = console.log) {
  const first = !existsSync(join(root, 'node_modules', '.modules.yaml'));
  log(
    first
      ? '[install] Installing dependencies with pnpm (first run on this machine: 2–4 minutes, most of it compiling the native SQLite module, better-sqlite3, from source)…'
      : '[install] Checking dependencies (pnpm install --frozen-lockfile)…',
  );
  const env = nodeHeadersEnv();
  const install = pnpm(['install', '--frozen-lockfile'], env);
  if (install.error) {
    log(
      `[install] Could not start pnpm (${install.error.message}): run this through ` +
        '`npx --yes pnpm@12.4.2 start` or `npx --yes pnpm@12.4.2 test`, as the README says.',
    );
    return false;
  }
  if (install.status !== 0) {
    log('[install] pnpm install failed (see above).');
    return false;
  }
  if (!sqliteLoads()) {
    log(
      '[install] Building the native SQLite module (better-sqlite3) from source, about 2 minutes…',
    );
    if (pnpm(['rebuild', 'better-sqlite3'], env).status !== 0 || !sqliteLoads()) {
      log(
        '[install] The native SQLite module does not load. It needs python3, make, a C++ compiler ' +
          'and the Node headers (Debian: apt-get install -y python3 make g++).',
      );
      return false;
    }
  }
  log('[install] Dependencies ready; the native SQLite module loads.');
  return true;
}
