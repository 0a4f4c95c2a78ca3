import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/postgres';
import { openPostgres } from '../db/postgres';
import { importBundledModels, legacyModelFilePath } from '../services/models';
import { blobRequest, syncWorld } from '../sync-test-utils';
import { ORIGIN, tempDir } from '../test-utils';
import { filesystemBlobStore } from './filesystem';
import { postgresBlobStore } from './postgres';
import { BlobHashMismatchError, BlobTooLargeError, type BlobStore } from './store';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
};
/** A request-like body: the bytes in uneven pieces, optionally failing after `failAfter` of them. */
function streamOf(bytes: Uint8Array, piece = 777, failAfter = Infinity) {
  let offset = 0;
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= failAfter) {
        controller.error(new Error('connection reset by the tablet'));
        return;
      }
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + piece));
      offset += piece;
      sent += 1;
    },
  });
}
const collect = async (items: AsyncIterable<string>) => {
  const all: string[] = [];
  for await (const item of items) all.push(item);
  return all;
};
const readAll = async (stream: ReadableStream<Uint8Array> | null) =>
  stream ? Buffer.from(await new Response(stream).arrayBuffer()) : null;

// Starting a cluster takes 3–5 s on a loaded 2-core machine.
const SERVER_TIMEOUT = 60_000;
let server: TestPostgres;
let pool: pg.Pool;
beforeAll(async () => {
  server = await startPostgres();
  pool = (await openPostgres(server.url)).pool;
}, SERVER_TIMEOUT);
afterAll(async () => {
  await pool?.end();
  await server?.stop();
}, SERVER_TIMEOUT);

interface Subject {
  store: BlobStore;
  /** What an upload under way (or a dead one) leaves behind, to check nothing is. */
  leftovers(): Promise<number>;
  /** Leaves an upload as a process killed midway would, last written at `at`. */
  abandonUpload(at: Date): Promise<void>;
}

async function filesystemSubject(): Promise<Subject> {
  const data = tempDir('fdx-blobstore-');
  onTestFinished(data.remove);
  const tmp = path.join(data.dir, 'blobs', 'tmp');
  return {
    store: filesystemBlobStore(data.dir),
    leftovers: async () => (existsSync(tmp) ? readdirSync(tmp).length : 0),
    abandonUpload: async (at) => {
      mkdirSync(tmp, { recursive: true });
      const file = path.join(tmp, `${at.getTime()}-${Math.random()}.part`);
      writeFileSync(file, 'half an image');
      utimesSync(file, at, at);
    },
  };
}

let databases = 0;
async function postgresSubject(): Promise<Subject> {
  // A database per test: each starts empty. Small chunks, so that every blob spans several.
  const opened = await openPostgres(await server.createDatabase(`blobs_${++databases}`));
  onTestFinished(opened.close);
  const count = async (sql: string) => (await opened.pool.query<{ n: number }>(sql)).rows[0]!.n;
  return {
    store: postgresBlobStore(opened.pool, { chunkBytes: 1000 }),
    leftovers: () => count('SELECT count(DISTINCT upload_id)::int AS n FROM blob_upload_chunks'),
    abandonUpload: async (at) => {
      const id = `dead-${at.getTime()}-${Math.random()}`;
      for (const n of [0, 1]) {
        await opened.pool.query(
          'INSERT INTO blob_upload_chunks (upload_id, n, data, written_at) VALUES ($1, $2, $3, $4)',
          [id, n, Buffer.from('half an image'), at.getTime()],
        );
      }
    },
  };
}

