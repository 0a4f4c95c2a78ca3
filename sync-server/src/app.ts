import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compress } from 'hono/compress';
import { HTTPException } from 'hono/http-exception';
import { existsSync } from 'node:fs';
import { loadSession } from './auth/middleware';
import { createPasswordHasher, type PasswordHasher } from './auth/password';
import type { BlobStore } from './blob-store/store';
import type { AppDeps, AppEnv } from './context';
import type { Env } from './env';
import { ApiError, errorBody } from './errors';
import { NUL_MESSAGE } from './protocol/nul';
import { silentLogger, type Logger } from './logger';
import { deviceGate } from './middleware/device-gate';
import { originCheck } from './middleware/origin';
import { requestLog } from './middleware/request-log';
import { securityHeaders } from './middleware/security-headers';
import { adminRoutes } from './routes/admin';
import { authRoutes } from './routes/auth';
import { blobRoutes } from './routes/blobs';
import { deviceRoutes } from './routes/devices';
import { healthRoutes } from './routes/health';
import { adminModelRoutes, modelRoutes } from './routes/models';
import { reviewRoutes } from './routes/review';
import { syncRoutes } from './routes/sync';
import { teamRoutes } from './routes/teams';
import type { Repositories } from './repositories';
import { buildCsp } from './static/csp';
import { readIndexScriptHashes, serveWebApp } from './static/serve';

/** JSON bodies on /api, except the routes with their own limit (hasOwnBodyLimit). */
export const API_BODY_LIMIT = 1024 * 1024;

/** Push (5 MiB, routes/sync.ts), blob uploads (25 MB, streamed, services/blobs.ts) and model uploads. */
const hasOwnBodyLimit = (path: string) =>
  path === '/api/sync/push' || path.startsWith('/api/blobs/') || path === '/api/admin/models';

export interface CreateAppOptions {
  /** Every table: sqliteRepositories(db) or postgresRepositories(pool) (repositories/). */
  repos: Repositories;
  env: Env;
  /** Where blob bytes go (the filesystem under DATA_DIR when not given). */
  blobStore?: BlobStore;
  logger?: Logger;
  now?: () => Date;
  /** Tests may inject cheaper argon2 parameters; production uses PRODUCTION_ARGON2. */
  passwords?: PasswordHasher;
}

export function createApp(options: CreateAppOptions) {
  const deps: AppDeps = {
    repos: options.repos,
    env: options.env,
    blobStore: options.blobStore,
    logger: options.logger ?? silentLogger,
    now: options.now ?? (() => new Date()),
    passwords: options.passwords ?? createPasswordHasher(),
  };
  const { env, logger } = deps;
  const webBuilt = existsSync(env.WEB_DIR);
  const csp = buildCsp(webBuilt ? readIndexScriptHashes(env.WEB_DIR) : []);

  const api = new Hono<AppEnv>()
    .route('/health', healthRoutes())
    .route('/auth', authRoutes(deps))
    .route('/admin/models', adminModelRoutes(deps))
    .route('/admin', adminRoutes(deps))
    .route('/models', modelRoutes(deps))
    .route('/sync', syncRoutes(deps))
    .route('/teams', teamRoutes(deps))
    .route('/blobs', blobRoutes(deps))
    .route('/devices', deviceRoutes(deps))
    .route('/review', reviewRoutes(deps));

  const jsonBodyLimit = bodyLimit({
    maxSize: API_BODY_LIMIT,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', 'The request body is larger than 1 MiB');
    },
  });

  const app = new Hono<AppEnv>()
    .use(requestLog(logger))
    .use(securityHeaders(csp))
    .use(originCheck(env.PUBLIC_ORIGIN))
    .use('/api/*', async (c, next) => {
      c.header('Cache-Control', 'no-store');
      await next();
    })
    .use('/api/*', async (c, next) => {
      // A path parameter or query value holding U+0000 would reach the database (protocol/nul.ts).
      if (/%00/i.test(c.req.url)) {
        throw new ApiError(400, 'invalid_request', `The address ${NUL_MESSAGE}`);
      }
      await next();
    })
    .use('/api/*', compress())
    .use('/api/*', (c, next) => (hasOwnBodyLimit(c.req.path) ? next() : jsonBodyLimit(c, next)))
    .use('/api/*', loadSession(deps))
    .use('/api/*', deviceGate(deps))
    .route('/api', api);

  if (webBuilt) app.use(serveWebApp(env.WEB_DIR));

  app.notFound((c) => {
    const isApi = c.req.path === '/api' || c.req.path.startsWith('/api/');
    return c.json(
      errorBody('not_found', isApi ? `No route for ${c.req.method} ${c.req.path}` : 'Not found'),
      404,
    );
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
      return c.json(errorBody(err.code, err.message), err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      if (err.message.startsWith('Malformed JSON')) {
        // hono's validator throws this for a body that is not JSON.
        return c.json(errorBody('invalid_json', 'The request body is not valid JSON'), 400);
      }
      return c.json(errorBody('invalid_request', err.message || 'Bad request'), err.status);
    }
    if (isClientAbort(err)) {
      // The client's body broke off or was malformed (Node's parser gave up): its fault, not ours.
      logger.warn('request body could not be read', { method: c.req.method, path: c.req.path });
      return c.json(errorBody('invalid_request', 'The request body could not be read'), 400);
    }
    logger.error('unhandled error', {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return c.json(errorBody('internal', 'Something went wrong on the server'), 500);
  });

  return app;
}

/** Errors Node raises on a request whose body ended early or could not be parsed. */
const CLIENT_ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);
const isClientAbort = (err: unknown) =>
  err instanceof Error && CLIENT_ABORT_CODES.has((err as NodeJS.ErrnoException).code ?? '');

/** Typed routes for `hono/client` in the web app: `hc<AppType>('/')`. */
export type AppType = ReturnType<typeof createApp>;
