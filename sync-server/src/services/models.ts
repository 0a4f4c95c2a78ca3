import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { filesystemBlobStore } from '../blob-store/filesystem';
import { BlobHashMismatchError, SHA256_HEX, type BlobStore } from '../blob-store/store';
import type { Db } from '../db/connection';
import type { ModelVersionRow } from '../db/schema';
import { ApiError } from '../errors';
import type { Logger } from '../logger';
import {
  compareVersions,
  Manifest,
  MAX_MODEL_BYTES,
  MAX_MODEL_JSON_BYTES,
  ModelVersion,
  type AdminModelItem,
  type CatalogueItem,
  type ModelStatus,
} from '../protocol';
import type { Repositories, TxRepositories } from '../repositories';
import { sqliteRepositories } from '../repositories/sqlite';
import { writeAudit, type Actor } from './audit';
import { graphMismatch } from './onnx-check';

/*
 * The model catalogue (docs/architecture.md §6). Versions live in `model_versions`; their files
 * (the graph, the input check) are content-addressed in the blob store every instance shares
 * (files under DATA_DIR/blobs, or PostgreSQL with DATABASE_URL), under the SHA-256 that the row's
 * `files` names. At start the server imports the models bundled with the app (the repository's
 * models/ folder); administrators upload new versions, which stay `staged` until activated.
 * Activating a version retires the model's previous active one, which is also how a version is
 * rolled back.
 */

export interface ModelDeps {
  repos: Repositories;
  /** Where model files go: the same store as the images (AppDeps.blobStore). */
  blobStore: BlobStore;
  /** Where earlier versions kept model files (DATA_DIR/models/), copied into the store at start. */
  dataDir: string;
  now: () => Date;
}

/**
 * Legacy: the server entry (index.ts) still passes its SQLite database (issue 17); to be removed
 * once it passes `repos` and `blobStore`. Its model files go to the filesystem store.
 */
