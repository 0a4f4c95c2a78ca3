import { serve } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { createApp } from './app';
import { deleteExpiredSessions } from './auth/session';
import { openDataDir } from './db/connection';
import { loadEnv } from './env';
import { removeUnfinishedUploads } from './services/blobs';
import { importBundledModels } from './services/models';
import { createLogger } from './logger';

// Process entry: serves /api and the built web app on one origin.
const env = loadEnv();
const logger = createLogger(env.LOG_LEVEL);
const database = openDataDir(env.DATA_DIR);
const unfinished = await removeUnfinishedUploads(env.DATA_DIR);
if (unfinished > 0) logger.info('removed unfinished uploads', { count: unfinished });
const imported = await importBundledModels(
  { db: database.db, dataDir: env.DATA_DIR, now: () => new Date() },
  env.MODELS_DIR,
  logger,
);
if (imported > 0) logger.info('bundled models imported', { count: imported });
const app = createApp({ db: database.db, env, logger });

if (!existsSync(env.WEB_DIR)) {
  console.warn(
    `Warning: the web app is not built (${env.WEB_DIR} is missing): only /api is served. ` +
      'Run `pnpm build` at the repository root.',
  );
}

const server = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => {
  console.log(`FieldDx listening on ${env.PUBLIC_ORIGIN} (data: ${env.DATA_DIR})`);
});

// Expired sessions are deleted when presented; this removes the ones that never come back.
const HOUR_MS = 60 * 60 * 1000;
const sweep = () => deleteExpiredSessions(database.db, new Date());
sweep();
setInterval(sweep, HOUR_MS).unref();

let stopping = false;
function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => {
    database.close();
    process.exit(0);
  }, 5000);
  force.unref();
  server.close(() => {
    database.close();
    process.exit(0);
  });
  // Idle keep-alive connections would hold close() open.
  if ('closeIdleConnections' in server) server.closeIdleConnections();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
