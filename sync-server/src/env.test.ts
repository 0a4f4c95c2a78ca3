import path from 'node:path';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODELS_DIR, DEFAULT_WEB_DIR, EnvError, loadEnv, parseEnv } from './env';
import { tempDir } from './test-utils';

describe('parseEnv', () => {
  it('applies the defaults', () => {
    const env = parseEnv({}, '/srv/fielddx');
    expect(env).toEqual({
      PORT: 8787,
      HOST: '0.0.0.0',
      DATA_DIR: '/srv/fielddx/data',
      PUBLIC_ORIGIN: 'http://localhost:8787',
      LOG_LEVEL: 'info',
      WEB_DIR: DEFAULT_WEB_DIR,
      TRUST_PROXY: false,
      MODELS_DIR: DEFAULT_MODELS_DIR,
      DATABASE: { dialect: 'sqlite' },
    });
    expect(DEFAULT_WEB_DIR.endsWith(path.join('web', 'build'))).toBe(true);
    expect(DEFAULT_MODELS_DIR.endsWith(`${path.sep}models`)).toBe(true);
    expect(parseEnv({ MODELS_DIR: 'published' }, '/srv/fielddx').MODELS_DIR).toBe(
      '/srv/fielddx/published',
    );
  });

  it('derives the default origin from PORT and normalises a given origin', () => {
    expect(parseEnv({ PORT: '9000' }).PUBLIC_ORIGIN).toBe('http://localhost:9000');
    expect(parseEnv({ PUBLIC_ORIGIN: 'https://Dx.Example.org/' }).PUBLIC_ORIGIN).toBe(
      'https://dx.example.org',
    );
  });

  it('reads every variable and treats empty ones as unset', () => {
    const env = parseEnv(
      {
        PORT: '3000',
        HOST: '127.0.0.1',
        DATA_DIR: 'var/db',
        PUBLIC_ORIGIN: 'https://fielddx.example.org',
        LOG_LEVEL: 'warn',
        WEB_DIR: '/opt/web',
        TRUST_PROXY: 'true',
      },
      '/srv',
    );
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: '/srv/var/db',
      PUBLIC_ORIGIN: 'https://fielddx.example.org',
      LOG_LEVEL: 'warn',
      WEB_DIR: '/opt/web',
      TRUST_PROXY: true,
    });
    expect(parseEnv({ PORT: '', LOG_LEVEL: '' }).PORT).toBe(8787);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 1 and 65535'],
    [{ PORT: '0' }, 'PORT must be an integer between 1 and 65535'],
    [{ PORT: '70000' }, 'PORT must be an integer between 1 and 65535'],
    [{ PORT: '80.5' }, 'PORT must be an integer between 1 and 65535'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of debug, info, warn, error, silent'],
    [{ PUBLIC_ORIGIN: 'not a url' }, 'PUBLIC_ORIGIN must be a URL'],
    [{ PUBLIC_ORIGIN: 'ftp://example.org' }, 'PUBLIC_ORIGIN must be an http:// or https:// URL'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY must be true or false'],
  ])('rejects %j naming the variable', (raw, message) => {
    expect(() => parseEnv(raw)).toThrow(EnvError);
    expect(() => parseEnv(raw)).toThrow(message);
  });
});

describe('loadEnv', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints one line naming the variable and exits 1', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => {
      throw new Error('exit');
    }) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow('exit');
    expect(exit).toHaveBeenCalledWith(1);
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(stderr.mock.calls[0]![0]).toBe(
      'Invalid environment: PORT must be an integer between 1 and 65535\n',
    );
  });

  it('creates DATA_DIR when it is missing', () => {
    const tmp = tempDir();
    try {
      const dataDir = path.join(tmp.dir, 'nested', 'data');
      expect(loadEnv({ DATA_DIR: dataDir }).DATA_DIR).toBe(dataDir);
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      tmp.remove();
    }
  });
});

describe('DATABASE_URL', () => {
  it('is SQLite when unset or empty, PostgreSQL for a postgres:// URL', () => {
    expect(parseEnv({}).DATABASE).toEqual({ dialect: 'sqlite' });
    expect(parseEnv({ DATABASE_URL: ' ' }).DATABASE).toEqual({ dialect: 'sqlite' });
    expect(parseEnv({ DATABASE_URL: 'postgres://fdx@db:5432/fielddx' }).DATABASE).toEqual({
      dialect: 'postgres',
      url: 'postgres://fdx@db:5432/fielddx',
    });
  });

  it('refuses anything else, naming the variable and never echoing a password', () => {
    expect(() => parseEnv({ DATABASE_URL: 'mysql://root:secret@db/fielddx' })).toThrow(
      /^DATABASE_URL must start with postgres:\/\//,
    );
    expect(() => parseEnv({ DATABASE_URL: 'not a url:secret' })).toThrow(
      /DATABASE_URL is not a URL/,
    );
    try {
      parseEnv({ DATABASE_URL: 'mysql://root:s3cr3t@db/fielddx' });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });
});
