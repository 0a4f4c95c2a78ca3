import { createMiddleware } from 'hono/factory';

/**
 * Headers on every response, API and static. COOP + COEP make the page cross-origin isolated
 * (multi-threaded WASM for onnxruntime-web); CORP keeps our resources same-origin.
 */
export function securityHeaderValues(csp: string): Record<string, string> {
  return {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': csp,
  };
}

export const securityHeaders = (csp: string) => {
  const entries = Object.entries(securityHeaderValues(csp));
  return createMiddleware(async (c, next) => {
    // Set before the handler so they ride along with the response it builds…
    for (const [name, value] of entries) c.header(name, value);
    await next();
    // …and after, for responses built elsewhere (error handlers, raw Responses).
    if (!c.res.headers.has('Content-Security-Policy')) {
      for (const [name, value] of entries) c.res.headers.set(name, value);
    }
  });
};
