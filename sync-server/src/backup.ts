import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DB_FILE_NAME } from './db/connection';
import { blobPath } from './services/blobs';
import { legacyModelFilePath, modelFileHashes } from './services/models';

/*
 * Online backup and restore of a data folder (README "Backup and restore"). A backup is a folder
 * holding `fielddx.sqlite` and `blobs/`, the same layout as DATA_DIR, so restoring is copying it
 * into an empty DATA_DIR.
 *
 * Consistency while the server runs: the database is copied first, by `VACUUM INTO` (one read
 * transaction: a snapshot of every committed write, WAL included, never half a push). Blobs are
 * content-addressed and never change; an upload is renamed into place before its row is written,
 * so every blob the snapshot lists is on disk when the blobs are copied afterwards. Only those are
 * copied: the images the `blobs` table lists, and the model files the catalogue
 * (`model_versions.files`) lists, which live in the same store (services/models.ts), or, in a data
 * folder the current version has not started on yet, under models/ (copied into blobs/ here).
 */

export interface BackupSummary {
  /** Bytes of the database copy. */
  databaseBytes: number;
  blobs: number;
  blobBytes: number;
  /** Model files the catalogue lists, copied (those that are also images count as images). */
  modelFiles: number;
  modelFileBytes: number;
  /**
   * Model files the catalogue lists that the source lacks: a backup made before model files were
   * backed up, or a data folder that lost them. Not an error: the server stores a bundled
   * version's file again at start; an uploaded one must be uploaded again.
   */
  modelFilesMissing: number;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/** The sha256 of every image blob a database lists, and of every model file not among them. */
function listedBlobs(file: string): { blobs: string[]; modelFiles: string[] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const blobs = db.prepare<[], string>('SELECT sha256 FROM blobs ORDER BY sha256').pluck().all();
    const files = db
      .prepare<[], string>('SELECT files FROM model_versions')
      .pluck()
      .all()
      .map((json) => JSON.parse(json) as Record<string, string>);
    const images = new Set(blobs);
    return { blobs, modelFiles: modelFileHashes(files).filter((sha) => !images.has(sha)) };
  } finally {
    db.close();
  }
}

const isFile = (file: string) =>
  stat(file).then(
    (s) => s.isFile(),
    () => false,
  );

async function copyOne(from: string, to: string): Promise<number> {
  await mkdir(path.dirname(to), { recursive: true });
  // COPYFILE_EXCL: never overwrite; FICLONE: a cheap copy where the filesystem can.
  await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  return (await stat(to)).size;
}

async function copyBlobs(fromDataDir: string, toDataDir: string, shas: string[]) {
  let bytes = 0;
  for (const sha of shas)
    bytes += await copyOne(blobPath(fromDataDir, sha), blobPath(toDataDir, sha));
  return bytes;
}

/** Model files into the blob layout, from it or from the one earlier versions used (models/). */
async function copyModelFiles(fromDataDir: string, toDataDir: string, shas: string[]) {
  let copied = 0;
  let bytes = 0;
  for (const sha of shas) {
    const from = [blobPath(fromDataDir, sha), legacyModelFilePath(fromDataDir, sha)];
    const found = (await isFile(from[0]!)) ? from[0] : (await isFile(from[1]!)) ? from[1] : null;
    if (!found) continue;
    bytes += await copyOne(found, blobPath(toDataDir, sha));
    copied += 1;
  }
  return { modelFiles: copied, modelFileBytes: bytes, modelFilesMissing: shas.length - copied };
}

/** Takes a consistent backup of `dataDir` (in use or not) into `dest`, which must be empty. */
export async function backup(dataDir: string, dest: string): Promise<BackupSummary> {
  if (!(await isEmptyOrMissing(dest))) throw new Error(`${dest} is not empty`);
  await mkdir(dest, { recursive: true });
  const source = path.join(dataDir, DB_FILE_NAME);
  const target = path.join(dest, DB_FILE_NAME);
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const listed = listedBlobs(target);
  const blobBytes = await copyBlobs(dataDir, dest, listed.blobs);
  const models = await copyModelFiles(dataDir, dest, listed.modelFiles);
  return {
    databaseBytes: (await stat(target)).size,
    blobs: listed.blobs.length,
    blobBytes,
    ...models,
  };
}

/**
 * Restores a backup into `dataDir`, which must be empty (stop the server, move the old folder
 * aside). Checks the database first (`PRAGMA integrity_check`) and that every blob it lists is in
 * the backup.
 */
export async function restore(backupDir: string, dataDir: string): Promise<BackupSummary> {
  if (!(await isEmptyOrMissing(dataDir))) throw new Error(`${dataDir} is not empty`);
  const source = path.join(backupDir, DB_FILE_NAME);
  const check = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const result = check.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new Error(`${source} is damaged: ${String(result)}`);
  } finally {
    check.close();
  }
  const listed = listedBlobs(source);
  await mkdir(dataDir, { recursive: true });
  const target = path.join(dataDir, DB_FILE_NAME);
  await copyFile(source, target, constants.COPYFILE_EXCL);
  const blobBytes = await copyBlobs(backupDir, dataDir, listed.blobs);
  const models = await copyModelFiles(backupDir, dataDir, listed.modelFiles);
  return {
    databaseBytes: (await stat(target)).size,
    blobs: listed.blobs.length,
    blobBytes,
    ...models,
  };
}
