/**
 * Vitest global setup of the PostgreSQL projects (vitest.pg.config.ts, vitest.cluster.config.ts):
 * one throw-away server for the whole run, started in Vitest's main process and stopped by its
 * teardown. Test processes create their databases on it (test-utils.ts testPostgresServer reads
 * FDX_TEST_POSTGRES_URL). A server started inside each test process instead was left running
 * whenever Vitest ended that process with a signal, since exit hooks do not run then.
 */
import { startPostgres } from './postgres';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startPostgres({ database: 'fielddx_setup' });
  process.env.FDX_TEST_POSTGRES_URL = server.url;
  return () => server.stop();
}