describe.each([
  ['filesystem', filesystemSubject],
  ['PostgreSQL', postgresSubject],
])('the %s blob store', { timeout: SERVER_TIMEOUT }, (_name, subject) => {
  it('keeps bytes under their SHA-256 and gives them back as a stream or a buffer', async () => {
    const { store, leftovers } = await subject();
    const small = bytesOf(10);
    const big = bytesOf(5_500, 2); // several chunks, the last one short
    expect(await store.put(sha256(small), small)).toEqual({ bytes: 10 });
    expect(await store.put(sha256(big), streamOf(big))).toEqual({ bytes: 5_500 });
    for (const bytes of [small, big]) {
      expect(await store.has(sha256(bytes))).toBe(true);
      expect((await store.getBuffer(sha256(bytes)))?.equals(bytes)).toBe(true);
      expect((await readAll(await store.getStream(sha256(bytes))))?.equals(bytes)).toBe(true);
    }
    expect(await collect(store.list())).toEqual([sha256(small), sha256(big)].sort());
    expect(await leftovers()).toBe(0);
  });

  it('stores the empty blob, and the same bytes twice as one blob', async () => {
    const { store } = await subject();
    const empty = new Uint8Array();
    expect(await store.put(sha256(empty), streamOf(empty))).toEqual({ bytes: 0 });
    expect((await store.getBuffer(sha256(empty)))?.length).toBe(0);
    const bytes = bytesOf(2_345);
    await Promise.all([
      store.put(sha256(bytes), streamOf(bytes)),
      store.put(sha256(bytes), streamOf(bytes, 100)),
      store.put(sha256(bytes), bytes),
    ]);
    expect((await store.getBuffer(sha256(bytes)))?.equals(bytes)).toBe(true);
    expect(await collect(store.list())).toEqual([sha256(empty), sha256(bytes)].sort());
  });

  it('refuses bytes that do not hash to the name, keeping nothing', async () => {
    const { store, leftovers } = await subject();
    const bytes = bytesOf(3_000);
    const other = sha256(bytesOf(3_000, 9));
    for (const body of [bytes, streamOf(bytes)]) {
      await expect(store.put(other, body)).rejects.toBeInstanceOf(BlobHashMismatchError);
    }
    expect(await store.has(other)).toBe(false);
    expect(await store.has(sha256(bytes))).toBe(false);
    expect(await collect(store.list())).toEqual([]);
    expect(await leftovers()).toBe(0);
  });

  it('refuses a body longer than allowed, keeping nothing', async () => {
    const { store, leftovers } = await subject();
    const bytes = bytesOf(4_000);
    for (const body of [bytes, streamOf(bytes)]) {
      await expect(store.put(sha256(bytes), body, { maxBytes: 3_999 })).rejects.toBeInstanceOf(
        BlobTooLargeError,
      );
    }
    expect(await store.has(sha256(bytes))).toBe(false);
    expect(await leftovers()).toBe(0);
    expect(await store.put(sha256(bytes), bytes, { maxBytes: 4_000 })).toEqual({ bytes: 4_000 });
  });

  it('keeps nothing of an upload cut off midway', async () => {
    const { store, leftovers } = await subject();
    const bytes = bytesOf(6_000);
    await expect(store.put(sha256(bytes), streamOf(bytes, 500, 5))).rejects.toThrow(
      'connection reset by the tablet',
    );
    expect(await store.has(sha256(bytes))).toBe(false);
    expect(await store.getStream(sha256(bytes))).toBeNull();
    expect(await leftovers()).toBe(0);
    // The tablet retries: the whole blob.
    await store.put(sha256(bytes), streamOf(bytes, 500));
    expect((await store.getBuffer(sha256(bytes)))?.equals(bytes)).toBe(true);
  });

  it('sweeps what a killed process left of an upload, not an upload still under way', async () => {
    const { store, leftovers, abandonUpload } = await subject();
    const now = Date.now();
    await abandonUpload(new Date(now - 2 * 60 * 60 * 1000));
    await abandonUpload(new Date(now)); // still arriving
    const kept = bytesOf(1_500);
    await store.put(sha256(kept), kept);
    expect(await store.removeUnfinished(new Date(now - 60 * 60 * 1000))).toBe(1);
    expect(await leftovers()).toBe(1);
    expect(await store.has(sha256(kept))).toBe(true);
  });

  it('answers a missing blob with null and false, and deletes', async () => {
    const { store } = await subject();
    const missing = sha256(bytesOf(1));
    expect(await store.has(missing)).toBe(false);
    expect(await store.getStream(missing)).toBeNull();
    expect(await store.getBuffer(missing)).toBeNull();
    expect(await store.delete(missing)).toBe(false);
    const bytes = bytesOf(2_500);
    await store.put(sha256(bytes), bytes);
    expect(await store.delete(sha256(bytes))).toBe(true);
    expect(await store.has(sha256(bytes))).toBe(false);
    expect(await collect(store.list())).toEqual([]);
  });

  it('tells a blob’s size and streams any byte range of it', async () => {
    const { store } = await subject();
    const bytes = bytesOf(5_500, 4); // on PostgreSQL: chunks of 1000, the last one 500
    const empty = new Uint8Array();
    await store.put(sha256(bytes), streamOf(bytes));
    await store.put(sha256(empty), empty);
    expect(await store.size(sha256(bytes))).toBe(5_500);
    expect(await store.size(sha256(empty))).toBe(0);
    expect(await store.size(sha256(bytesOf(3)))).toBeNull();
    expect(await store.size('../etc/passwd')).toBeNull();
    for (const [start, end] of [
      [0, 0],
      [0, 5_499],
      [999, 1_000], // across a chunk boundary
      [1_000, 1_999], // exactly one chunk
      [1_234, 4_321], // parts of two chunks and three whole ones between
      [2_500, 5_499], // to the end, the short last chunk included
      [5_499, 5_499],
    ] as const) {
      const got = await readAll(await store.getStream(sha256(bytes), { start, end }));
      expect(got?.equals(bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
    }
    for (const [start, end] of [
      [5_500, 5_500],
      [3, 2],
      [-1, 10],
      [0, 5_500],
      [0.5, 10],
    ] as [number, number][]) {
      await expect(store.getStream(sha256(bytes), { start, end })).rejects.toBeInstanceOf(
        RangeError,
      );
    }
    await expect(store.getStream(sha256(empty), { start: 0, end: 0 })).rejects.toBeInstanceOf(
      RangeError,
    );
    expect(await store.getStream(sha256(bytesOf(3)), { start: 0, end: 0 })).toBeNull();
  });

  it('refuses a name that is not a lowercase SHA-256, and never finds one', async () => {
    const { store } = await subject();
    const bytes = bytesOf(10);
    for (const name of ['../../etc/passwd', sha256(bytes).toUpperCase(), '']) {
      await expect(store.put(name, bytes)).rejects.toThrow(TypeError);
      expect(await store.has(name)).toBe(false);
      expect(await store.getStream(name)).toBeNull();
    }
  });
});

describe(
  'the PostgreSQL blob store inside a caller’s transaction',
  { timeout: SERVER_TIMEOUT },
  () => {
    it('writes nothing when the transaction rolls back; a refused blob leaves the others', async () => {
      const opened = await openPostgres(await server.createDatabase('blobs_tx'));
      onTestFinished(opened.close);
      const client = await opened.pool.connect();
      const good = bytesOf(2_100);
      try {
        await client.query('BEGIN');
        const store = postgresBlobStore({ client, inTransaction: true }, { chunkBytes: 1000 });
        await store.put(sha256(good), good);
        await expect(store.put(sha256(bytesOf(5)), bytesOf(6))).rejects.toBeInstanceOf(
          BlobHashMismatchError,
        );
        // The savepoint kept the transaction usable and the first blob in it.
        expect((await store.getBuffer(sha256(good)))?.equals(good)).toBe(true);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      expect(await postgresBlobStore(opened.pool).has(sha256(good))).toBe(false);
    });
  },
);

describe('the PostgreSQL blob store reading a range', { timeout: SERVER_TIMEOUT }, () => {
  it('reads only the chunks that overlap it', async () => {
    const opened = await openPostgres(await server.createDatabase('blobs_range'));
    onTestFinished(opened.close);
    const store = postgresBlobStore(opened.pool, { chunkBytes: 1000 });
    const bytes = bytesOf(5_500, 5);
    await store.put(sha256(bytes), bytes);
    // Every chunk but 2 and 3 now holds other bytes (as long as before): a range within chunks 2
    // and 3 still reads right only if no other chunk is read.
    await opened.pool.query(
      `UPDATE blob_chunks SET data = decode(repeat('00', octet_length(data)), 'hex')
        WHERE sha256 = $1 AND n NOT IN (2, 3)`,
      [sha256(bytes)],
    );
    const range = await readAll(await store.getStream(sha256(bytes), { start: 2_100, end: 3_899 }));
    expect(range?.equals(bytes.subarray(2_100, 3_900))).toBe(true);
    const whole = await readAll(await store.getStream(sha256(bytes)));
    expect(whole?.equals(bytes)).toBe(false);
    // A blob written with another chunk size than this store's is read by its own.
    const other = postgresBlobStore(opened.pool, { chunkBytes: 700 });
    const tail = await readAll(await other.getStream(sha256(bytes), { start: 3_000, end: 3_050 }));
    expect(tail?.equals(bytes.subarray(3_000, 3_051))).toBe(true);
  });
});

describe('blob routes on the PostgreSQL store', { timeout: SERVER_TIMEOUT }, () => {
  it('upload, download, refuse a wrong hash; nothing lands in the data folder', async () => {
    const opened = await openPostgres(await server.createDatabase('blobs_routes'));
    onTestFinished(opened.close);
    const store = postgresBlobStore(opened.pool);
    const w = await syncWorld({ blobStore: store });
    onTestFinished(w.cleanup);
    const png = bytesOf(2_500_000, 3); // three chunks of 1 MiB
    const put = (bytes: Uint8Array, sha: string) =>
      blobRequest(w.app, w.alice.client, 'PUT', `/api/blobs/${sha}?teamId=${w.teamA}`, bytes, {
        'content-type': 'image/png',
      });
    expect((await put(png, sha256(png))).status).toBe(201);
    expect((await put(png, sha256(png))).status).toBe(200);
    const wrong = await put(bytesOf(100), sha256(bytesOf(101)));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('hash_mismatch');

    const got = await blobRequest(w.app, w.bob.client, 'GET', `/api/blobs/${sha256(png)}`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true);
    const refused = await blobRequest(w.app, w.carol.client, 'GET', `/api/blobs/${sha256(png)}`);
    expect(refused.status).toBe(404);

    expect(await collect(store.list())).toEqual([sha256(png)]);
    expect(existsSync(path.join(w.dataDir, 'blobs'))).toBe(false);
    // Recorded, but the bytes are gone from the store: 404, not a 5xx.
    await store.delete(sha256(png));
    const gone = await blobRequest(w.app, w.bob.client, 'GET', `/api/blobs/${sha256(png)}`);
    expect(gone.status).toBe(404);
  });
});

describe('model files on the PostgreSQL store', { timeout: SERVER_TIMEOUT }, () => {
  it('imports, takes uploads and serves them with Range from the store; nothing in the data folder', async () => {
    const opened = await openPostgres(await server.createDatabase('models_routes'));
    onTestFinished(opened.close);
    // Small chunks: the 1.8 KB model spans several, and ranges cross them.
    const store = postgresBlobStore(opened.pool, { chunkBytes: 256 });
    const w = await syncWorld({ blobStore: store });
    onTestFinished(w.cleanup);
    const bundled = fileURLToPath(new URL('../../../models', import.meta.url));
    const model = readFileSync(path.join(bundled, 'diabetes-risk/model.onnx'));
    const manifest = JSON.parse(
      readFileSync(path.join(bundled, 'diabetes-risk/manifest.json'), 'utf8'),
    ) as Record<string, unknown>;
    // A file an earlier version kept in the data folder: copied into the store at start.
    const old = bytesOf(10_000, 8);
    mkdirSync(path.join(w.dataDir, 'models'));
    writeFileSync(legacyModelFilePath(w.dataDir, sha256(old)), old);
    const deps = { repos: w.repos, blobStore: store, dataDir: w.dataDir, now: () => new Date() };
    const silent = { info: () => {}, warn: () => {} };
    expect(await importBundledModels(deps, bundled, silent)).toBe(2);
    expect((await store.getBuffer(sha256(old)))?.equals(old)).toBe(true);

    const form = new FormData();
    form.append('manifest', new Blob([JSON.stringify({ ...manifest, version: '1.1.0' })]));
    form.append('model', new Blob([Uint8Array.from(model)]));
    const uploaded = await w.app.request('/api/admin/models', {
      method: 'POST',
      body: form,
      headers: { origin: ORIGIN, cookie: `fdx_session=${w.admin.token}` },
    });
    expect(uploaded.status).toBe(201);
    expect((await w.admin.post('/api/admin/models/diabetes-risk/1.1.0/activate')).status).toBe(200);

    const url = '/api/models/diabetes-risk/1.1.0/model.onnx';
    const whole = await w.alice.client.get(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(model.length));
    expect(Buffer.from(await whole.arrayBuffer()).equals(model)).toBe(true);
    const start = 300;
    const end = model.length - 100;
    const part = await w.alice.client.get(url, { range: `bytes=${start}-${end}` });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes ${start}-${end}/${model.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(model.subarray(start, end + 1))).toBe(true);
    expect((await w.alice.client.get(url, { range: `bytes=${model.length}-` })).status).toBe(416);
    expect(existsSync(path.join(w.dataDir, 'blobs'))).toBe(false);
  });
});
