import { describe, expect, it } from 'vitest';
import { buildCsp, inlineScriptHashes } from './csp';

// Reference values from `printf '%s' '<content>' | openssl dgst -sha256 -binary | base64`.
const HASH_ALERT = "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"; // alert(1)

describe('inlineScriptHashes', () => {
  it('hashes the exact content of each inline script', () => {
    expect(inlineScriptHashes('<html><script>alert(1)</script></html>')).toEqual([HASH_ALERT]);
  });

  it('skips external scripts and empty ones, keeps order, drops duplicates', () => {
    const html = `
      <script type="module" src="/_app/immutable/entry/start.js"></script>
      <SCRIPT id="boot">alert(1)</SCRIPT >
      <script src=/registerSW.js></script>
      <script></script>
      <script>alert(1)</script>
      <script type="module">
        import('/x.js');
      </script>`;
    const hashes = inlineScriptHashes(html);
    expect(hashes).toHaveLength(2);
    expect(hashes[0]).toBe(HASH_ALERT);
    expect(hashes[1]).toMatch(/^'sha256-[A-Za-z0-9+/]{43}='$/);
  });

  it('treats whitespace as part of the content, as browsers do', () => {
    const [a] = inlineScriptHashes('<script>alert(1)</script>');
    const [b] = inlineScriptHashes('<script>\nalert(1)\n</script>');
    expect(a).not.toBe(b);
  });

  it('returns nothing for a page without inline scripts', () => {
    expect(inlineScriptHashes('<!doctype html><p>hi</p>')).toEqual([]);
  });
});

describe('buildCsp', () => {
  it('is strict and lists the hashes in script-src without unsafe-inline', () => {
    const csp = buildCsp([HASH_ALERT]);
    expect(csp).toContain(`script-src 'self' 'wasm-unsafe-eval' ${HASH_ALERT};`);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    for (const directive of [
      "default-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "connect-src 'self'",
      "worker-src 'self' blob:",
      "object-src 'none'",
      "base-uri 'self'",
      "frame-ancestors 'none'",
      "form-action 'self'",
      "manifest-src 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
  });
});
