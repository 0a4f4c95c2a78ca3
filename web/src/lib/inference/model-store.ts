// Model files and descriptions from the app's own origin: fetched, checked against the manifest's
// SHA-256 before use, and kept in Cache Storage so a model once used works offline.
import {
  catalogueUrl,
  manifestUrl,
  modelFileUrl,
  parseCatalogue,
  parseManifest,
  type CatalogueEntry,
  type Manifest,
} from './manifest';

export const MODEL_CACHE = 'fielddx-models-v1';

export class ModelStoreError extends Error {
  override name = 'ModelStoreError';
}

/** The bytes did not match the manifest's SHA-256: they are never used, nor kept. */
export class ModelIntegrityError extends ModelStoreError {
  override name = 'ModelIntegrityError';
}

export interface Progress {
  received: number;
  total: number;
}

export interface ModelStoreDeps {
  fetch: typeof fetch;
  /** Cache Storage; undefined where the browser has none (then nothing is kept offline). */
  caches: CacheStorage | undefined;
  subtle: SubtleCrypto;
}

export async function sha256Hex(subtle: SubtleCrypto, bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function browserDeps(): ModelStoreDeps {
  return {
    fetch: (...args) => fetch(...args),
    caches: typeof caches === 'undefined' ? undefined : caches,
    subtle: crypto.subtle,
  };
}

/** The cache key of one exact model file: a new version never finds an old one's bytes. */
const cacheKey = (m: Manifest) => `${modelFileUrl(m)}?sha256=${m.sha256}`;

export class ModelStore {
  constructor(private readonly deps: ModelStoreDeps = browserDeps()) {}

  async catalogue(): Promise<CatalogueEntry[]> {
    return parseCatalogue(await this.#json(catalogueUrl(), 'the model catalogue'));
  }

  async manifest(entry: CatalogueEntry): Promise<Manifest> {
    return parseManifest(
      await this.#json(manifestUrl(entry), `the description of ${entry.name}`),
      entry.id,
    );
  }

  /**
   * True when this exact model file is on the device: kept by this store, or precached by the
   * service worker (which precaches the models of the app version that serves this manifest).
   */
  async isSaved(manifest: Manifest): Promise<boolean> {
    if (await (await this.#cache())?.match(cacheKey(manifest))) return true;
    const caches = this.deps.caches;
    if (!caches) return false;
    for (const name of await caches.keys()) {
      if (name === MODEL_CACHE) continue;
      const cache = await caches.open(name);
      if (await cache.match(modelFileUrl(manifest), { ignoreSearch: true })) return true;
    }
    return false;
  }

  /**
   * The model file's bytes, verified against the manifest: from the device when saved there,
   * otherwise downloaded (reporting progress) and then saved.
   */
  async modelBytes(manifest: Manifest, onProgress?: (p: Progress) => void): Promise<ArrayBuffer> {
    const cache = await this.#cache();
    const saved = await cache?.match(cacheKey(manifest));
    if (saved) {
      const bytes = await saved.arrayBuffer();
      if ((await sha256Hex(this.deps.subtle, bytes)) === manifest.sha256) return bytes;
      await cache?.delete(cacheKey(manifest)); // damaged copy: fetch it again
    }
    const bytes = await this.#download(manifest, onProgress);
    const actual = await sha256Hex(this.deps.subtle, bytes);
    if (actual !== manifest.sha256) {
      throw new ModelIntegrityError(
        `The file of "${manifest.name}" does not match its published checksum, so it was not ` +
          `used (expected SHA-256 ${manifest.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…). ` +
          'Ask your administrator to publish the model again.',
      );
    }
    await cache
      ?.put(
        cacheKey(manifest),
        new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
      )
      .catch(() => undefined); // storage full: the model still runs, it just is not kept
    return bytes;
  }

  async #download(manifest: Manifest, onProgress?: (p: Progress) => void): Promise<ArrayBuffer> {
    let response: Response;
    try {
      response = await this.deps.fetch(modelFileUrl(manifest));
    } catch {
      throw new ModelStoreError(
        `"${manifest.name}" is not saved on this device and cannot be downloaded now. ` +
          'Connect to the network once to get it.',
      );
    }
    if (!response.ok) {
      throw new ModelStoreError(
        `Could not download "${manifest.name}" (the server answered ${response.status}).`,
      );
    }
    // The manifest's size, not Content-Length: that one is the compressed size when compressed.
    const total = manifest.bytes;
    if (!response.body) return response.arrayBuffer();
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    onProgress?.({ received, total });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onProgress?.({ received, total: Math.max(total, received) });
    }
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes.buffer;
  }

  /** JSON from the network, kept for offline use; offline, the kept copy. */
  async #json(url: string, what: string): Promise<unknown> {
    const cache = await this.#cache();
    const response = await this.deps.fetch(url, { cache: 'no-cache' }).catch(() => undefined);
    if (response?.ok) {
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ModelStoreError(`The server sent something other than ${what}.`);
      }
      const copy = new Response(text, { headers: { 'content-type': 'application/json' } });
      await cache?.put(url, copy).catch(() => undefined);
      return json;
    }
    const saved = await cache?.match(url);
    if (saved) return saved.json();
    if (response) throw new ModelStoreError(`The server answered ${response.status} for ${what}.`);
    throw new ModelStoreError(
      `Cannot load ${what}: the device is offline and it has not been saved here yet.`,
    );
  }

  async #cache(): Promise<Cache | undefined> {
    try {
      return await this.deps.caches?.open(MODEL_CACHE);
    } catch {
      return undefined; // e.g. storage disabled: work without keeping anything
    }
  }
}
