import { webcrypto } from 'node:crypto';
import type { CatalogueItem } from 'sync-server/protocol';
import { describe, expect, it, vi } from 'vitest';
import { parseManifest, type Manifest } from './manifest';
import { ModelIntegrityError, ModelStore, ModelStoreError, sha256Hex } from './model-store';
import { imageManifestJson } from './manifests.test-helper';

const subtle = webcrypto.subtle as SubtleCrypto;

/** Cache Storage in memory: enough of the API for the store. */
function memoryCaches() {
  const stores = new Map<string, Map<string, Response>>();
  const caches = {
    async keys() {
      return [...stores.keys()];
    },
    async open(name: string) {
      const store = stores.get(name) ?? new Map<string, Response>();
      stores.set(name, store);
      return {
        async match(key: string, options?: { ignoreSearch?: boolean }) {
          const strip = (k: string) => (options?.ignoreSearch ? k.split('?')[0] : k);
          const found = [...store.keys()].find((k) => strip(k) === strip(key));
          return found === undefined ? undefined : store.get(found)?.clone();
        },
        async put(key: string, response: Response) {
          store.set(key, response.clone());
        },
        async delete(key: string) {
          return store.delete(key);
        },
      };
    },
  };
  return { caches: caches as unknown as CacheStorage, stores };
}

const modelBytes = new TextEncoder().encode('pretend this is an ONNX graph').buffer as ArrayBuffer;

async function manifestFor(bytes: ArrayBuffer, patch: Partial<Manifest> = {}): Promise<Manifest> {
  return parseManifest({
    ...imageManifestJson,
    sha256: await sha256Hex(subtle, bytes),
    bytes: bytes.byteLength,
    ...patch,
  });
}

function server(files: Record<string, ArrayBuffer | string>) {
  return vi.fn(async (url: string | URL | Request) => {
    const body = files[String(url)];
    if (body === undefined) return new Response('not found', { status: 404 });
    return new Response(body);
  }) as unknown as typeof fetch & ReturnType<typeof vi.fn>;
}

