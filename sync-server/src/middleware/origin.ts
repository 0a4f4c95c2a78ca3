import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request is allowed only when its Origin is exactly the configured public
 * origin: same scheme, host and port, nothing else (no userinfo, path or other scheme; case aside,
 * as browsers send it lower-cased). The Host header is not consulted: it is the client's to set
 * (DNS rebinding). To use the app at another address, set PUBLIC_ORIGIN to it.
 */
export function isAllowedOrigin(origin: string | undefined, publicOrigin: string): boolean {
  return origin !== undefined && origin.toLowerCase() === publicOrigin.toLowerCase();
}

/** CSRF defence for POST/PUT/PATCH/DELETE (on top of SameSite=Lax cookies). */
export const originCheck = (publicOrigin: string) =>
  createMiddleware(async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (!isAllowedOrigin(origin, publicOrigin)) {
      throw new ApiError(
        403,
        'forbidden_origin',
        origin ? 'Requests from this origin are not allowed' : 'The Origin header is missing',
      );
    }
    return next();
  });
