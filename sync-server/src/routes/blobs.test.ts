import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BlobPutResponse, MAX_BLOB_BYTES } from '../protocol';
import { blobPath, removeUnfinishedUploads, UPLOAD_IDLE_MS } from '../services/blobs';
import { blobRequest, syncWorld } from '../sync-test-utils';
import { errorOf, TestClient } from '../test-utils';

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  const put = (
    client: TestClient,
    bytes: Uint8Array,
    sha = sha256(bytes),
    query = `?teamId=${w.teamA}`,
    headers: Record<string, string> = { 'content-type': 'image/png' },
  ) => blobRequest(w.app, client, 'PUT', `/api/blobs/${sha}${query}`, bytes, headers);
  const get = (client: TestClient, sha: string) =>
    blobRequest(w.app, client, 'GET', `/api/blobs/${sha}`);
  return { ...w, put, get };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const tmpFiles = (dataDir: string) => {
  const dir = path.join(dataDir, 'blobs', 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('PUT /api/blobs/:sha256', () => {
  it('stores a blob under blobs/ab/cd/<sha256>, idempotently', async () => {
    const w = await setup();
    const png = bytesOf(5000);
    const sha = sha256(png);
    const res = await w.put(w.alice.client, png);
    expect(res.status).toBe(201);
    expect(BlobPutResponse.parse(await res.json())).toEqual({
      sha256: sha,
      bytes: 5000,
      mime: 'image/png',
      created: true,
    });
    const file = blobPath(w.dataDir, sha);
    expect(file).toBe(path.join(w.dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha));
    expect(readFileSync(file).equals(Buffer.from(png))).toBe(true);

    // Again (even from another clinician of the team, with another type): nothing rewritten.
    const again = await w.put(w.bob.client, png, sha, `?teamId=${w.teamA}`, {
      'content-type': 'text/html',
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({
      sha256: sha,
      bytes: 5000,
      mime: 'image/png',
      created: false,
    });
    expect(tmpFiles(w.dataDir)).toEqual([]);
  });

  it('accepts the team in the X-Team-Id header, and bodies above the 1 MiB JSON limit', async () => {
    const w = await setup();
    const big = bytesOf(3 * 1024 * 1024);
    const res = await w.put(w.alice.client, big, sha256(big), '', {
      'content-type': 'image/jpeg; charset=binary',
      'x-team-id': w.teamA,
    });
    expect(res.status).toBe(201);
    expect(BlobPutResponse.parse(await res.json())).toMatchObject({
      bytes: big.length,
      mime: 'image/jpeg',
    });
  });

  it('refuses a body that does not hash to the URL with 400 hash_mismatch, keeping nothing', async () => {
    const w = await setup();
    const png = bytesOf(1000);
    const tampered = bytesOf(1000, 2);
    const res = await w.put(w.alice.client, tampered, sha256(png));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('hash_mismatch');
    expect(existsSync(blobPath(w.dataDir, sha256(png)))).toBe(false);
    expect(tmpFiles(w.dataDir)).toEqual([]);
    expect((await w.get(w.alice.client, sha256(png))).status).toBe(404);
  });

  it('refuses more than 25 MB with 413, by Content-Length or while streaming', async () => {
    const w = await setup();
    const huge = new Uint8Array(MAX_BLOB_BYTES + 1);
    const sha = sha256(huge);
    const declared = await w.put(w.alice.client, huge, sha, `?teamId=${w.teamA}`, {
      'content-length': String(huge.length),
    });
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).code).toBe('payload_too_large');

    // No Content-Length: a stream of 1 MiB chunks.
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BLOB_BYTES) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await w.app.request(`/api/blobs/${sha}?teamId=${w.teamA}`, {
      method: 'PUT',
      headers: { origin: 'http://localhost:8787', cookie: `fdx_session=${w.alice.client.token}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(tmpFiles(w.dataDir)).toEqual([]);
    expect(existsSync(blobPath(w.dataDir, sha))).toBe(false);
  });

  it('needs a team where the caller is a clinician, a valid hash and a session', async () => {
    const w = await setup();
    const b = bytesOf(100);
    const noTeam = await w.put(w.alice.client, b, sha256(b), '');
    expect(noTeam.status).toBe(400);
    expect((await w.put(w.alice.client, b, sha256(b), `?teamId=${w.teamB}`)).status).toBe(403);
    expect((await w.put(w.sam.client, b)).status).toBe(403);
    expect((await w.put(w.admin, b)).status).toBe(403);
    expect((await w.put(w.alice.client, b, 'ABC')).status).toBe(400);
    expect((await w.put(new TestClient(w.app), b)).status).toBe(401);
  });
});

describe('GET /api/blobs/:sha256', () => {
  it('serves a blob to the teams that hold it, and 404 to everyone else', async () => {
    const w = await setup();
    const png = bytesOf(2000);
    const sha = sha256(png);
    await w.put(w.alice.client, png);

    for (const client of [w.alice.client, w.bob.client]) {
      const res = await w.get(client, sha);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-length')).toBe('2000');
      // Patient images must not stay in a shared tablet's HTTP cache after sign-out.
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(png))).toBe(true);
    }
    // Another team, a supervisor (no shared report shows it), an admin without a role, an unknown
    // hash: the same 404.
    for (const [client, h] of [
      [w.carol.client, sha],
      [w.sam.client, sha],
      [w.admin, sha],
      [w.alice.client, sha256(bytesOf(1, 9))],
      [w.alice.client, 'not-a-hash'],
    ] as const) {
      const res = await w.get(client, h);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toEqual({ code: 'not_found', message: 'Blob not found' });
    }
    expect((await w.get(new TestClient(w.app), sha)).status).toBe(401);
  });

  it('gives a second team the blob once it uploads the same bytes itself', async () => {
    const w = await setup();
    const png = bytesOf(700);
    const sha = sha256(png);
    await w.put(w.alice.client, png);
    expect((await w.get(w.carol.client, sha)).status).toBe(404);
    // Knowing the hash is not enough: wrong bytes are refused as for any upload.
    const guess = await w.put(w.carol.client, bytesOf(700, 5), sha, `?teamId=${w.teamB}`);
    expect(guess.status).toBe(400);
    expect((await w.get(w.carol.client, sha)).status).toBe(404);
    const upload = await w.put(w.carol.client, png, sha, `?teamId=${w.teamB}`);
    expect(upload.status).toBe(201);
    expect((await w.get(w.carol.client, sha)).status).toBe(200);
  });

  it('serves types a browser could run as a sandboxed download', async () => {
    const w = await setup();
    const html = new TextEncoder().encode('<script>alert(1)</script>');
    await w.put(w.alice.client, html, sha256(html), `?teamId=${w.teamA}`, {
      'content-type': 'text/html',
    });
    const res = await w.get(w.alice.client, sha256(html));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('removeUnfinishedUploads', () => {
  it('deletes what a killed process left half-uploaded, and nothing else (not an upload in progress)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-blobs-'));
    try {
      expect(await removeUnfinishedUploads(dataDir, new Date())).toBe(0); // no blobs folder yet
      const sha = 'ab'.repeat(32);
      mkdirSync(path.dirname(blobPath(dataDir, sha)), { recursive: true });
      writeFileSync(blobPath(dataDir, sha), 'kept');
      mkdirSync(path.join(dataDir, 'blobs', 'tmp'), { recursive: true });
      const tmp = path.join(dataDir, 'blobs', 'tmp');
      writeFileSync(path.join(tmp, 'x.part'), 'half');
      const idle = new Date(Date.now() - UPLOAD_IDLE_MS);
      utimesSync(
        path.join(tmp, 'x.part'),
        new Date(idle.getTime() - 1000),
        new Date(idle.getTime() - 1000),
      );
      // Another instance on the same folder is receiving this one now: it stays.
      writeFileSync(path.join(tmp, 'y.part'), 'in progress');
      expect(await removeUnfinishedUploads(dataDir, idle)).toBe(1);
      expect(readdirSync(tmp)).toEqual(['y.part']);
      expect(readFileSync(blobPath(dataDir, sha), 'utf8')).toBe('kept');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
