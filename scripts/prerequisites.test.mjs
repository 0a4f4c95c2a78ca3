import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium } from './prerequisites.mjs';

function fakeBinary(path) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding a Chromium for the end-to-end tests', () => {
  it('takes CHROMIUM_PATH when it is an executable, and says so when it is not', () => {
    const bin = fakeBinary(join(mkdtempSync(join(tmpdir(), 'fdx-chromium-')), 'chrome'));
    expect(findChromium({ CHROMIUM_PATH: bin }, [])).toEqual({ path: bin });
    expect(findChromium({ CHROMIUM_PATH: `${bin}-missing` }, [])).toEqual({
      error: `CHROMIUM_PATH=${bin}-missing is not an executable file`,
    });
  });

  it("falls back to Playwright's browser cache, newest revision first", () => {
    const cache = mkdtempSync(join(tmpdir(), 'fdx-pw-cache-'));
    fakeBinary(join(cache, 'chromium-1100', 'chrome-linux', 'chrome'));
    const newest = fakeBinary(join(cache, 'chromium-1200', 'chrome-linux64', 'chrome'));
    expect(findChromium({ PLAYWRIGHT_BROWSERS_PATH: cache }, [])).toEqual({ path: newest });
  });

  it('reports that none was found', () => {
    const empty = mkdtempSync(join(tmpdir(), 'fdx-pw-empty-'));
    expect(findChromium({ PLAYWRIGHT_BROWSERS_PATH: empty }, [])).toEqual({
      error: 'no Chromium found',
    });
  });
});
