/**
 * Push and pull of 10,000 records at the service level (services/sync.ts through the sync
 * repository), on SQLite and on a real PostgreSQL (test/postgres.ts starts one in a temporary
 * folder): `pnpm --filter sync-server bench:sync-repository` (or `npx tsx bench/sync-repository.bench.ts`
 * in sync-server/). No HTTP, no auth: what the database layer costs on each dialect.
 *
 * Each run is a fresh database: 10,000 new ~1 KB patients pushed in the app's batches of 3,000
 * mutations (one push() each), then pulled by another device in the app's pages of 1,000. Prints
 * one JSON object with the median and the range of BENCH_RUNS runs (default 3) per dialect.
 * `--dialect sqlite|postgres` runs one only.
 */
import { cpus, loadavg } from 'node:os';
import { startPostgres } from '../test/postgres';
import { openDataDir } from '../src/db/connection';
import { openPostgres } from '../src/db/postgres';
import { postgresSyncRepository } from '../src/repositories/postgres/sync.repository';
import { sqliteSyncRepository } from '../src/repositories/sqlite/sync.repository';
import type { SyncRepository } from '../src/repositories/sync.repository';
import { scopeFrom } from '../src/services/scope';
import { newDeviceRow, pull, push } from '../src/services/sync';
import { tempDir } from '../src/test-utils';
import { benchCreation } from './fixtures';

const N = 10_000;
const BATCH = 3_000; // web/src/lib/sync: mutations per push request (PUSH_BATCH)
const PAGE = 1_000; // web/src/lib/sync/engine.ts PULL_PAGE
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const only = process.argv.includes('--dialect')
  ? process.argv[process.argv.indexOf('--dialect') + 1]
  : undefined;

const TEAM = 'team-bench';
const USER = 'user-bench';

const scope = scopeFrom(USER, false, [{ teamId: TEAM, role: 'clinician' }]);

async function once(repo: SyncRepository): Promise<{ push: number; pull: number }> {
  const mutations = Array.from({ length: N }, (_, i) => benchCreation(i, TEAM, USER));
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const results = await push(
      repo,
      { scope, deviceId: 'bench-pusher', now: new Date() },
      mutations.slice(i, i + BATCH),
    );
    const bad = results.find((r) => r.status !== 'applied');
    if (bad) throw new Error(`push: ${JSON.stringify(bad)}`);
  }
  const pushMs = performance.now() - t0;

  const t1 = performance.now();
  let cursor = 0;
  let count = 0;
  const reader = newDeviceRow('bench-reader', USER, new Date());
  for (;;) {
    const page = await pull(repo, scope, reader, cursor, PAGE);
    count += page.count;
    cursor = page.cursor;
    reader.scope = [...scope.fingerprint];
    if (!page.hasMore) break;
  }
  const pullMs = performance.now() - t1;
  if (count !== N) throw new Error(`pull: ${count} records, expected ${N}`);
  return { push: pushMs, pull: pullMs };
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x);
  return {
    median: r(sorted[Math.floor(sorted.length / 2)]!),
    min: r(sorted[0]!),
    max: r(sorted.at(-1)!),
  };
}

async function dialect(
  open: () => Promise<{ repo: SyncRepository; close(): Promise<void> | void }>,
) {
  const runs: { push: number; pull: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { repo, close } = await open();
    try {
      runs.push(await once(repo));
    } finally {
      await close();
    }
  }
  return {
    pushMs: summary(runs.map((r) => r.push)),
    pullMs: summary(runs.map((r) => r.pull)),
    runs: runs.map((r) => ({ push: Math.round(r.push), pull: Math.round(r.pull) })),
  };
}

const out: Record<string, unknown> = {
  records: N,
  pushBatch: BATCH,
  pullPage: PAGE,
  runs: RUNS,
  cpus: cpus().length,
  loadBefore: loadavg().map((l) => Math.round(l * 10) / 10),
};

if (only !== 'postgres') {
  out.sqlite = await dialect(async () => {
    const data = tempDir('fdx-repo-bench-');
    const database = openDataDir(data.dir);
    return {
      repo: sqliteSyncRepository(database.db),
      close: () => {
        database.close();
        data.remove();
      },
    };
  });
}
if (only !== 'sqlite') {
  const server = await startPostgres();
  try {
    let n = 0;
    out.postgres = await dialect(async () => {
      const opened = await openPostgres(await server.createDatabase(`bench_${++n}`));
      return { repo: postgresSyncRepository(opened.pool), close: () => opened.close() };
    });
  } finally {
    await server.stop();
  }
}
out.loadAfter = loadavg().map((l) => Math.round(l * 10) / 10);
console.log(JSON.stringify(out, null, 2));
