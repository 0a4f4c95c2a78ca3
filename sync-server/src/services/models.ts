import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { modelVersions, type ModelVersionRow } from '../db/schema';
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
import { writeAuditDb, type Actor } from './audit';
import { graphMismatch } from './onnx-check';

/*
 * The model catalogue (docs/architecture.md §6). Versions live in `model_versions`; their files are
 * content-addressed under DATA_DIR/models/<sha256>. At start the server imports the models bundled
 * with the app (the repository's models/ folder); administrators upload new versions, which stay
 * `staged` until activated. Activating a version retires the model's previous active one, which is
 * also how a version is rolled back.
 */

export interface ModelDeps {
  db: Db;
  dataDir: string;
  now: () => Date;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const filesDir = (dataDir: string) => path.join(dataDir, 'models');
export const modelFilePath = (dataDir: string, hash: string) => path.join(filesDir(dataDir), hash);

/** Writes bytes under their sha256 (via a temporary file, so a crash leaves no half file). */
async function storeFile(dataDir: string, bytes: Uint8Array): Promise<string> {
  const hash = sha256(bytes);
  const target = modelFilePath(dataDir, hash);
  if (existsSync(target)) return hash;
  await mkdir(filesDir(dataDir), { recursive: true });
  const tmp = `${target}.${randomUUID()}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, target);
  return hash;
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
export function listCatalogue(db: Db): CatalogueItem[] {
  return db
    .select()
    .from(modelVersions)
    .where(inArray(modelVersions.status, ['active', 'retired']))
    .orderBy(asc(modelVersions.id), asc(modelVersions.createdAt))
    .all()
    .map(toItem);
}

export function listAllVersions(db: Db): AdminModelItem[] {
  return db
    .select()
    .from(modelVersions)
    .orderBy(asc(modelVersions.id), asc(modelVersions.createdAt))
    .all()
    .map((row) => ({ ...toItem(row), source: row.source, createdBy: row.createdBy }));
}

export function getVersion(db: Db, id: string, version: string): ModelVersionRow | undefined {
  return db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
    .get();
}

/** A published version (active or retired), or 404; staged versions only for administrators. */
export function publishedVersion(
  db: Db,
  id: string,
  version: string,
  isAdmin: boolean,
): ModelVersionRow {
  const row = getVersion(db, id, version);
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

async function storeVersion(
  deps: ModelDeps,
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
    [manifest.file]: await storeFile(deps.dataDir, files.model),
  };
  if (manifest.modality === 'image' && manifest.input.image.check && files.check) {
    stored[manifest.input.image.check] = await storeFile(deps.dataDir, files.check);
  }
  const now = deps.now();
  const row: ModelVersionRow = {
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
  deps.db.insert(modelVersions).values(row).run();
  return row;
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
  if (getVersion(deps.db, manifest.id, manifest.version)) {
    throw new ApiError(
      409,
      'model_version_exists',
      `${manifest.id} ${manifest.version} is already in the catalogue; give the new one another version`,
    );
  }
  const row = await storeVersion(deps, manifest, files.manifest as Record<string, unknown>, files, {
    status: 'staged',
    source: 'uploaded',
    createdBy: actor.userId,
    releaseNotes,
  });
  writeAuditDb(deps.db, actor, 'model.upload', `${row.id}@${row.version}`, { sha256: row.sha256 });
  return { ...toItem(row), source: row.source, createdBy: row.createdBy };
}

function setActive(db: Db, id: string, version: string, at: Date): void {
  db.update(modelVersions)
    .set({ status: 'retired' })
    .where(and(eq(modelVersions.id, id), eq(modelVersions.status, 'active')))
    .run();
  db.update(modelVersions)
    .set({ status: 'active', activatedAt: at })
    .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
    .run();
}

/** Makes a version the active one of its model; the previous active version is retired. */
export function activateVersion(deps: ModelDeps, actor: Actor, id: string, version: string) {
  return deps.db.transaction((tx) => {
    const row = getVersion(tx as unknown as Db, id, version);
    if (!row) throw new ApiError(404, 'not_found', `No model ${id} version ${version}`);
    const previous = tx
      .select({ version: modelVersions.version })
      .from(modelVersions)
      .where(and(eq(modelVersions.id, id), eq(modelVersions.status, 'active')))
      .get();
    if (previous?.version !== version) setActive(tx as unknown as Db, id, version, actor.at);
    writeAuditDb(tx, actor, 'model.activate', `${id}@${version}`, {
      previous: previous?.version ?? null,
    });
    return listAllVersions(tx as unknown as Db).filter((m) => m.id === id);
  });
}

export function retireVersion(deps: ModelDeps, actor: Actor, id: string, version: string) {
  return deps.db.transaction((tx) => {
    const row = getVersion(tx as unknown as Db, id, version);
    if (!row) throw new ApiError(404, 'not_found', `No model ${id} version ${version}`);
    tx.update(modelVersions)
      .set({ status: 'retired' })
      .where(and(eq(modelVersions.id, id), eq(modelVersions.version, version)))
      .run();
    writeAuditDb(tx, actor, 'model.retire', `${id}@${version}`, { was: row.status });
    return listAllVersions(tx as unknown as Db).filter((m) => m.id === id);
  });
}

// ---------------------------------------------------------------------------------------------
// The models bundled with the app

/**
 * Imports the models of `<bundledDir>/index.json` that the catalogue does not know yet. A bundled
 * version becomes active when it is newer than every version of its model the server knows;
 * otherwise it is kept as retired. A version already known is never changed, so an administrator's
 * rollback survives a restart. A bundled model whose files do not match its manifest is skipped
 * with a warning.
 */
export async function importBundledModels(
  deps: ModelDeps,
  bundledDir: string,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<number> {
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
      if (getVersion(deps.db, manifest.id, manifest.version)) continue;
      const folder = path.dirname(manifestPath);
      const model = new Uint8Array(await readFile(path.join(folder, manifest.file)));
      const checkName = manifest.modality === 'image' ? manifest.input.image.check : undefined;
      const check = checkName
        ? new Uint8Array(await readFile(path.join(folder, checkName)))
        : undefined;
      if (sha256(model) !== manifest.sha256)
        throw new Error('model.onnx does not match its sha256');
      const known = deps.db
        .select({ version: modelVersions.version })
        .from(modelVersions)
        .where(eq(modelVersions.id, manifest.id))
        .all();
      const newest = known.every((k) => compareVersions(manifest.version, k.version) > 0);
      await storeVersion(
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
      if (newest) setActive(deps.db, manifest.id, manifest.version, deps.now());
      imported++;
      logger.info('model imported', { id: manifest.id, version: manifest.version, active: newest });
    } catch (error) {
      logger.warn('bundled model skipped', {
        path: entry.path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return imported;
}
