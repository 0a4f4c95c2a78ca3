// `pnpm start`: installs the dependencies, builds the web app when it is missing or older than its
// sources, then runs the server (API + built app on one origin) on the embedded SQLite default.
// Each step says what it is doing: a first start on a fresh machine takes a few minutes.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { installDependencies } from './install.mjs';

const root = new URL('..', import.meta.url).pathname;
const builtIndex = join(root, 'web/build/index.html');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function webIsStale() {
  if (!existsSync(builtIndex)) return true;
  const built = statSync(builtIndex).mtimeMs;
  const sources = ['web/src', 'web/static', 'models']
    .map((dir) => join(root, dir))
    .filter(existsSync);
  return sources.some((dir) => newestMtime(dir) > built);
}

console.log('[1/3] Dependencies');
if (!installDependencies()) process.exit(1);

if (webIsStale()) {
  console.log(
    '[2/3] Building the web app (about a minute; compressing the inference runtime takes most of it)…',
  );
  const build = spawnSync('pnpm', ['--filter', 'web', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.log('[2/3] Building the web app failed (see above).');
    process.exit(build.status ?? 1);
  }
} else {
  console.log('[2/3] The web app is built and up to date.');
}

console.log('[3/3] Starting the server (it prints the address it listens on)…');
const server = spawn('pnpm', ['--filter', 'sync-server', 'start'], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));
