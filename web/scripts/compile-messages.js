// Vitest global setup: compiles web/messages into src/lib/paraglide so tests see the current texts.
// In a child process: Paraglide's compiler keeps handles open that would stop Vitest from exiting.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup() {
  const web = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync('npm', ['run', '--silent', 'i18n:compile'], { cwd: web, stdio: 'pipe' });
  if (result.status !== 0) {
    throw new Error(`Compiling the messages failed:\n${result.stdout}${result.stderr}`);
  }
}
