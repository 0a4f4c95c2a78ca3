import { serve } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { createApp } from './app';
import { sweepStaleAttempts } from './auth/attempt-limiter';
import { sweepExpiredSessions } from './auth/session';
import { loadEnv } from './env';
import { createLogger } from './logger';
import { openServerDatabase } from './server-database';
import { UPLOAD_IDLE_MS } from './services/blobs';
import { importBundledModels } from './services/models';

// Process entry: serves /api and the built web app on one origin.
const env = loadEnv();
const logger = createLogger(env.LOG_LEVEL);
// SQLite in DATA_DIR, or PostgreSQL when DATABASE_URL is set (migrations applied either way).
const database = await openServerDatabase(env);
const { repos, blobStore } = database;
const imported = await importBundledModels(
  { repos, blobStore, dataDir: env.DATA_DIR, now: () => new Date() },
  env.MODELS_DIR,
  logger,
);
if (imported > 0) logger.info('bundled models imported', { count: imported });
const app = createApp({ repos, blobStore, env, logger });

if (!existsSync(env.WEB_DIR)) {
  console.warn(
    `Warning: the web app is not built (${env.WEB_DIR} is missing): only /api is served. ` +
      'Run `pnpm build` at the repository root.',
  );
}

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => {
  console.log(`FieldDx listening on ${env.PUBLIC_ORIGIN} (data: ${database.description})`);
});

// Expired sessions are deleted when presented, limiter attempts as the limiters are used; this
// removes the ones never seen again, and the uploads a killed process left half-written. Every
// instance may run it: each step is idempotent and touches only what no live request can use.
const HOUR_MS = 60 * 60 * 1000;
const sweep = async () => {
  const now = new Date();
  await sweepExpiredSessions(repos, now);
  await sweepStaleAttempts(repos, now);
  const unfinished = await blobStore.removeUnfinished(new Date(now.getTime() - UPLOAD_IDLE_MS));
  if (unfinished > 0) logger.info('removed unfinished uploads', { count: unfinished });
};
await sweep();
setInterval(() => {
  sweep().catch((error: unknown) =>
    logger.warn('sweep failed', { error: error instanceof Error ? error.message : String(error) }),
  );
}, HOUR_MS).unref();

let stopping = false;
function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => {
    void database.close().finally(() => process.exit(0));
  }, 5000);
  force.unref();
  server.close(() => {
    void database.close().finally(() => process.exit(0));
  });
  // Idle keep-alive connections would hold close() open.
  if ('closeIdleConnections' in server) server.closeIdleConnections();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
