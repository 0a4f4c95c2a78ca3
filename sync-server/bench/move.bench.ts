/**
 * Moving an installation: `pnpm --filter sync-server bench:move`. Builds a data folder through the
 * app (MOVE_RECORDS patients pushed 1,000 at a time, default 10,000; MOVE_IMAGES images of 300 KB
 * uploaded, default 50), closes it, starts a throw-away PostgreSQL (test/postgres.ts, fsync off),
 * and times `move-to-postgres` as a user runs it (a new process: start-up, snapshot, copy, checks,
 * commit). Writes bench-results/move.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../test/postgres';
import { blobRequest, mutation, patient, syncWorld } from '../src/sync-test-utils';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const OUT_FILE = path.join(SERVER_DIR, '..', 'bench-results', 'move.json');
const RECORDS = Number(process.env.MOVE_RECORDS ?? 10_000);
const IMAGES = Number(process.env.MOVE_IMAGES ?? 50);
const IMAGE_BYTES = 300 * 1024;

const w = await syncWorld({ dbInDataDir: true });
for (let i = 0; i < RECORDS; i += 1000) {
  const batch = Array.from({ length: Math.min(1000, RECORDS - i) }, () => patient(w.teamA));
  await w.alice.push(batch.map((p) => mutation('patients', p)));
}
for (let i = 0; i < IMAGES; i++) {
  const image = new Uint8Array(IMAGE_BYTES).map((_, j) => (j * 31 + i * 17 + (j >> 8)) & 0xff);
  const sha = createHash('sha256').update(image).digest('hex');
  const res = await blobRequest(
    w.app,
    w.alice.client,
    'PUT',
    `/api/blobs/${sha}?teamId=${w.teamA}`,
    image,
    {
      'content-type': 'image/jpeg',
    },
  );
  if (res.status !== 201) throw new Error(`upload: ${res.status}`);
}
w.close();

const server = await startPostgres();
try {
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/move-to-postgres-cli.ts'], {
    cwd: SERVER_DIR,
    env: { ...process.env, DATA_DIR: w.dataDir, DATABASE_URL: server.url },
    encoding: 'utf8',
  });
  const wallMs = Math.round(performance.now() - started);
  if (run.status !== 0) throw new Error(`move-to-postgres failed: ${run.stderr}`);
  const reported = /in (\d+) ms\./.exec(run.stdout);
  const result = {
    records: RECORDS,
    images: IMAGES,
    imageBytes: IMAGES * IMAGE_BYTES,
    commandWallMs: wallMs,
    moveMs: reported ? Number(reported[1]) : null,
    load: os.loadavg().map((l) => Math.round(l * 10) / 10),
    cpus: os.cpus().length,
    // Per-table copy times, blobs, checks, and the summary line.
    output: run.stdout
      .trim()
      .split('\n')
      .filter((line) => !/: 0 rows/.test(line)),
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
} finally {
  await server.stop();
  rmSync(w.dataDir, { recursive: true, force: true });
}
