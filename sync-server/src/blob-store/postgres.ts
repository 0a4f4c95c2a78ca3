import { randomUUID } from 'node:crypto';
import type pg from 'pg';
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
 * The shared store: blob bytes in PostgreSQL, in the database every instance already uses
 * (docs/postgresql.md says why not S3). Tables blob_contents, blob_chunks and blob_upload_chunks
 * (schema.pg.ts). A blob is complete exactly when its blob_contents row exists: that row and its
 * chunks are written in one transaction. An upload arrives chunk by chunk into
 * blob_upload_chunks, each chunk committed on its own (a slow uplink holds no transaction or
 * connection between chunks), and moves into blob_chunks only once its bytes hash to the name.
 */

/** 1 MiB: a 25 MB image is 25 rows, each read or written in one round trip. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Regroups a body's chunks (of any size) into chunks of exactly `size` bytes, the last shorter. */
async function* rechunk(chunks: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (length + rest.length >= size) {
      const take = size - length;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      length = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      // Copied: the caller may reuse the memory of the chunk it gave.
      parts.push(Buffer.from(rest));
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(parts);
}

export interface PostgresBlobStoreOptions {
  /** Clock for created_at and for the age of chunks of an upload under way. */
  now?: () => Date;
  chunkBytes?: number;
}

/**
 * A store on a pool (what the server uses), or on one client inside a transaction the caller owns
 * (`inTransaction`: moving an installation writes its tables and blobs in one transaction; each put
 * is then a savepoint, so a refused blob leaves the rest as it was).
 */
export function postgresBlobStore(
  db: pg.Pool | { client: pg.ClientBase; inTransaction: true },
  options: PostgresBlobStoreOptions = {},
): BlobStore {
  const now = options.now ?? (() => new Date());
  const chunkBytes = options.chunkBytes ?? BLOB_CHUNK_BYTES;
  const q: Queryable = 'inTransaction' in db ? db.client : db;

  async function transaction<T>(fn: (client: Queryable) => Promise<T>): Promise<T> {
    if ('inTransaction' in db) {
      const savepoint = `blob_put_${randomUUID().replaceAll('-', '')}`;
      await db.client.query(`SAVEPOINT ${savepoint}`);
      try {
        const value = await fn(db.client);
        await db.client.query(`RELEASE SAVEPOINT ${savepoint}`);
        return value;
      } catch (error) {
        await db.client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        throw error;
      }
    }
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** Records a complete blob; false when it was there already (a concurrent put of the same bytes). */
  const insertContents = async (client: Queryable, sha256: string, bytes: number, chunks: number) =>
    (
      await client.query(
        `INSERT INTO blob_contents (sha256, bytes, chunks, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (sha256) DO NOTHING`,
        [sha256, bytes, chunks, now().getTime()],
      )
    ).rowCount === 1;

  async function putInMemory(sha256: string, body: Uint8Array, maxBytes: number) {
    const { chunks, result } = hashingChunks(body, maxBytes);
    const parts: Buffer[] = [];
    for await (const part of rechunk(chunks, chunkBytes)) parts.push(part);
    const { bytes, sha256: actual } = result();
    if (actual !== sha256) throw new BlobHashMismatchError(sha256);
    await transaction(async (client) => {
      if (!(await insertContents(client, sha256, bytes, parts.length))) return;
      for (const [n, data] of parts.entries()) {
        await client.query('INSERT INTO blob_chunks (sha256, n, data) VALUES ($1, $2, $3)', [
          sha256,
          n,
          data,
        ]);
      }
    });
    return { bytes };
  }

  async function putStreamed(sha256: string, body: BlobBody, maxBytes: number) {
    const uploadId = randomUUID();
    const { chunks, result } = hashingChunks(body, maxBytes);
    let count = 0;
    try {
      for await (const data of rechunk(chunks, chunkBytes)) {
        await q.query(
          'INSERT INTO blob_upload_chunks (upload_id, n, data, written_at) VALUES ($1, $2, $3, $4)',
          [uploadId, count, data, now().getTime()],
        );
        count += 1;
      }
      const { bytes, sha256: actual } = result();
      if (actual !== sha256) throw new BlobHashMismatchError(sha256);
      await transaction(async (client) => {
        if (await insertContents(client, sha256, bytes, count)) {
          await client.query(
            `INSERT INTO blob_chunks (sha256, n, data)
             SELECT $1, n, data FROM blob_upload_chunks WHERE upload_id = $2`,
            [sha256, uploadId],
          );
        }
        await client.query('DELETE FROM blob_upload_chunks WHERE upload_id = $1', [uploadId]);
      });
      return { bytes };
    } catch (error) {
      // Refused or cut off: its chunks go now; should this fail too, the sweep removes them.
      await q
        .query('DELETE FROM blob_upload_chunks WHERE upload_id = $1', [uploadId])
        .catch(() => {});
      throw error;
    }
  }

  const contentsOf = async (sha256: string) =>
    (
      await q.query<{ bytes: number; chunks: number }>(
        'SELECT bytes, chunks FROM blob_contents WHERE sha256 = $1',
        [sha256],
      )
    ).rows[0];

  /**
   * The size of a blob's chunks: every chunk but the last has it. Read from the first chunk, not
   * from this store's option, since the blob may have been written with another (the move, tests);
   * octet_length reads the stored length without fetching the bytes.
   */
  const chunkSizeOf = async (sha256: string): Promise<number> => {
    const row = (
      await q.query<{ size: number }>(
        'SELECT octet_length(data) AS size FROM blob_chunks WHERE sha256 = $1 AND n = 0',
        [sha256],
      )
    ).rows[0];
    if (!row) throw new Error(`Blob ${sha256.slice(0, 12)}… lost chunk 0 while being read`);
    return row.size;
  };

  const chunk = async (sha256: string, n: number): Promise<Buffer> => {
    const row = (
      await q.query<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE sha256 = $1 AND n = $2', [
        sha256,
        n,
      ])
    ).rows[0];
    // Deleted while being read: an error, never a silently short blob.
    if (!row) throw new Error(`Blob ${sha256.slice(0, 12)}… lost chunk ${n} while being read`);
    return row.data;
  };

  return {
    kind: 'postgres',

    async put(sha256, body, options: PutOptions = {}) {
      assertSha256(sha256);
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      // Bytes already in memory are hashed before anything is written: no staging needed.
      return body instanceof Uint8Array
        ? putInMemory(sha256, body, maxBytes)
        : putStreamed(sha256, body, maxBytes);
    },

    async has(sha256) {
      return SHA256_HEX.test(sha256) && (await contentsOf(sha256)) !== undefined;
    },

    async size(sha256) {
      if (!SHA256_HEX.test(sha256)) return null;
      return (await contentsOf(sha256))?.bytes ?? null;
    },

    async getStream(sha256, range) {
      if (!SHA256_HEX.test(sha256)) return null;
      const contents = await contentsOf(sha256);
      if (!contents) return null;
      let n = 0;
      let last = contents.chunks - 1;
      /** Where the range starts in chunk `first`, and ends (exclusive) in chunk `last`. */
      let skip = 0;
      let stop = Number.POSITIVE_INFINITY;
      if (range) {
        assertRange(range, contents.bytes);
        // Only the chunks that overlap the range are read.
        const size = contents.chunks > 1 ? await chunkSizeOf(sha256) : contents.bytes;
        n = Math.floor(range.start / size);
        last = Math.floor(range.end / size);
        skip = range.start - n * size;
        stop = range.end - last * size + 1;
      }
      const first = n;
      // One chunk in memory at a time, fetched as the reader asks for it.
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (n > last) {
            controller.close();
            return;
          }
          const at = n++;
          let data = await chunk(sha256, at);
          if (at === last) data = data.subarray(0, stop);
          if (at === first) data = data.subarray(skip);
          controller.enqueue(new Uint8Array(data));
        },
      });
    },

    async getBuffer(sha256) {
      if (!SHA256_HEX.test(sha256)) return null;
      const contents = await contentsOf(sha256);
      if (!contents) return null;
      const parts: Buffer[] = [];
      for (let n = 0; n < contents.chunks; n++) parts.push(await chunk(sha256, n));
      return Buffer.concat(parts);
    },

    async delete(sha256) {
      if (!SHA256_HEX.test(sha256)) return false;
      const deleted = await q.query('DELETE FROM blob_contents WHERE sha256 = $1', [sha256]);
      return deleted.rowCount === 1;
    },

    async *list() {
      let after = '';
      for (;;) {
        const page = await q.query<{ sha256: string }>(
          `SELECT sha256 FROM blob_contents WHERE sha256 COLLATE "C" > $1
           ORDER BY sha256 COLLATE "C" LIMIT 1000`,
          [after],
        );
        for (const row of page.rows) yield row.sha256;
        if (page.rows.length < 1000) return;
        after = page.rows.at(-1)!.sha256;
      }
    },

    async removeUnfinished(idleSince) {
      const removed = await q.query<{ upload_id: string }>(
        `DELETE FROM blob_upload_chunks WHERE upload_id IN (
           SELECT upload_id FROM blob_upload_chunks GROUP BY upload_id HAVING max(written_at) < $1)
         RETURNING upload_id`,
        [idleSince.getTime()],
      );
      return new Set(removed.rows.map((r) => r.upload_id)).size;
    },
  };
}
