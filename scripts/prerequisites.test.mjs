import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findChromium, findPostgresBinDir } from './prerequisites.mjs';

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

describe('finding PostgreSQL for the sync-server tests', () => {
  const server = (dir) => {
    for (const b of ['initdb', 'pg_ctl', 'postgres']) fakeBinary(join(dir, b));
    return dir;
  };

  it("takes the newest of Debian's versions that has the server binaries", () => {
    const root = mkdtempSync(join(tmpdir(), 'fdx-pg-'));
    server(join(root, '15', 'bin'));
    const newest = server(join(root, '16', 'bin'));
    fakeBinary(join(root, '17', 'bin', 'psql')); // client only
    expect(findPostgresBinDir({}, root)).toEqual({ path: newest });
  });

  it('takes POSTGRES_BIN_DIR when it has them, and says so when it does not', () => {
    const dir = server(mkdtempSync(join(tmpdir(), 'fdx-pg-bin-')));
    expect(findPostgresBinDir({ POSTGRES_BIN_DIR: dir }, '/nonexistent')).toEqual({ path: dir });
    const empty = mkdtempSync(join(tmpdir(), 'fdx-pg-empty-'));
    expect(findPostgresBinDir({ POSTGRES_BIN_DIR: empty }, '/nonexistent')).toEqual({
      error: `POSTGRES_BIN_DIR=${empty} lacks initdb, pg_ctl or postgres`,
    });
  });

  it('reports that none was found', () => {
    expect(findPostgresBinDir({}, '/nonexistent')).toEqual({ error: 'no PostgreSQL server found' });
  });
});
