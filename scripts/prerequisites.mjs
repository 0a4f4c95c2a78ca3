// What the test command needs beyond Node: a Chromium for Playwright, a Python with the training
// packages, and PostgreSQL's server binaries (the sync-server's PostgreSQL tests start their own). Each is looked for where a user would have it; where none is found and this machine can
// install Debian packages (root and apt-get), it is installed as CI does; otherwise the test command
// stops at once with one line that says what to install.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_PACKAGES = ['chromium'];
export const PYTHON_PACKAGES = [
  'python3-torch',
  'python3-sklearn',
  'python3-yaml',
  'python3-onnx',
  'python3-pytest',
];
const PYTHON_MODULES = 'torch, sklearn, onnx, yaml, pytest';
export const POSTGRES_PACKAGES = ['postgresql'];

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Chromium binaries in Playwright's own browser cache, newest revision first. */
function playwrightCacheBrowsers(env) {
  const cache = env.PLAYWRIGHT_BROWSERS_PATH || join(homedir(), '.cache', 'ms-playwright');
  if (!existsSync(cache)) return [];
  const dirs = readdirSync(cache)
    .filter((d) => /^chromium(_headless_shell)?-\d+$/.test(d))
    .sort((a, b) => Number(b.split('-').pop()) - Number(a.split('-').pop()));
  return dirs.flatMap((d) =>
    ['chrome-linux64/chrome', 'chrome-linux/chrome', 'chrome-linux/headless_shell'].map((bin) =>
      join(cache, d, bin),
    ),
  );
}

/**
 * The Chromium to test with: `CHROMIUM_PATH` when set (it must exist), else the system's, else
 * Playwright's cache. Returns `{ path }` or `{ error }`.
 */
export const SYSTEM_CHROMIUMS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

export function findChromium(env = process.env, systemPaths = SYSTEM_CHROMIUMS) {
  if (env.CHROMIUM_PATH) {
    return executable(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH }
      : { error: `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file` };
  }
  const candidates = [...systemPaths, ...playwrightCacheBrowsers(env)];
  const path = candidates.find(executable);
  return path ? { path } : { error: 'no Chromium found' };
}

/** A Python that can import the training packages: `FIELDDX_PYTHON`, Debian's, or the PATH's. */
export function findTrainingPython(env = process.env) {
  const candidates = [env.FIELDDX_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  return candidates.find(
    (python) =>
      spawnSync(python, ['-c', `import ${PYTHON_MODULES}`], { stdio: 'ignore' }).status === 0,
  );
}

/**
 * The folder with PostgreSQL's initdb, pg_ctl and postgres, as sync-server/test/postgres.ts finds
 * it: `POSTGRES_BIN_DIR` when set, else the newest of Debian's /usr/lib/postgresql/<version>/bin.
 * Returns `{ path }` or `{ error }`.
 */
export function findPostgresBinDir(env = process.env, root = '/usr/lib/postgresql') {
  const hasServer = (dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((b) => executable(join(dir, b)));
  if (env.POSTGRES_BIN_DIR) {
    return hasServer(env.POSTGRES_BIN_DIR)
      ? { path: env.POSTGRES_BIN_DIR }
      : { error: `POSTGRES_BIN_DIR=${env.POSTGRES_BIN_DIR} lacks initdb, pg_ctl or postgres` };
  }
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const path = versions.map((v) => join(root, v, 'bin')).find(hasServer);
  return path ? { path } : { error: 'no PostgreSQL server found' };
}

/** Whether missing Debian packages can be installed here, as CI does. */
export function canInstallDebianPackages() {
  return process.getuid?.() === 0 && executable('/usr/bin/apt-get');
}

let aptUpdated = false;
/** `apt-get install -y packages` (non-interactive); true when it worked. */
export function installDebianPackages(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    aptUpdated = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status === 0;
    if (!aptUpdated) return false;
  }
  const args = ['install', '-y', '-qq', '--no-install-recommends', ...packages];
  return spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
}

/**
 * Finds (or installs) Chromium, the training Python and PostgreSQL. Returns
 * `{ chromium, python, postgres }`, or
 * `{ error }`: one line saying exactly what to install.
 */
export function ensureTestPrerequisites(log = console.log) {
  let chromium = findChromium();
  if (chromium.error && !process.env.CHROMIUM_PATH && canInstallDebianPackages()) {
    log(
      `No Chromium found: installing Debian's (apt-get install -y ${CHROMIUM_PACKAGES.join(' ')}), about a minute…`,
    );
    if (installDebianPackages(CHROMIUM_PACKAGES)) chromium = findChromium();
  }
  if (chromium.error) {
    return {
      error:
        `The end-to-end tests need Chromium: ${chromium.error}. Install it ` +
        `(Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chrome or Chromium binary.`,
    };
  }
  let python = findTrainingPython();
  if (!python && !process.env.FIELDDX_PYTHON && canInstallDebianPackages()) {
    log(
      `No Python with ${PYTHON_MODULES}: installing Debian's (apt-get install -y ${PYTHON_PACKAGES.join(' ')}), a few minutes…`,
    );
    if (installDebianPackages(PYTHON_PACKAGES)) python = findTrainingPython();
  }
  if (!python) {
    return {
      error:
        `The training tests need a Python with ${PYTHON_MODULES}. Install them ` +
        `(Debian/Ubuntu: sudo apt-get install -y ${PYTHON_PACKAGES.join(' ')}) or set FIELDDX_PYTHON to a python3 that has them.`,
    };
  }
  let postgres = findPostgresBinDir();
  if (postgres.error && !process.env.POSTGRES_BIN_DIR && canInstallDebianPackages()) {
    log(
      `No PostgreSQL server found: installing Debian's (apt-get install -y ${POSTGRES_PACKAGES.join(' ')}), about a minute…`,
    );
    if (installDebianPackages(POSTGRES_PACKAGES)) postgres = findPostgresBinDir();
  }
  if (postgres.error) {
    return {
      error:
        `The sync-server's PostgreSQL tests need a PostgreSQL server: ${postgres.error}. Install it ` +
        `(Debian/Ubuntu: sudo apt-get install -y ${POSTGRES_PACKAGES.join(' ')}) or set POSTGRES_BIN_DIR to the folder with its initdb.`,
    };
  }
  return { chromium: chromium.path, python, postgres: postgres.path };
}
