import { serveStatic } from '@hono/node-server/serve-static';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createMiddleware } from 'hono/factory';
import { inlineScriptHashes } from './csp';

export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

/** Hashed build output never changes under its name; everything else must be revalidated. */
export function cacheControlFor(requestPath: string): string {
  return requestPath.startsWith('/_app/immutable/') ? IMMUTABLE_CACHE : 'no-cache';
}

const isApiPath = (p: string) => p === '/api' || p.startsWith('/api/');

/** Hashes of the inline scripts of WEB_DIR/index.html, for script-src; [] when not built. */
export function readIndexScriptHashes(webDir: string): string[] {
  const index = path.join(webDir, 'index.html');
  return existsSync(index) ? inlineScriptHashes(readFileSync(index, 'utf8')) : [];
}

/**
 * Serves the built SPA: files from `webDir` (a `.br`/`.gz` sibling when the client accepts it),
 * and index.html for any other non-/api GET so client-side routes survive a reload. A missing file
 * under /_app/ is a real 404 rather than HTML, so a stale page never caches HTML as a script.
 */
export function serveWebApp(webDir: string) {
  const files = serveStatic({ root: webDir, precompressed: true });
  const spaFallback = serveStatic({ root: webDir, path: 'index.html', precompressed: true });
  return createMiddleware(async (c, next) => {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || isApiPath(c.req.path)) {
      return next();
    }
    // Set before serveStatic builds its response (headers set in its onFound come too late).
    c.header('Cache-Control', cacheControlFor(c.req.path));
    let missing = false;
    const res = await files(c, async () => {
      missing = true;
    });
    if (!missing) return res;
    if (c.req.path.startsWith('/_app/')) {
      c.header('Cache-Control', undefined);
      return next();
    }
    c.header('Cache-Control', 'no-cache');
    return spaFallback(c, next);
  });
}
