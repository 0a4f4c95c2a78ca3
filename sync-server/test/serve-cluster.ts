/**
 * Several instances behind one address, as a command: INSTANCES (default 2) server processes on
 * one DATA_DIR, serving the built web app, behind the loopback round-robin proxy on PORT; with
 * E2E_DB=postgres, on one database of a throw-away PostgreSQL (test/postgres.ts) instead of the
 * SQLite file in DATA_DIR. The
 * Playwright config runs it instead of one server when E2E_INSTANCES is set, so that the
 * two-tablet test's requests (pages, service worker, sync) land on different instances.
 * Stops the instances on SIGTERM or SIGINT.
 */
import { startCluster } from './cluster';
import { startPostgres } from './postgres';
import { startProxy } from './proxy';

const port = Number(process.env.PORT);
const dataDir = process.env.DATA_DIR;
if (!port || !dataDir) throw new Error('serve-cluster needs PORT and DATA_DIR');
const count = Number(process.env.INSTANCES ?? 2);

const postgres = process.env.E2E_DB === 'postgres' ? await startPostgres() : null;
const upstreams: string[] = [];
// IPv4 loopback: where the browser's http://localhost:PORT reaches the single server too.
const proxy = await startProxy(upstreams, { port });
const publicOrigin = process.env.PUBLIC_ORIGIN ?? proxy.origin;
const instances = await startCluster(count, {
  dataDir,
  publicOrigin,
  serveWeb: true,
  logLevel: process.env.LOG_LEVEL ?? 'warn',
  env: { TRUST_PROXY: 'true', ...(postgres ? { DATABASE_URL: postgres.url } : {}) },
});
upstreams.push(...instances.map((s) => s.origin));
console.log(`${count} instances${postgres ? ' on PostgreSQL' : ''} behind ${proxy.origin}`);

// PostgreSQL is stopped right after the instances: if anything after it hung until Playwright's
// SIGKILL, the server would be left running with nobody to stop it.
const stop = async () => {
  await Promise.all(instances.map((s) => s.stop('SIGTERM')));
  await postgres?.stop();
  await proxy.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