describe('ModelStore.modelBytes', () => {
  it('downloads with progress, verifies, saves, then reads the saved copy offline', async () => {
    const manifest = await manifestFor(modelBytes);
    const fetch = server({ '/models/pneumonia-cxr/model.onnx': modelBytes });
    const { caches } = memoryCaches();
    const store = new ModelStore({ fetch, caches, subtle });
    expect(await store.isSaved(manifest)).toBe(false);

    const progress: number[] = [];
    const bytes = await store.modelBytes(manifest, (p) => progress.push(p.received / p.total));
    expect(new Uint8Array(bytes)).toEqual(new Uint8Array(modelBytes));
    expect(progress.at(-1)).toBe(1);
    expect(await store.isSaved(manifest)).toBe(true);

    const offline = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    const again = await new ModelStore({ fetch: offline, caches, subtle }).modelBytes(manifest);
    expect(again.byteLength).toBe(modelBytes.byteLength);
  });

  it('refuses bytes that do not match the manifest sha256, and keeps nothing', async () => {
    const manifest = await manifestFor(modelBytes);
    const tampered = new TextEncoder().encode('pretend this is an ONNX graph!')
      .buffer as ArrayBuffer;
    const { caches } = memoryCaches();
    const store = new ModelStore({
      fetch: server({ '/models/pneumonia-cxr/model.onnx': tampered }),
      caches,
      subtle,
    });
    await expect(store.modelBytes(manifest)).rejects.toThrow(ModelIntegrityError);
    await expect(store.modelBytes(manifest)).rejects.toThrow(
      /does not match its published checksum/,
    );
    expect(await store.isSaved(manifest)).toBe(false);
  });

  it('replaces a damaged saved copy with a fresh download', async () => {
    const manifest = await manifestFor(modelBytes);
    const { caches } = memoryCaches();
    const cache = await caches.open('fielddx-models-v1');
    await cache.put(
      `/models/pneumonia-cxr/model.onnx?sha256=${manifest.sha256}`,
      new Response('junk'),
    );
    const fetch = server({ '/models/pneumonia-cxr/model.onnx': modelBytes });
    const bytes = await new ModelStore({ fetch, caches, subtle }).modelBytes(manifest);
    expect(bytes.byteLength).toBe(modelBytes.byteLength);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('counts a copy precached by the service worker as saved', async () => {
    const manifest = await manifestFor(modelBytes);
    const { caches } = memoryCaches();
    const precache = await caches.open('workbox-precache-v2-http://localhost/');
    await precache.put('/models/pneumonia-cxr/model.onnx?__WB_REVISION__=abc', new Response('x'));
    const store = new ModelStore({ fetch: server({}), caches, subtle });
    expect(await store.isSaved(manifest)).toBe(true);
    expect(await store.isSaved({ ...manifest, id: 'other-model' })).toBe(false);
  });

  it('says so when the model is neither saved nor downloadable', async () => {
    const manifest = await manifestFor(modelBytes);
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    const store = new ModelStore({ fetch: offline, caches: memoryCaches().caches, subtle });
    await expect(store.modelBytes(manifest)).rejects.toThrow(/not saved on this device/);
    const missing = new ModelStore({ fetch: server({}), caches: undefined, subtle });
    await expect(missing.modelBytes(manifest)).rejects.toThrow(/answered 404/);
  });
});

const entry = {
  id: 'pneumonia-cxr',
  version: '1.0.0',
  name: 'Pneumonia',
  modality: 'image' as const,
  task: 'binary-classification',
  path: 'pneumonia-cxr/manifest.json',
  bytes: 10,
  source: 'bundled' as const,
};

describe('ModelStore catalogue and manifests', () => {
  it('keeps the JSON for offline use and validates it', async () => {
    const manifest = await manifestFor(modelBytes);
    const { caches } = memoryCaches();
    const online = new ModelStore({
      fetch: server({
        '/models/index.json': JSON.stringify([entry]),
        '/models/pneumonia-cxr/manifest.json': JSON.stringify(manifest),
      }),
      caches,
      subtle,
    });
    expect(await online.catalogue()).toEqual([{ ...entry, source: 'bundled' }]);
    expect((await online.manifest(entry)).sha256).toBe(manifest.sha256);

    const offline = new ModelStore({
      fetch: (async () => {
        throw new TypeError('offline');
      }) as unknown as typeof fetch,
      caches,
      subtle,
    });
    expect(await offline.catalogue()).toEqual([{ ...entry, source: 'bundled' }]);
    expect((await offline.manifest(entry)).id).toBe('pneumonia-cxr');
  });

  it('reports an invalid manifest or a non-JSON answer clearly', async () => {
    const store = new ModelStore({
      fetch: server({
        '/models/index.json': '<!doctype html><html></html>',
        '/models/pneumonia-cxr/manifest.json': JSON.stringify({
          ...imageManifestJson,
          sha256: 'x',
        }),
      }),
      caches: undefined,
      subtle,
    });
    await expect(store.catalogue()).rejects.toThrow(ModelStoreError);
    await expect(store.manifest(entry)).rejects.toThrow(/description is invalid \(sha256/);
  });
});

describe('models from the server catalogue', () => {
  const published = async (
    version: string,
    bytes: ArrayBuffer,
    status: CatalogueItem['status'] = 'active',
  ) => {
    const manifest = await manifestFor(bytes, { version });
    const item = {
      id: manifest.id,
      version,
      name: manifest.name,
      modality: manifest.modality,
      task: manifest.task,
      bytes: manifest.bytes,
      sha256: manifest.sha256,
      status,
      releaseNotes: '',
      activatedAt: null,
      createdAt: '2026-11-01T00:00:00.000Z',
    } satisfies CatalogueItem;
    return { manifest, item };
  };
  const bundledEntry = { ...entry, version: '1.0.0' };
  const newBytes = new TextEncoder().encode('the retrained graph, version 1.1.0')
    .buffer as ArrayBuffer;

  async function world() {
    const v1 = await published('1.0.0', modelBytes, 'retired');
    const v11 = await published('1.1.0', newBytes);
    const files: Record<string, ArrayBuffer | string> = {
      '/models/index.json': JSON.stringify([bundledEntry]),
      '/models/pneumonia-cxr/manifest.json': JSON.stringify(v1.manifest),
      '/api/models': JSON.stringify({ models: [v1.item, v11.item] }),
      '/api/models/pneumonia-cxr/1.1.0/manifest.json': JSON.stringify(v11.manifest),
      '/api/models/pneumonia-cxr/1.1.0/model.onnx': newBytes,
    };
    const { caches } = memoryCaches();
    return { v1, v11, files, caches };
  }

  it('keeps the bundled version until the new one is downloaded and verified, then uses it', async () => {
    const { v11, files, caches } = await world();
    const store = new ModelStore({ fetch: server(files), caches, subtle });
    const before = await store.catalogueChoice();
    expect(before.entries.map((e) => `${e.version}:${e.source}`)).toEqual(['1.0.0:bundled']);
    expect(before.pending.map((p) => p.version)).toEqual(['1.1.0']);

    const progress: number[] = [];
    await store.downloadVersion(v11.item, (p) => progress.push(p.received));
    expect(progress.at(-1)).toBe(newBytes.byteLength);
    const after = await store.catalogueChoice();
    expect(after.entries.map((e) => `${e.version}:${e.source}`)).toEqual(['1.1.0:server']);
    expect(after.pending).toEqual([]);
  });

  it('discards a corrupted download and keeps offering the old version, saying why', async () => {
    const { v11, files, caches } = await world();
    files['/api/models/pneumonia-cxr/1.1.0/model.onnx'] = new TextEncoder().encode(
      'the retrained graph, version 1.1.X',
    ).buffer as ArrayBuffer;
    const store = new ModelStore({ fetch: server(files), caches, subtle });
    await expect(store.downloadVersion(v11.item)).rejects.toThrow(
      /does not match its published checksum/,
    );
    expect((await store.catalogue()).map((e) => e.version)).toEqual(['1.0.0']);
    expect(await store.isSaved(v11.manifest)).toBe(false);
  });

  it('refuses a description that does not match the catalogue entry', async () => {
    const { v11, files, caches } = await world();
    const store = new ModelStore({ fetch: server(files), caches, subtle });
    await expect(store.downloadVersion({ ...v11.item, sha256: 'f'.repeat(64) })).rejects.toThrow(
      /does not match the catalogue/,
    );
  });

  it('resumes an interrupted download from where it stopped', async () => {
    const { v11, files, caches } = await world();
    const url = '/api/models/pneumonia-cxr/1.1.0/model.onnx';
    const all = new Uint8Array(newBytes);
    const ranges: (string | null)[] = [];
    let attempt = 0;
    const flaky = vi.fn(
      async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        if (String(input) !== url) return server(files)(input, init);
        const range = new Headers(init?.headers).get('range');
        ranges.push(range);
        attempt++;
        if (attempt === 1) {
          // 10 bytes arrive, then the connection drops.
          let pulls = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (pulls++ === 0) controller.enqueue(all.slice(0, 10));
              else controller.error(new TypeError('network connection lost'));
            },
          });
          return new Response(body);
        }
        const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0);
        return new Response(all.slice(from), { status: from ? 206 : 200 });
      },
    ) as unknown as typeof fetch;
    const store = new ModelStore({ fetch: flaky, caches, subtle });
    await expect(store.downloadVersion(v11.item)).rejects.toThrow(/it will resume from there/);
    const manifest = await store.downloadVersion(v11.item);
    expect(ranges).toEqual([null, 'bytes=10-']);
    expect(await store.isSaved(manifest)).toBe(true);
    expect(new Uint8Array(await store.modelBytes(manifest))).toEqual(all);
  });

  it('follows a rollback made while the tablet was offline once it sees the catalogue again', async () => {
    const { v1, v11, files, caches } = await world();
    const online = new ModelStore({ fetch: server(files), caches, subtle });
    await online.catalogue();
    await online.downloadVersion(v11.item);
    // Offline: the last catalogue seen still says 1.1.0, which is on the device.
    const offline = new ModelStore({
      fetch: (async () => {
        throw new TypeError('offline');
      }) as unknown as typeof fetch,
      caches,
      subtle,
    });
    expect((await offline.catalogue()).map((e) => e.version)).toEqual(['1.1.0']);
    // Back online: the administrator rolled back to 1.0.0 meanwhile.
    files['/api/models'] = JSON.stringify({
      models: [
        { ...v1.item, status: 'active' },
        { ...v11.item, status: 'retired' },
      ],
    });
    const back = new ModelStore({ fetch: server(files), caches, subtle });
    const choice = await back.catalogueChoice();
    expect(choice.entries.map((e) => `${e.version}:${e.source}`)).toEqual(['1.0.0:bundled']);
    expect(choice.pending).toEqual([]);
  });
});
