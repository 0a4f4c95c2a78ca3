// Model files and descriptions, from the app's own build or the server's catalogue: fetched,
// checked against the manifest's SHA-256 before use, and kept in Cache Storage so a model once
// used works offline. An interrupted download is kept and resumed with a Range request.
import { ModelCatalogueResponse, type CatalogueItem } from 'sync-server/protocol';
import { parseInputCheck, type InputCheckSpec } from './input-check';
import {
  catalogueUrl,
  manifestUrl,
  modelFileUrl,
  parseCatalogue,
  parseManifest,
  SERVER_CATALOGUE_URL,
  type CatalogueEntry,
  type Manifest,
  type ModelSource,
} from './manifest';
import {
  chooseVersions,
  serverEntry,
  type CatalogueChoice,
  type SavedVersion,
} from './model-catalogue';

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
/** Where the received part of an interrupted download waits to be resumed. */
const partialKey = (m: Manifest) => `${cacheKey(m)}&partial`;
/** The server versions downloaded and verified on this device (SavedVersion[]). */
const SAVED_VERSIONS_KEY = '/fielddx/saved-model-versions.json';

export class ModelStore {
  constructor(private readonly deps: ModelStoreDeps = browserDeps()) {}

  /** What Diagnose offers: one version per model (see model-catalogue.ts). */
  async catalogue(): Promise<CatalogueEntry[]> {
    return (await this.catalogueChoice()).entries;
  }

  /** The bundled models, the server's catalogue as last seen, and what is on the device. */
  async catalogueChoice(): Promise<CatalogueChoice> {
    const bundled = parseCatalogue(await this.#json(catalogueUrl(), 'the model catalogue'));
    return chooseVersions(bundled, await this.serverCatalogue(), await this.savedVersions());
  }

  /**
   * The server's catalogue: fresh when the server answers, else the copy kept from the last
   * answer, else null (never reached it yet, or not signed in).
   */
  async serverCatalogue(): Promise<CatalogueItem[] | null> {
    try {
      const json = await this.#json(SERVER_CATALOGUE_URL, 'the server model catalogue');
      return ModelCatalogueResponse.parse(json).models;
    } catch {
      return null;
    }
  }

  /**
   * The manifest of one exact version, e.g. the one that made a saved result: the app's own copy
   * when it bundles that version, else the server's (kept on the device once read). Without a
   * version, the version the device offers now.
   */
  async manifestOf(id: string, version?: string): Promise<Manifest> {
    const bundled = parseCatalogue(await this.#json(catalogueUrl(), 'the model catalogue'));
    const own = bundled.find((e) => e.id === id && (!version || e.version === version));
    if (own) return this.manifest(own);
    const offered = (await this.catalogue()).find((e) => e.id === id);
    const entry = version
      ? { id, version, name: id, path: `${id}/manifest.json`, source: 'server' as const }
      : offered;
    if (!entry) throw new ModelStoreError(`No model "${id}" is known on this device.`);
    return parseManifest(await this.#json(manifestUrl(entry), `the description of ${id}`), id);
  }

  /** The input check the manifest names (input.image.check), kept for offline use; else null. */
  async inputCheck(
    manifest: Manifest,
    source: ModelSource = 'bundled',
  ): Promise<InputCheckSpec | null> {
    const name = manifest.modality === 'image' ? manifest.input.image.check : undefined;
    if (!name) return null;
    const url = modelFileUrl({ ...manifest, file: name }, source);
    return parseInputCheck(await this.#json(url, `the input check of ${manifest.name}`));
  }

  async savedVersions(): Promise<SavedVersion[]> {
    const saved = await (await this.#cache())?.match(SAVED_VERSIONS_KEY);
    return saved ? ((await saved.json()) as SavedVersion[]) : [];
  }

  async #markSaved(m: Manifest): Promise<void> {
    const others = (await this.savedVersions()).filter(
      (s) => !(s.id === m.id && s.version === m.version),
    );
    const list = [...others, { id: m.id, version: m.version, sha256: m.sha256 }];
    await (
      await this.#cache()
    )
      ?.put(SAVED_VERSIONS_KEY, Response.json(list))
      .catch(() => undefined);
  }

  /**
   * Downloads one published server version (manifest, then file) and keeps it once verified.
   * Returns its manifest. A file that does not match is discarded (ModelIntegrityError); an
   * interrupted one is kept to resume next time.
   */
  async downloadVersion(
    item: CatalogueItem,
    onProgress?: (p: Progress) => void,
  ): Promise<Manifest> {
    const manifest = await this.manifest(serverEntry(item));
    if (manifest.sha256 !== item.sha256 || manifest.version !== item.version) {
      throw new ModelIntegrityError(
        `The description of "${item.name}" ${item.version} does not match the catalogue.`,
      );
    }
    await this.modelBytes(manifest, onProgress, 'server');
    return manifest;
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
  async modelBytes(
    manifest: Manifest,
    onProgress?: (p: Progress) => void,
    source: ModelSource = 'bundled',
  ): Promise<ArrayBuffer> {
    const cache = await this.#cache();
    const saved = await cache?.match(cacheKey(manifest));
    if (saved) {
      const bytes = await saved.arrayBuffer();
      if ((await sha256Hex(this.deps.subtle, bytes)) === manifest.sha256) return bytes;
      await cache?.delete(cacheKey(manifest)); // damaged copy: fetch it again
    }
    const bytes = await this.#download(manifest, source, onProgress);
    const actual = await sha256Hex(this.deps.subtle, bytes);
    if (actual !== manifest.sha256) {
      await cache?.delete(partialKey(manifest));
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
    await cache?.delete(partialKey(manifest));
    if (source === 'server') await this.#markSaved(manifest);
    return bytes;
  }

  async #download(
    manifest: Manifest,
    source: ModelSource,
    onProgress?: (p: Progress) => void,
  ): Promise<ArrayBuffer> {
    const cache = await this.#cache();
    const partial = await cache?.match(partialKey(manifest));
    const head = partial ? new Uint8Array(await partial.arrayBuffer()) : new Uint8Array(0);
    let response: Response;
    try {
      response = await this.deps.fetch(
        modelFileUrl(manifest, source),
        head.byteLength ? { headers: { Range: `bytes=${head.byteLength}-` } } : undefined,
      );
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
    // Resumed only when the server sent the rest; a whole file starts over.
    const chunks: Uint8Array[] = response.status === 206 ? [head] : [];
    let received = chunks[0]?.byteLength ?? 0;
    // The manifest's size, not Content-Length: that one is the compressed size when compressed.
    const total = manifest.bytes;
    onProgress?.({ received, total });
    if (!response.body) {
      chunks.push(new Uint8Array(await response.arrayBuffer()));
      return concat(chunks);
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        onProgress?.({ received, total: Math.max(total, received) });
      }
    } catch {
      // Keep what arrived: the next attempt asks only for the rest.
      const kept = concat(chunks);
      await cache?.put(partialKey(manifest), new Response(kept)).catch(() => undefined);
      throw new ModelStoreError(
        `The download of "${manifest.name}" stopped after ${formatMB(received)} of ` +
          `${formatMB(total)}; it will resume from there.`,
      );
    }
    return concat(chunks);
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

function concat(chunks: Uint8Array[]): ArrayBuffer {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

const formatMB = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
