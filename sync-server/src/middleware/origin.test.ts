import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTestApp } from '../test-utils';
import { isAllowedOrigin } from './origin';

const PUBLIC = 'https://fielddx.example.org';

describe('isAllowedOrigin', () => {
  it('accepts the public origin', () => {
    expect(isAllowedOrigin(PUBLIC, PUBLIC)).toBe(true);
    expect(isAllowedOrigin('HTTPS://FIELDDX.example.org', PUBLIC)).toBe(true);
    expect(isAllowedOrigin('http://localhost:8787', 'http://localhost:8787')).toBe(true);
  });

  it('refuses a missing, foreign or opaque origin', () => {
    expect(isAllowedOrigin(undefined, PUBLIC)).toBe(false);
    expect(isAllowedOrigin('', PUBLIC)).toBe(false);
    expect(isAllowedOrigin('https://evil.example', PUBLIC)).toBe(false);
    expect(isAllowedOrigin('null', PUBLIC)).toBe(false);
    expect(isAllowedOrigin('https://fielddx.example.org.evil.example', PUBLIC)).toBe(false);
  });

  it('compares scheme, host and port exactly (adversarial test, hole 7)', () => {
    const local = 'http://localhost:8787';
    for (const origin of [
      'https://localhost:8787', // another scheme
      'ws://localhost:8787',
      'wss://localhost:8787',
      'ftp://localhost:8787',
      'http://evil@localhost:8787', // userinfo
      'http://user:pass@localhost:8787',
      'http://localhost:8788', // another port
      'http://localhost', // default port
      'http://localhost:8787/', // not an origin
      'http://localhost:8787/path',
      'http://localhost:8787 ',
    ]) {
      expect(isAllowedOrigin(origin, local), origin).toBe(false);
    }
  });
});

describe('originCheck in the app', () => {
  it('does not trust the Host header: a rebinding Host that matches the Origin is refused', async () => {
    const t = await makeTestApp({ env: { PUBLIC_ORIGIN: 'http://localhost:8787' } });
    onTestFinished(t.close);
    for (const [origin, host] of [
      ['http://evil.example', 'evil.example'],
      ['http://192.168.1.20:8787', '192.168.1.20:8787'],
      ['https://localhost:8787', 'localhost:8787'],
      ['http://evil@localhost:8787', 'localhost:8787'],
    ]) {
      const res = await t.app.request('http://localhost:8787/api/auth/logout', {
        method: 'POST',
        headers: { origin: origin!, host: host! },
      });
      expect(res.status, origin).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'forbidden_origin',
      );
    }
    const ok = await t.app.request('http://localhost:8787/api/auth/logout', {
      method: 'POST',
      headers: { origin: 'http://localhost:8787' },
    });
    expect(ok.status).toBe(204);
  });
});
