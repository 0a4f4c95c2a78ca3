import { BlobHashMismatchError, BlobTooLargeError, type BlobStore } from '../blob-store/store';
import { ApiError, notFound } from '../errors';
import { MAX_BLOB_BYTES, type BlobPutResponse } from '../protocol';
import type { Repositories } from '../repositories';
import type { Scope } from './scope';

/*
 * Content-addressed blobs (DESIGN 4): the bytes in a BlobStore (blob-store/: files under
 * DATA_DIR/blobs by default, or PostgreSQL shared by every instance), the metadata and who may read
 * them in the database. The bytes are stored, and proved to hash to their name, before the rows
 * are written: a crash leaves at worst unrecorded (correct) bytes that the next upload keeps.
 */

// Where the filesystem store keeps its files: backup.ts, the server's sweep and tests use them.
export { blobPath, blobsDir, removeUnfinishedUploads } from '../blob-store/filesystem';

/** An upload's temporary data not written to for this long was left by a process that died. */
export const UPLOAD_IDLE_MS = 60 * 60 * 1000;

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
  repos: Repositories;
  store: BlobStore;
  now: () => Date;
}

/**
 * Stores a blob for a team where the caller is a clinician. Idempotent: a blob the team already
 * has answers 200 without reading the body or writing anything. A blob another team uploaded is
 * given to this team too, but only once this upload's bytes proved to hash to it (knowing a hash is
 * not enough to read a blob).
 */
export async function putBlob(
  { repos, store, now }: BlobDeps,
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
  const existing = await repos.blobs.find(sha256);
  const granted = existing !== undefined && (await repos.blobs.hasTeam(sha256, teamId));
  if (existing && granted && (await store.has(sha256))) {
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
  let bytes: number;
  try {
    ({ bytes } = await store.put(sha256, input.body ?? new Uint8Array(), {
      maxBytes: MAX_BLOB_BYTES,
    }));
  } catch (error) {
    if (error instanceof BlobTooLargeError) throw tooLarge();
    if (error instanceof BlobHashMismatchError) {
      throw new ApiError(400, 'hash_mismatch', 'The body does not hash to the SHA-256 in the URL');
    }
    throw error;
  }

  const at = now();
  // The answer names this upload's type, never the one another team stored the bytes with.
  const mime = normalizeMime(input.contentType);
  // Both rows or neither; each insert does nothing on conflict, so that concurrent uploads of one
  // hash (on any instance) all succeed, and the first upload's row (and type) stays.
  await repos.transaction((tx) =>
    tx.blobs.record({ sha256, bytes, mime, teamId, createdBy: scope.userId, createdAt: at }),
  );
  return { status: 201, body: { sha256, bytes, mime, created: true } };
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
  { repos, store }: { repos: Pick<Repositories, 'blobs'>; store: BlobStore },
  scope: Scope,
  sha256: string,
): Promise<BlobDownload> {
  const missing = notFound('Blob');
  const row = await repos.blobs.findReadable(sha256, {
    clinicianTeams: [...scope.clinicianTeams],
    supervisedTeams: scope.isAdmin ? 'all' : [...scope.supervisorTeams],
  });
  if (!row) throw missing;
  const stream = await store.getStream(sha256);
  if (!stream) throw missing;
  return { stream, bytes: row.bytes, mime: row.mime, inline: INLINE_MIME.has(row.mime) };
}
