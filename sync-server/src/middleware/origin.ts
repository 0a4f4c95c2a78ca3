import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request is allowed when its Origin is the public origin, or names the same host
 * the request was sent to (so the app also works on a LAN address or behind a proxy).
 */
export function isAllowedOrigin(
  origin: string | undefined,
  publicOrigin: string,
  host: string | undefined,
): boolean {
  if (!origin) return false;
  if (origin === publicOrigin) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // e.g. "null"
  }
}

/** CSRF defence for POST/PUT/PATCH/DELETE (on top of SameSite=Lax cookies). */
export const originCheck = (publicOrigin: string) =>
  createMiddleware(async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (!isAllowedOrigin(origin, publicOrigin, c.req.header('host'))) {
      throw new ApiError(
        403,
        'forbidden_origin',
        origin ? 'Requests from this origin are not allowed' : 'The Origin header is missing',
      );
    }
    return next();
  });
