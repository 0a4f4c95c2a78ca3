import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';
import type { Logger } from '../logger';

/** Invitation codes are bearer credentials until used: the log keeps their first 4 characters. */
export const redactPath = (path: string) =>
  path.replace(/^(\/api\/admin\/invitations\/)([^/]{0,4})[^/]*/i, '$1$2…');

/**
 * One JSON line per request: method, path (never the query string), status, ms, userId.
 * Never bodies, headers, cookies or tokens.
 */
export const requestLog = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const start = performance.now();
    await next();
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      path: redactPath(c.req.path),
      status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      userId: c.get('user')?.id ?? null,
    };
    if (status >= 500) logger.error('request', fields);
    else logger.info('request', fields);
  });
