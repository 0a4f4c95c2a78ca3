import { describe, expect, it, vi } from 'vitest';
import type { CatalogueChoice } from './model-catalogue';
import type { ModelStore } from './model-store';
import { ModelUpdates } from './model-updates.svelte';

const item = (version: string) => ({
  id: 'pneumonia-cxr',
  version,
  name: 'Pneumonia',
  modality: 'image' as const,
  task: 'binary-classification',
  bytes: 1000,
  sha256: 'a'.repeat(64),
  status: 'active' as const,
  releaseNotes: '',
  activatedAt: null,
  createdAt: '2026-11-01T00:00:00.000Z',
});

function storeWith(choice: Partial<CatalogueChoice>, download: ModelStore['downloadVersion']) {
  return {
    catalogueChoice: vi.fn(async () => ({ entries: [], pending: [], withdrawn: [], ...choice })),
    downloadVersion: vi.fn(download),
  } as unknown as ModelStore;
}

describe('background model updates', () => {
  it('downloads each pending version with progress and marks it ready', async () => {
    const store = storeWith({ pending: [item('1.1.0')] }, async (_item, onProgress) => {
      onProgress?.({ received: 400, total: 1000 });
      onProgress?.({ received: 1000, total: 1000 });
      return {} as never;
    });
    const updates = new ModelUpdates(store);
    await updates.check();
    expect(updates.updates).toEqual([
      expect.objectContaining({
        version: '1.1.0',
        state: 'ready',
        progress: { received: 1000, total: 1000 },
      }),
    ]);
  });

  it('shows why a download failed and keeps going with the next time', async () => {
    const store = storeWith({ pending: [item('1.1.0')], withdrawn: ['old-model'] }, async () => {
      throw new Error('The file does not match its published checksum.');
    });
    const updates = new ModelUpdates(store);
    await updates.check();
    expect(updates.updates[0]).toMatchObject({
      state: 'failed',
      message: 'The file does not match its published checksum.',
    });
    expect(updates.withdrawn).toEqual(['old-model']);
  });

  it('does nothing when no catalogue can be read', async () => {
    const store = {
      catalogueChoice: vi.fn(async () => {
        throw new Error('offline');
      }),
    } as unknown as ModelStore;
    const updates = new ModelUpdates(store);
    await expect(updates.check()).resolves.toBeUndefined();
    expect(updates.updates).toEqual([]);
    expect(updates.checking).toBe(false);
  });
});
