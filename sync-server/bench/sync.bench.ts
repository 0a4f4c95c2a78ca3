/**
 * Sync micro-benchmark, server only: `npx tsx bench/sync.bench.ts` (in sync-server/).
 *
 * In-process (app.request, no sockets), SQLite file in a temporary DATA_DIR (WAL, as in
 * production), cheap test password hashing. Reports:
 * - push of 10,000 new ~1 KB patients in batches of 500, then 10,000 updates (baseVersion 1);
 * - pull of those 10,000 in pages of 500, and a no-op pull (nothing after the cursor);
 * - RSS while pulling 100,000 records page by page (the server must not load them all).
 * Prints one JSON object; pass `--quick` for 10,000 records in the RSS test (a smoke run).
 */
import { cpus, loadavg } from 'node:os';
import { createApp } from '../src/app';
import { benchPatient } from './fixtures';
import { openDataDir } from '../src/db/connection';
import { PullResponse, PushResponse } from '../src/protocol';
import { tempDir, testEnv, testPasswords, TestClient, withAdmin } from '../src/test-utils';
import { sqliteRepositories } from '../src/repositories/sqlite';

const quick = process.argv.includes('--quick');
const N = 10_000;
const BATCH = 500;
const BIG = quick ? 10_000 : 100_000;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const ms = (t: number) => Math.round(t * 10) / 10;

/** A fresh server (SQLite file in a temporary DATA_DIR) with one clinician signed in. */
async function world() {
  const data = tempDir('fdx-sync-bench-');
  const database = openDataDir(data.dir);
  // To compare checkpoint settings: WAL_AUTOCHECKPOINT=10000 npx tsx bench/sync.bench.ts
  if (process.env.WAL_AUTOCHECKPOINT) {
    database.sqlite.pragma(`wal_autocheckpoint = ${Number(process.env.WAL_AUTOCHECKPOINT)}`);
  }
  const env = testEnv({ DATA_DIR: data.dir });
  const app = createApp({ repos: sqliteRepositories(database.db), env, passwords: testPasswords });
  const { admin, adminId, createTeam } = await withAdmin(app);
  const teamId = await createTeam('Bench');
  await admin.post(`/api/admin/teams/${teamId}/members`, { userId: adminId, role: 'clinician' });
  const client = new TestClient(app);
  client.token = admin.token;
  const deviceId = 'bench-device-1';

  /** Time spent in app.request (server work plus the in-process request/response plumbing). */
  async function pushAll(from: number, count: number, version: number, tag: string) {
    let serverMs = 0;
    for (let start = from; start < from + count; start += BATCH) {
      const mutations = [];
      for (let i = start; i < Math.min(start + BATCH, from + count); i++) {
        const rec = { ...benchPatient(i, teamId, { version }), phone: tag };
        mutations.push({
          mutationId: `${tag}-${i}`,
          table: 'patients',
          id: rec.id,
          baseVersion: version,
          op: 'put',
          data: rec,
        });
      }
      const body = JSON.stringify({ deviceId, mutations });
      const t0 = performance.now();
      const res = await app.request('/api/sync/push', {
        method: 'POST',
        headers: {
          origin: 'http://localhost:8787',
          'content-type': 'application/json',
          cookie: `fdx_session=${client.token}`,
        },
        body,
      });
      const json = PushResponse.parse(await res.json());
      serverMs += performance.now() - t0;
      if (json.results.some((r) => r.status !== 'applied')) throw new Error('not applied');
    }
    return serverMs;
  }

  async function pullAll(limit: number, onPage?: () => void) {
    let cursor = 0;
    let n = 0;
    let pages = 0;
    const t0 = performance.now();
    for (;;) {
      const res = await client.get(`/api/sync/pull?cursor=${cursor}&limit=${limit}`, {
        'x-device-id': deviceId,
      });
      const page = (await res.json()) as PullResponse;
      n += page.changes.length;
      pages += 1;
      cursor = page.cursor;
      onPage?.();
      if (!page.hasMore) break;
    }
    return { ms: performance.now() - t0, n, pages, cursor };
  }

  async function noopPull(cursor: number) {
    const t0 = performance.now();
    const res = await client.get(`/api/sync/pull?cursor=${cursor}&limit=500`, {
      'x-device-id': deviceId,
    });
    const page = PullResponse.parse(await res.json());
    if (page.changes.length !== 0) throw new Error('no-op pull returned changes');
    return performance.now() - t0;
  }

  const close = () => {
    database.close();
    data.remove();
  };
  return { pushAll, pullAll, noopPull, close };
}

async function main() {
  // Warm-up (JIT, statement preparation) on a throw-away server, not measured.
  const warm = await world();
  await warm.pushAll(0, 2 * BATCH, 0, 'warm');
  await warm.pushAll(0, 2 * BATCH, 1, 'warm-upd');
  await warm.pullAll(500);
  warm.close();

  const w = await world();
  const pushNewMs = await w.pushAll(0, N, 0, 'new');
  const pushUpdateMs = await w.pushAll(0, N, 1, 'upd');
  const pull = await w.pullAll(500);
  let noopMs = Infinity;
  for (let i = 0; i < 5; i++) noopMs = Math.min(noopMs, await w.noopPull(pull.cursor));

  // RSS over a large pull: add records up to BIG, then pull them all in pages of 1000.
  await w.pushAll(N, BIG - N, 0, 'big');
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssMax = rssBefore;
  const big = await w.pullAll(1000, () => {
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  });
  w.close();

  const result = {
    records: N,
    batch: BATCH,
    pushNewMs: ms(pushNewMs),
    pushNewPerSecond: Math.round(N / (pushNewMs / 1000)),
    pushUpdateMs: ms(pushUpdateMs),
    pull10kPages500Ms: ms(pull.ms),
    pull10kCount: pull.n,
    noopPullMs: ms(noopMs),
    bigPull: {
      records: big.n,
      pages: big.pages,
      ms: ms(big.ms),
      rssBeforeMb: mb(rssBefore),
      rssMaxMb: mb(rssMax),
      rssGrowthMb: mb(rssMax - rssBefore),
    },
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
