import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  assertRange,
  assertSha256,
  BlobHashMismatchError,
  hashingChunks,
  SHA256_HEX,
  type BlobBody,
  type BlobStore,
  type PutOptions,
} from './store';

/*
 * The default store (DESIGN 4): DATA_DIR/blobs/ab/cd/<sha256>. An upload is streamed to a
 * temporary file under DATA_DIR/blobs/tmp while its SHA-256 is computed, fsynced, then renamed into
 * place: a crash leaves at worst an orphan temporary file, never a file with the wrong bytes. The
 * layout is the one backups and existing data folders have (backup.ts copies these files).
 */

export const blobsDir = (dataDir: string) => path.join(dataDir, 'blobs');
const uploadsDir = (dataDir: string) => path.join(blobsDir(dataDir), 'tmp');

export function blobPath(dataDir: string, sha256: string): string {
  return path.join(blobsDir(dataDir), sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

const missingIsEmpty = (error: NodeJS.ErrnoException): string[] => {
  if (error.code === 'ENOENT') return [];
  throw error;
};

/**
 * Deletes uploads a dead process left half-written (killed mid-upload): the temporary files not
 * written to since `idleSince`. Not every file: with several instances on one data folder,
 * another instance may be receiving an upload right now. Returns how many it removed.
 */
export async function removeUnfinishedUploads(dataDir: string, idleSince: Date): Promise<number> {
  const dir = uploadsDir(dataDir);
  const names = await readdir(dir).catch(missingIsEmpty);
  const removed = await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null); // finished (renamed) meanwhile
      if (!info || info.mtimeMs >= idleSince.getTime()) return false;
      await rm(file, { force: true });
      return true;
    }),
  );
  return removed.filter(Boolean).length;
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export function filesystemBlobStore(dataDir: string): BlobStore {
  return {
    kind: 'filesystem',

    async put(sha256: string, body: BlobBody, options: PutOptions = {}) {
      assertSha256(sha256);
      const tmpDir = uploadsDir(dataDir);
      await mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `${randomUUID()}.part`);
      const { chunks, result } = hashingChunks(body, options.maxBytes);
      try {
        const fh = await open(tmp, 'wx');
        try {
          for await (const chunk of chunks) await fh.write(chunk);
          await fh.sync();
        } finally {
          await fh.close();
        }
        const { bytes, sha256: actual } = result();
        if (actual !== sha256) throw new BlobHashMismatchError(sha256);
        const file = blobPath(dataDir, sha256);
        await mkdir(path.dirname(file), { recursive: true });
        // Same name, same bytes: replacing a blob already there changes nothing.
        await rename(tmp, file);
        return { bytes };
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    },

    has: async (sha256) => SHA256_HEX.test(sha256) && exists(blobPath(dataDir, sha256)),

    async size(sha256) {
      if (!SHA256_HEX.test(sha256)) return null;
      const info = await stat(blobPath(dataDir, sha256)).catch(() => null);
      return info?.isFile() ? info.size : null;
    },

    async getStream(sha256, range) {
      if (!SHA256_HEX.test(sha256)) return null;
      const file = blobPath(dataDir, sha256);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) return null;
      if (range) assertRange(range, info.size);
      return Readable.toWeb(createReadStream(file, range)) as ReadableStream<Uint8Array>;
    },

    async getBuffer(sha256) {
      if (!SHA256_HEX.test(sha256)) return null;
      return readFile(blobPath(dataDir, sha256)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
    },

    async delete(sha256) {
      if (!SHA256_HEX.test(sha256)) return false;
      const file = blobPath(dataDir, sha256);
      if (!(await exists(file))) return false;
      await rm(file, { force: true });
      return true;
    },

    async *list() {
      const root = blobsDir(dataDir);
      const level = /^[0-9a-f]{2}$/;
      for (const a of (await readdir(root).catch(missingIsEmpty))
        .filter((n) => level.test(n))
        .sort()) {
        const dirA = path.join(root, a);
        for (const b of (await readdir(dirA).catch(missingIsEmpty))
          .filter((n) => level.test(n))
          .sort()) {
          const names = await readdir(path.join(dirA, b)).catch(missingIsEmpty);
          // Only files in their right place: ab/cd/abcd…
          yield* names.filter((n) => SHA256_HEX.test(n) && n.startsWith(a + b)).sort();
        }
      }
    },

    removeUnfinished: (idleSince) => removeUnfinishedUploads(dataDir, idleSince),
  };
}
