import { createHash } from 'node:crypto';

/*
 * Where blob bytes live (issue 17): the filesystem under DATA_DIR/blobs (the default, one machine)
 * or PostgreSQL (shared by every instance). Blobs are content-addressed: a blob is stored under the
 * SHA-256 of its bytes, only once those bytes proved to hash to it, and never changes. Who may read
 * a blob is the metadata's business (services/blobs.ts), not the store's.
 */

/** The bytes to store: a request body as it arrives, or bytes already in memory. */
export type BlobBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Uint8Array;

export interface PutOptions {
  /** Refuse (BlobTooLargeError) a body longer than this; nothing is kept. */
  maxBytes?: number;
}

/** Bytes `start` to `end` of a blob, both included (as in HTTP's Range); 0 <= start <= end < size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  readonly kind: 'filesystem' | 'postgres';
  /**
   * Stores the body under `sha256` once its bytes hash to it; BlobHashMismatchError otherwise, and
   * nothing is kept, as after an upload that fails midway. Storing a blob that is already there
   * keeps the stored bytes (they hash the same).
   */
  put(sha256: string, body: BlobBody, options?: PutOptions): Promise<{ bytes: number }>;
  has(sha256: string): Promise<boolean>;
  /** The blob's size in bytes, or null when the store does not hold it. */
  size(sha256: string): Promise<number | null>;
  /**
   * The bytes as a stream (only those of `range` when given: RangeError when it does not lie
   * within the blob), or null when the store does not hold the blob.
   */
  getStream(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  getBuffer(sha256: string): Promise<Buffer | null>;
  /** Removes a blob; false when it was not there. */
  delete(sha256: string): Promise<boolean>;
  /** The SHA-256 of every complete blob, in ascending order (uploads under way are not listed). */
  list(): AsyncIterable<string>;
  /** Deletes what uploads that died midway left, untouched since `idleSince`; returns how many. */
  removeUnfinished(idleSince: Date): Promise<number>;
}

export class BlobHashMismatchError extends Error {
  constructor(readonly sha256: string) {
    super(`The bytes do not hash to ${sha256}`);
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`A blob may be at most ${maxBytes} bytes`);
  }
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The name must be a SHA-256 in lowercase hex: it becomes a path or a key. */
export function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new TypeError('A blob is named by a lowercase hex SHA-256');
}

/** Refuses a range that does not lie within a blob of `size` bytes. */
export function assertRange(range: ByteRange, size: number): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end) {
    throw new RangeError(`Not a byte range: ${start}-${end}`);
  }
  if (end >= size) throw new RangeError(`Bytes ${start}-${end} are past the blob's ${size} bytes`);
}

/** The body's chunks in order, whatever its form. */
export async function* chunksOf(body: BlobBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    let done = false;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // Stopped early (too large, failed write): the rest of the body is not wanted.
      if (!done) await reader.cancel().catch(() => {});
    }
  }
  yield* body;
}

/**
 * Passes the body's chunks on while hashing and counting them; throws BlobTooLargeError past
 * maxBytes. `result()` after the last chunk: the byte count and whether they hash to `sha256`.
 */
export function hashingChunks(body: BlobBody, maxBytes = Number.POSITIVE_INFINITY) {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunksOf(body)) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw new BlobTooLargeError(maxBytes);
      hash.update(chunk);
      yield chunk;
    }
  }
  return {
    chunks: chunks(),
    result: () => ({ bytes, sha256: hash.digest('hex') }),
  };
}
