import { describe, expect, it } from 'vitest';
import { isAllowedOrigin } from './origin';

const PUBLIC = 'https://fielddx.example.org';

describe('isAllowedOrigin', () => {
  it('accepts the public origin', () => {
    expect(isAllowedOrigin(PUBLIC, PUBLIC, undefined)).toBe(true);
    expect(isAllowedOrigin(PUBLIC, PUBLIC, 'internal:8787')).toBe(true);
  });

  it("accepts an origin whose host is the request's Host", () => {
    expect(isAllowedOrigin('http://192.168.1.20:8787', PUBLIC, '192.168.1.20:8787')).toBe(true);
    expect(isAllowedOrigin('http://LAN.local:8787', PUBLIC, 'lan.local:8787')).toBe(true);
  });

  it('refuses a missing, foreign or opaque origin', () => {
    expect(isAllowedOrigin(undefined, PUBLIC, 'fielddx.example.org')).toBe(false);
    expect(isAllowedOrigin('', PUBLIC, 'fielddx.example.org')).toBe(false);
    expect(isAllowedOrigin('https://evil.example', PUBLIC, 'fielddx.example.org')).toBe(false);
    expect(isAllowedOrigin('null', PUBLIC, 'fielddx.example.org')).toBe(false);
    expect(isAllowedOrigin('http://192.168.1.20:9999', PUBLIC, '192.168.1.20:8787')).toBe(false);
    expect(isAllowedOrigin('https://fielddx.example.org.evil.example', PUBLIC, undefined)).toBe(
      false,
    );
  });
});
