import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, requestPersistentStorage, storageStatus } from './storage';

afterEach(() => vi.unstubAllGlobals());

describe('storage', () => {
  it('formats sizes for people', () => {
    expect(formatBytes(null)).toBe('unknown');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(10_700_000_000)).toBe('11 GB');
  });

  it('reports usage, quota and persistence', async () => {
    vi.stubGlobal('navigator', {
      storage: {
        estimate: async () => ({ usage: 1000, quota: 5000 }),
        persisted: async () => false,
        persist: async () => true,
      },
    });
    expect(await storageStatus()).toEqual({ usage: 1000, quota: 5000, persisted: false });
    expect(await requestPersistentStorage()).toBe(true);
  });

  it('copes with a browser without the Storage API', async () => {
    vi.stubGlobal('navigator', {});
    expect(await storageStatus()).toEqual({ usage: null, quota: null, persisted: null });
    expect(await requestPersistentStorage()).toBe(false);
  });
});
