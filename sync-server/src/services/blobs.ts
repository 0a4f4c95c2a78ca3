import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Db } from '../db/connection';
import { blobs, blobTeams, reviewDiagnoses } from '../db/schema';
import { ApiError, notFound } from '../errors';
import { MAX_BLOB_BYTES, type BlobPutResponse } from '../protocol';
import type { Scope } from './scope';

/*
 * Content-addressed blobs (DESIGN 4): DATA_DIR/blobs/ab/cd/<sha256>. An upload is streamed to a
 * temporary file under DATA_DIR/blobs/tmp while its SHA-256 is computed, fsynced, then renamed into
 * place, and only then recorded in the database: a crash leaves at worst an orphan temporary file
 * or an unrecorded (correct) file that the next upload replaces.
 */

export const blobsDir = (dataDir: string) => path.join(dataDir, 'blobs');
const uploadsDir = (dataDir: string) => path.join(blobsDir(dataDir), 'tmp');

/** An upload's temporary file not written to for this long was left by a process that died. */
export const UPLOAD_IDLE_MS = 60 * 60 * 1000;

/**
 * Deletes uploads a dead process left half-written (killed mid-upload): the temporary files not
 * written to since `idleSince`. Not every file: with several instances on one data folder,
 * another instance may be receiving an upload right now. Returns how many it removed.
 */
export async function removeUnfinishedUploads(dataDir: string, idleSince: Date): Promise<number> {
  const dir = uploadsDir(dataDir);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
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

export function blobPath(dataDir: string, sha256: string): string {
  return path.join(blobsDir(dataDir), sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** The Content-Type's essence (`image/png`), or application/octet-stream when absent or odd. */
export function normalizeMime(contentType: string | undefined): string {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return MIME.test(essence) && essence.length <= 100 ? essence : 'application/octet-stream';
}

const tooLarge = () =>
  new ApiError(413, 'payload_too_large', `A blob may be at most ${MAX_BLOB_BYTES} bytes`);

export interface PutBlobInput {
  sha256: string;
  teamId: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  body: ReadableStream<Uint8Array> | null;
}

export interface BlobDeps {
  db: Db;
  dataDir: string;
  now: () => Date;
}

/**
 * Stores a blob for a team where the caller is a clinician. Idempotent: a blob the team already
 * has answers 200 without reading the body or writing anything. A blob another team uploaded is
 * given to this team too, but only once this upload's bytes proved to hash to it (knowing a hash is
 * not enough to read a blob).
 */
export async function putBlob(
  { db, dataDir, now }: BlobDeps,
  scope: Scope,
  input: PutBlobInput,
): Promise<{ status: 200 | 201; body: BlobPutResponse }> {
  const { sha256, teamId } = input;
  if (!teamId) {
    throw new ApiError(
      400,
      'invalid_request',
      'Name the team the blob belongs to (?teamId= or X-Team-Id)',
    );
  }
  if (!scope.clinicianTeams.has(teamId)) {
    throw new ApiError(403, 'forbidden', 'You may not upload blobs for this team');
  }
  const existing = db.select().from(blobs).where(eq(blobs.sha256, sha256)).get();
  const granted =
    existing &&
    db
      .select({ teamId: blobTeams.teamId })
      .from(blobTeams)
      .where(and(eq(blobTeams.sha256, sha256), eq(blobTeams.teamId, teamId)))
      .get();
  const file = blobPath(dataDir, sha256);
  if (existing && granted && (await exists(file))) {
    await input.body?.cancel().catch(() => {});
    return {
      status: 200,
      body: { sha256, bytes: existing.bytes, mime: existing.mime, created: false },
    };
  }

  if (input.contentLength !== undefined && Number(input.contentLength) > MAX_BLOB_BYTES) {
    await input.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const tmpDir = uploadsDir(dataDir);
  await mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `${randomUUID()}.part`);
  let bytes = 0;
  try {
    const hash = createHash('sha256');
    const fh = await open(tmp, 'wx');
    try {
      if (input.body) {
        const reader = input.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.byteLength;
          if (bytes > MAX_BLOB_BYTES) {
            await reader.cancel().catch(() => {});
            throw tooLarge();
          }
          hash.update(value);
          await fh.write(value);
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (hash.digest('hex') !== sha256) {
      throw new ApiError(400, 'hash_mismatch', 'The body does not hash to the SHA-256 in the URL');
    }
    await mkdir(path.dirname(file), { recursive: true });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }

  const at = now();
  // The answer names this upload's type, never the one another team stored the bytes with.
  const mime = normalizeMime(input.contentType);
  db.transaction(
    (tx) => {
      tx.insert(blobs)
        .values({ sha256, bytes, mime, teamId, createdBy: scope.userId, createdAt: at })
        // The first upload's row (and type) stays.
        .onConflictDoNothing()
        .run();
      tx.insert(blobTeams)
        .values({ sha256, teamId, createdBy: scope.userId, createdAt: at })
        .onConflictDoNothing()
        .run();
    },
    { behavior: 'immediate' },
  );
  return { status: 201, body: { sha256, bytes, mime, created: true } };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Types a browser may render inline from our origin; anything else is served as a download. */
const INLINE_MIME = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif']);

export interface BlobDownload {
  stream: ReadableStream<Uint8Array>;
  bytes: number;
  mime: string;
  inline: boolean;
}

/**
 * A blob the caller may read, else a 404 that does not tell whether the blob exists: one uploaded
 * for a team where the caller is a clinician, or, for a supervisor (an admin: of any team), the
 * image of a diagnosis of a shared report of a team they supervise. Nothing else of the team: a
 * draft's image stays on the clinicians' side.
 */
export async function getBlob(
  { db, dataDir }: Omit<BlobDeps, 'now'>,
  scope: Scope,
  sha256: string,
): Promise<BlobDownload> {
  const missing = notFound('Blob');
  const clinical = [...scope.clinicianTeams];
  const supervised = [...scope.supervisorTeams];
  const row = db
    .select({ bytes: blobs.bytes, mime: blobs.mime })
    .from(blobs)
    .where(
      and(
        eq(blobs.sha256, sha256),
        or(
          clinical.length > 0
            ? sql`exists (select 1 from ${blobTeams} where ${blobTeams.sha256} = ${blobs.sha256}
                 and ${inArray(blobTeams.teamId, clinical)})`
            : sql`0`,
          scope.isAdmin
            ? sql`exists (select 1 from ${reviewDiagnoses}
                 where ${reviewDiagnoses.imageSha256} = ${blobs.sha256})`
            : supervised.length > 0
              ? sql`exists (select 1 from ${reviewDiagnoses}
                   where ${reviewDiagnoses.imageSha256} = ${blobs.sha256}
                   and ${inArray(reviewDiagnoses.teamId, supervised)})`
              : sql`0`,
        ),
      ),
    )
    .get();
  if (!row) throw missing;
  const file = blobPath(dataDir, sha256);
  if (!(await exists(file))) throw missing;
  const stream = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  return { stream, bytes: row.bytes, mime: row.mime, inline: INLINE_MIME.has(row.mime) };
}
