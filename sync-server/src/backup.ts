import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DB_FILE_NAME } from './db/connection';
import { blobPath } from './services/blobs';

/*
 * Online backup and restore of a data folder (README "Backup and restore"). A backup is a folder
 * holding `fielddx.sqlite` and `blobs/`, the same layout as DATA_DIR, so restoring is copying it
 * into an empty DATA_DIR.
 *
 * Consistency while the server runs: the database is copied first, by `VACUUM INTO` (one read
 * transaction: a snapshot of every committed write, WAL included, never half a push). Blobs are
 * content-addressed and never change; an upload is renamed into place before its row is written,
 * so every blob the snapshot lists is on disk when the blobs are copied afterwards. Only those are
 * copied.
 */

export interface BackupSummary {
  /** Bytes of the database copy. */
  databaseBytes: number;
  blobs: number;
  blobBytes: number;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/** The sha256 of every blob a database lists. */
function listedBlobs(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], string>('SELECT sha256 FROM blobs ORDER BY sha256').pluck().all();
  } finally {
    db.close();
  }
}

async function copyBlobs(fromDataDir: string, toDataDir: string, shas: string[]) {
  let bytes = 0;
  for (const sha of shas) {
    const from = blobPath(fromDataDir, sha);
    const to = blobPath(toDataDir, sha);
    await mkdir(path.dirname(to), { recursive: true });
    // COPYFILE_EXCL: never overwrite; FICLONE: a cheap copy where the filesystem can.
    await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    bytes += (await stat(to)).size;
  }
  return bytes;
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
  const shas = listedBlobs(target);
  const blobBytes = await copyBlobs(dataDir, dest, shas);
  return { databaseBytes: (await stat(target)).size, blobs: shas.length, blobBytes };
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
  const shas = listedBlobs(source);
  await mkdir(dataDir, { recursive: true });
  const target = path.join(dataDir, DB_FILE_NAME);
  await copyFile(source, target, constants.COPYFILE_EXCL);
  const blobBytes = await copyBlobs(backupDir, dataDir, shas);
  return { databaseBytes: (await stat(target)).size, blobs: shas.length, blobBytes };
}