export interface LegacyModelDeps {
  db: Db;
  dataDir: string;
  now: () => Date;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Where versions before the shared store kept each model file: DATA_DIR/models/<sha256>. Read
 * only to bring such files into the store (at start, and by the backup and the move).
 */
export const legacyModelFilesDir = (dataDir: string) => path.join(dataDir, 'models');
export const legacyModelFilePath = (dataDir: string, hash: string) =>
  path.join(legacyModelFilesDir(dataDir), hash);

/** The SHA-256 of every file a catalogue row names (`model_versions.files`), without repeats. */
export function modelFileHashes(files: Iterable<Record<string, string>>): string[] {
  const hashes = new Set<string>();
  for (const named of files) for (const hash of Object.values(named)) hashes.add(hash);
  return [...hashes].sort();
}

/** Stores bytes under their sha256 (idempotent: content-addressed) and returns it. */
async function storeFile(store: BlobStore, bytes: Uint8Array): Promise<string> {
  const hash = sha256(bytes);
  if (!(await store.has(hash))) await store.put(hash, bytes);
  return hash;
}

/**
 * Copies into the store the model files an earlier version kept under DATA_DIR/models/ that the
 * store lacks, so that an upgrade loses no uploaded model. Idempotent (a file the store holds is
 * skipped) and checked: a file whose bytes do not hash to its name is left out with a warning.
 * The old files are left where they are. Returns how many it copied.
 */
export async function copyLegacyModelFiles(
  deps: Pick<ModelDeps, 'blobStore' | 'dataDir'>,
  logger: Pick<Logger, 'warn'>,
): Promise<number> {
  const names = await readdir(legacyModelFilesDir(deps.dataDir)).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  let copied = 0;
  // Temporary files (<sha256>.<uuid>.tmp) a crash left are not model files.
  for (const hash of names.filter((name) => SHA256_HEX.test(name)).sort()) {
    if (await deps.blobStore.has(hash)) continue;
    try {
      await deps.blobStore.put(
        hash,
        createReadStream(legacyModelFilePath(deps.dataDir, hash)) as AsyncIterable<Buffer>,
      );
      copied++;
    } catch (error) {
      if (!(error instanceof BlobHashMismatchError)) throw error;
      logger.warn('damaged model file not copied', { sha256: hash });
    }
  }
  return copied;
}

function toItem(row: ModelVersionRow): CatalogueItem {
  return {
    id: row.id,
    version: row.version,
    name: row.name,
    modality: row.modality,
    task: row.task,
    bytes: row.bytes,
    sha256: row.sha256,
    status: row.status,
    releaseNotes: row.releaseNotes,
    activatedAt: row.activatedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** What tablets see: active and retired versions (staged ones are not published yet). */
export async function listCatalogue(
  repos: Pick<TxRepositories, 'models'>,
): Promise<CatalogueItem[]> {
  const rows = await repos.models.listVersions({ statuses: ['active', 'retired'] });
  return rows.map(toItem);
}

const toAdminItem = (row: ModelVersionRow): AdminModelItem => ({
  ...toItem(row),
  source: row.source,
  createdBy: row.createdBy,
});

/** Every version, staged ones included; only those of model `id` when given. */
export async function listAllVersions(
  repos: Pick<TxRepositories, 'models'>,
  id?: string,
): Promise<AdminModelItem[]> {
  const rows = await repos.models.listVersions(id === undefined ? {} : { id });
  return rows.map(toAdminItem);
}

export function getVersion(
  repos: Pick<TxRepositories, 'models'>,
  id: string,
  version: string,
): Promise<ModelVersionRow | undefined> {
  return repos.models.getVersion(id, version);
}

/** A published version (active or retired), or 404; staged versions only for administrators. */
export async function publishedVersion(
  repos: Pick<TxRepositories, 'models'>,
  id: string,
  version: string,
  isAdmin: boolean,
): Promise<ModelVersionRow> {
  const row = await getVersion(repos, id, version);
  if (!row || (row.status === 'staged' && !isAdmin)) {
    throw new ApiError(404, 'not_found', `No model ${id} version ${version}`);
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// Checking a version before it is stored

export interface ModelFiles {
  manifest: unknown;
  model: Uint8Array;
  /** The input check's parameters, when the manifest names one (input.image.check). */
  check?: Uint8Array;
}

const invalid = (message: string) => new ApiError(422, 'invalid_model', message);

function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * Checks a model version against the manifest contract: the manifest itself, the file's size and
 * sha256, the graph's inputs and outputs (by running it once), and the side file it names.
 */
export async function checkModelFiles(files: ModelFiles): Promise<Manifest> {
  const parsed = Manifest.safeParse(files.manifest);
  if (!parsed.success) {
    throw invalid(`The manifest does not follow the contract: ${describeIssues(parsed.error)}`);
  }
  const manifest = parsed.data;
  const version = ModelVersion.safeParse(manifest.version);
  if (!version.success) throw invalid(`The manifest's version ${version.error.issues[0]!.message}`);
  if (files.model.byteLength > MAX_MODEL_BYTES) {
    throw invalid(`The model file is larger than ${MAX_MODEL_BYTES / 1024 / 1024} MiB`);
  }
  if (files.model.byteLength !== manifest.bytes) {
    throw invalid(
      `The model file has ${files.model.byteLength} bytes; the manifest says ${manifest.bytes}`,
    );
  }
  const actual = sha256(files.model);
  if (actual !== manifest.sha256) {
    throw invalid(`The model file's sha256 is ${actual}; the manifest says ${manifest.sha256}`);
  }
  const mismatch = await graphMismatch(manifest, files.model);
  if (mismatch) throw invalid(`The graph does not match the manifest: ${mismatch}`);
  const checkName = manifest.modality === 'image' ? manifest.input.image.check : undefined;
  if (checkName && !files.check) {
    throw invalid(`The manifest names an input check (${checkName}); upload it too`);
  }
  if (files.check) {
    if (!checkName) throw invalid('An input check was uploaded but the manifest names none');
    if (files.check.byteLength > MAX_MODEL_JSON_BYTES)
      throw invalid('The input check is too large');
    try {
      JSON.parse(new TextDecoder().decode(files.check));
    } catch {
      throw invalid(`The input check (${checkName}) is not JSON`);
    }
  }
  return manifest;
}

/** Stores the version's files (content-addressed, idempotent) and returns its row, not yet written. */
async function storeFiles(
  deps: Pick<ModelDeps, 'blobStore' | 'now'>,
  manifest: Manifest,
  raw: Record<string, unknown>,
  files: ModelFiles,
  meta: {
    status: ModelStatus;
    source: 'bundled' | 'uploaded';
    createdBy: string | null;
    releaseNotes: string;
  },
): Promise<ModelVersionRow> {
  const stored: Record<string, string> = {
    [manifest.file]: await storeFile(deps.blobStore, files.model),
  };
  if (manifest.modality === 'image' && manifest.input.image.check && files.check) {
    stored[manifest.input.image.check] = await storeFile(deps.blobStore, files.check);
  }
  const now = deps.now();
  return {
    id: manifest.id,
    version: manifest.version,
    name: manifest.name,
    modality: manifest.modality,
    task: manifest.task,
    bytes: manifest.bytes,
    sha256: manifest.sha256,
    status: meta.status,
    releaseNotes: meta.releaseNotes,
    manifest: raw,
    files: stored,
    source: meta.source,
    createdBy: meta.createdBy,
    createdAt: now,
    activatedAt: meta.status === 'active' ? now : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Administrators

export async function uploadVersion(
  deps: ModelDeps,
  actor: Actor,
  files: ModelFiles,
  releaseNotes: string,
): Promise<AdminModelItem> {
  const manifest = await checkModelFiles(files);
  const exists = () =>
    new ApiError(
      409,
      'model_version_exists',
      `${manifest.id} ${manifest.version} is already in the catalogue; give the new one another version`,
    );
  // Refused before its files are written; the conditional insert below settles a race.
  if (await getVersion(deps.repos, manifest.id, manifest.version)) throw exists();
  const row = await storeFiles(deps, manifest, files.manifest as Record<string, unknown>, files, {
    status: 'staged',
    source: 'uploaded',
    createdBy: actor.userId,
    releaseNotes,
  });
  await deps.repos.transaction(async (tx) => {
    // INSERT … ON CONFLICT DO NOTHING: of two uploads of one version at once, one gets the 409.
    if (!(await tx.models.insertVersion(row))) throw exists();
    await writeAudit(tx, actor, 'model.upload', `${row.id}@${row.version}`, {
      sha256: row.sha256,
    });
  });
  return toAdminItem(row);
}

const noVersion = (id: string, version: string) =>
  new ApiError(404, 'not_found', `No model ${id} version ${version}`);

/** Makes a version the active one of its model; the previous active version is retired. */
export function activateVersion(
  deps: Pick<ModelDeps, 'repos'>,
  actor: Actor,
  id: string,
  version: string,
): Promise<AdminModelItem[]> {
  return deps.repos.transaction(async (tx) => {
    // The model's lock (ModelsRepository.lockModel) first: two administrators activating two
    // versions at once, on two instances, run one after the other, and the second reads the
    // first's result as its `previous`. The partial unique index model_versions_one_active is the
    // backstop: never two active versions of a model.
    await tx.models.lockModel(id);
    const versions = await tx.models.listVersions({ id });
    if (!versions.some((v) => v.version === version)) throw noVersion(id, version);
    const previous = versions.find((v) => v.status === 'active');
    if (previous?.version !== version) await tx.models.setActive(id, version, actor.at);
    await writeAudit(tx, actor, 'model.activate', `${id}@${version}`, {
      previous: previous?.version ?? null,
    });
    return listAllVersions(tx, id);
  });
}

export function retireVersion(
  deps: Pick<ModelDeps, 'repos'>,
  actor: Actor,
  id: string,
  version: string,
) {
  return deps.repos.transaction(async (tx) => {
    // Locked like an activation, so that the audit's `was` is the status this retirement ended.
    await tx.models.lockModel(id);
    const row = await tx.models.getVersion(id, version);
    if (!row) throw noVersion(id, version);
    await tx.models.retire(id, version);
    await writeAudit(tx, actor, 'model.retire', `${id}@${version}`, { was: row.status });
    return listAllVersions(tx, id);
  });
}

// ---------------------------------------------------------------------------------------------
// The models bundled with the app

/**
 * Imports the models of `<bundledDir>/index.json` that the catalogue does not know yet. A bundled
 * version becomes active when it is newer than every version of its model the server knows;
 * otherwise it is kept as retired. A version already known is never changed, so an administrator's
 * rollback survives a restart; only its files, when the store lacks them and the bundled ones are
 * the same bytes, are stored again. A bundled model whose files do not match its manifest is
 * skipped with a warning. Several instances starting at once import each version once (the
 * model's lock). First, the model files an earlier version kept under DATA_DIR/models/ are copied
 * into the store (copyLegacyModelFiles).
 */
export async function importBundledModels(
  given: ModelDeps | LegacyModelDeps,
  bundledDir: string,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<number> {
  const deps: ModelDeps =
    'repos' in given
      ? given
      : {
          repos: sqliteRepositories(given.db),
          blobStore: filesystemBlobStore(given.dataDir),
          dataDir: given.dataDir,
          now: given.now,
        };
  const copied = await copyLegacyModelFiles(deps, logger);
  if (copied > 0) logger.info('model files copied into the blob store', { count: copied });
  const indexPath = path.join(bundledDir, 'index.json');
  if (!existsSync(indexPath)) return 0;
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as { path?: string }[];
  let imported = 0;
  for (const entry of Array.isArray(index) ? index : []) {
    if (typeof entry.path !== 'string') continue;
    const manifestPath = path.join(bundledDir, entry.path);
    try {
      const raw = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
      const parsed = Manifest.safeParse(raw);
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
      const manifest = parsed.data;
      const folder = path.dirname(manifestPath);
      const checkName = manifest.modality === 'image' ? manifest.input.image.check : undefined;
      const known = await getVersion(deps.repos, manifest.id, manifest.version);
      if (known) {
        await restoreBundledFiles(deps.blobStore, known.files, folder, logger);
        continue;
      }
      const model = new Uint8Array(await readFile(path.join(folder, manifest.file)));
      const check = checkName
        ? new Uint8Array(await readFile(path.join(folder, checkName)))
        : undefined;
      if (sha256(model) !== manifest.sha256)
        throw new Error('model.onnx does not match its sha256');
      const row = await storeFiles(
        deps,
        manifest,
        raw,
        { manifest: raw, model, check },
        {
          status: 'retired',
          source: 'bundled',
          createdBy: null,
          releaseNotes: 'Bundled with the app.',
        },
      );
      const active = await deps.repos.transaction(async (tx) => {
        await tx.models.lockModel(manifest.id);
        const known = await tx.models.listVersions({ id: manifest.id });
        // Another instance imported it since the check above.
        if (known.some((k) => k.version === manifest.version)) return undefined;
        const newest = known.every((k) => compareVersions(manifest.version, k.version) > 0);
        if (!(await tx.models.insertVersion(row))) return undefined;
        if (newest) await tx.models.setActive(manifest.id, manifest.version, deps.now());
        return newest;
      });
      if (active === undefined) continue;
      imported++;
      logger.info('model imported', { id: manifest.id, version: manifest.version, active });
    } catch (error) {
      logger.warn('bundled model skipped', {
        path: entry.path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return imported;
}

/**
 * A known version's files that the store lacks (a store emptied or moved without them), stored
 * again from the bundled folder where its file of that name has the same SHA-256.
 */
async function restoreBundledFiles(
  store: BlobStore,
  files: Record<string, string>,
  folder: string,
  logger: Pick<Logger, 'info'>,
): Promise<void> {
  for (const [name, hash] of Object.entries(files)) {
    if (await store.has(hash)) continue;
    // A name of the catalogue's row, not a path from outside: still, only a plain file name.
    if (path.basename(name) !== name) continue;
    const bytes = await readFile(path.join(folder, name)).catch(() => null);
    if (!bytes || sha256(bytes) !== hash) continue;
    await store.put(hash, bytes);
    logger.info('bundled model file stored again', { sha256: hash });
  }
}
