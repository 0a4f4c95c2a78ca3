/**
 * Runs a command against a throw-away PostgreSQL: starts a server in a temporary folder
 * (test/postgres.ts, Debian's postgresql binaries), creates an empty database, runs the command
 * with DATABASE_URL set to it, then stops the server and removes the folder. For the benchmarks
 * that start the real server, e.g. `pnpm bench:sync:pg`:
 *   (from sync-server/) tsx test/with-postgres.ts pnpm --workspace-root bench:sync
 */
import { spawn } from 'node:child_process';
import { startPostgres } from './postgres';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: tsx sync-server/test/with-postgres.ts <command> [args…]');
  process.exit(2);
}
const server = await startPostgres({ database: 'fielddx_bench' });
let code = 1;
try {
  console.log(`PostgreSQL ${server.port} in ${server.dir}`);
  code = await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: server.url },
    });
    child.once('error', reject);
    child.once('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
} finally {
  await server.stop();
}
process.exit(code);
