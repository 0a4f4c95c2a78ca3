import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, tempDir, type TestApp } from '../test-utils';
import { inlineScriptHashes } from './csp';
import { IMMUTABLE_CACHE } from './serve';

// A stand-in for SvelteKit's SPA build (web/build), with its one inline bootstrap script.
const BOOTSTRAP = `
  { __sveltekit_x = { base: "" };
    const element = document.currentScript.parentElement;
    Promise.all([import("/_app/immutable/entry/start.abc.js")]).then(([kit]) => kit.start(element)); }
`;
const INDEX_HTML = `<!doctype html><html><head><link rel="manifest" href="/manifest.webmanifest">
</head><body><div style="display: contents"><script>${BOOTSTRAP}</script></div></body></html>`;
const START_JS = `export function start() { ${'/* padding */ '.repeat(50)} }`;

let web: ReturnType<typeof tempDir>;
let app: TestApp;
let close: () => void;

function write(file: string, content: string | Buffer) {
  const full = path.join(web.dir, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
}

beforeAll(async () => {
  web = tempDir('fdx-web-');
  write('index.html', INDEX_HTML);
  write('_app/immutable/entry/start.abc.js', START_JS);
  write('_app/immutable/entry/start.abc.js.br', brotliCompressSync(START_JS));
  write('_app/version.json', '{"version":"1"}');
  write('sw.js', 'self.addEventListener("fetch", () => {});');
  write('registerSW.js', 'navigator.serviceWorker.register("/sw.js")');
  write('manifest.webmanifest', '{"name":"FieldDx"}');
  write('ort/ort-wasm.wasm', Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  write('ort/ort.mjs', 'export {};');
  write('models/x/model.onnx', Buffer.from([1, 2, 3]));
  const t = await makeTestApp({ env: { WEB_DIR: web.dir } });
  app = t.app;
  close = t.close;
});

afterAll(() => {
  close();
  web.remove();
});

const HASH = inlineScriptHashes(`<script>${BOOTSTRAP}</script>`)[0]!;

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain(`script-src 'self' 'wasm-unsafe-eval' ${HASH}`);
  expect(csp).toContain("frame-ancestors 'none'");
}

describe('serving the built web app', () => {
  it('serves index.html at / with no-cache and the inline script hash in the CSP', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(res);
    expect(await res.text()).toBe(INDEX_HTML);
  });

  it('falls back to index.html for client-side routes', async () => {
    for (const route of ['/patients', '/patients/0190c0de-1234/encounters', '/login?next=/x']) {
      const res = await app.request(route);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expectSecurityHeaders(res);
      expect(await res.text()).toBe(INDEX_HTML);
    }
  });

  it('keeps unknown /api paths as JSON 404s, with the same headers', async () => {
    for (const url of ['/api/nope', '/api', '/api/auth/nope']) {
      const res = await app.request(url);
      expect(res.status, url).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'not_found', message: expect.stringContaining('No route') },
      });
      expectSecurityHeaders(res);
    }
  });

  it('does not answer a missing build asset with HTML', async () => {
    const res = await app.request('/_app/immutable/entry/missing.js');
    expect(res.status).toBe(404);
  });

  it('caches hashed assets forever and revalidates everything else', async () => {
    const immutable = await app.request('/_app/immutable/entry/start.abc.js');
    expect(immutable.status).toBe(200);
    expect(immutable.headers.get('cache-control')).toBe(IMMUTABLE_CACHE);
    for (const url of ['/sw.js', '/registerSW.js', '/manifest.webmanifest', '/_app/version.json']) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('cache-control'), url).toBe('no-cache');
      expectSecurityHeaders(res);
    }
  });

  it('sends the right content types', async () => {
    const types: Record<string, RegExp> = {
      '/_app/immutable/entry/start.abc.js': /^text\/javascript/,
      '/ort/ort.mjs': /^text\/javascript/,
      '/ort/ort-wasm.wasm': /^application\/wasm$/,
      '/manifest.webmanifest': /^application\/manifest\+json$/,
      '/_app/version.json': /^application\/json/,
      '/models/x/model.onnx': /^application\/octet-stream$/,
    };
    for (const [url, type] of Object.entries(types)) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(type);
    }
  });

  it('serves the precompressed .br sibling when the client accepts brotli', async () => {
    const res = await app.request('/_app/immutable/entry/start.abc.js', {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toBe(IMMUTABLE_CACHE);
    const body = Buffer.from(await res.arrayBuffer());
    expect(brotliDecompressSync(body).toString()).toBe(START_JS);

    const plain = await app.request('/_app/immutable/entry/start.abc.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(START_JS);
  });

  it('refuses path traversal', async () => {
    const res = await app.request('/..%2f..%2fetc/passwd');
    expect(await res.text()).not.toContain('root:');
  });

  it('answers non-GET requests to unknown non-API paths with a JSON 404', async () => {
    const res = await app.request('/patients', {
      method: 'POST',
      headers: { origin: 'http://localhost:8787' },
    });
    expect(res.status).toBe(404);
  });
});

describe('without a built web app', () => {
  it('serves only /api, with a CSP that has no script hashes', async () => {
    const t = await makeTestApp(); // WEB_DIR points nowhere
    try {
      const res = await t.app.request('/');
      expect(res.status).toBe(404);
      const health = await t.app.request('/api/health');
      expect(health.status).toBe(200);
      expect(health.headers.get('content-security-policy')).toContain(
        "script-src 'self' 'wasm-unsafe-eval'; ",
      );
    } finally {
      t.close();
    }
  });
});
