/**
 * A small team on a large server (issue 17: a national programme's server holds many teams):
 * `pnpm --filter sync-server bench:pull-big-server` (or `npx tsx bench/pull-big-server.bench.ts`
 * in sync-server/). Service level (services/sync.ts through the sync repository), no HTTP, on
 * SQLite and on a real PostgreSQL (test/postgres.ts starts one in a temporary folder).
 *
 * The server holds OTHER (default 200,000) ~1 KB patients of other teams, pushed in the app's
 * batches of 3,000, with the caller's team's MINE (default 2,000) spread evenly among them. Then:
 * - a fresh device of the caller pulls everything of its team in the app's pages of 1,000: time
 *   and requests;
 * - other teams write 20,000 more; the caller's caught-up device pulls again (nothing for it):
 *   time and requests.
 * `--dialect sqlite|postgres` runs one only. Prints one JSON object.
 */
import { cpus, loadavg } from 'node:os';
import { startPostgres } from '../test/postgres';
import type { DeviceRow } from '../src/db/schema';
import { openDataDir } from '../src/db/connection';
import { openPostgres } from '../src/db/postgres';
import { postgresSyncRepository } from '../src/repositories/postgres/sync.repository';
import { sqliteSyncRepository } from '../src/repositories/sqlite/sync.repository';
import type { SyncRepository } from '../src/repositories/sync.repository';
import { scopeFrom, type Scope } from '../src/services/scope';
import { newDeviceRow, pull, push } from '../src/services/sync';
import { tempDir } from '../src/test-utils';
import { benchCreation } from './fixtures';

const OTHER = Number(process.env.BENCH_OTHER ?? 200_000);
const MINE = Number(process.env.BENCH_MINE ?? 2_000);
const LATER = 20_000;
const BATCH = 3_000; // web/src/lib/sync: mutations per push request
const PAGE = 1_000; // web/src/lib/sync/engine.ts PULL_PAGE
const OTHER_TEAMS = 20;
const only = process.argv.includes('--dialect')
  ? process.argv[process.argv.indexOf('--dialect') + 1]
  : undefined;

const MY_TEAM = 'team-mine';

/** A clinician of `team` alone. */
const clinicianOf = (team: string): Scope =>
  scopeFrom(`user-${team}`, false, [{ teamId: team, role: 'clinician' }]);

/** Pushes records [from, to) in batches, each record's team chosen by `teamOf`. */
async function fill(repo: SyncRepository, from: number, to: number, teamOf: (i: number) => string) {
  for (let start = from; start < to; start += BATCH) {
    const byTeam = new Map<string, unknown[]>();
    for (let i = start; i < Math.min(start + BATCH, to); i++) {
      const team = teamOf(i);
      const list = byTeam.get(team) ?? [];
      list.push(benchCreation(i, team, `user-${team}`));
      byTeam.set(team, list);
    }
    for (const [team, mutations] of byTeam) {
      const results = await push(
        repo,
        { scope: clinicianOf(team), deviceId: `filler-${team}`, now: new Date() },
        mutations as never,
      );
      const bad = results.find((r) => r.status !== 'applied');
      if (bad) throw new Error(`push: ${JSON.stringify(bad)}`);
    }
  }
}

async function pullAll(repo: SyncRepository, scope: Scope, reader: DeviceRow, from: number) {
  const t0 = performance.now();
  let cursor = from;
  let count = 0;
  let requests = 0;
  for (;;) {
    const page = await pull(repo, scope, reader, cursor, PAGE);
    requests++;
    count += page.count;
    cursor = page.cursor;
    reader.scope = [...scope.fingerprint];
    if (!page.hasMore) break;
  }
  return { ms: Math.round(performance.now() - t0), requests, count, cursor };
}

async function measure(repo: SyncRepository) {
  const total = OTHER + MINE;
  const every = Math.max(1, Math.floor(total / MINE));
  let mine = 0;
  const teamOf = (i: number) => {
    if (i % every === 0 && mine < MINE) {
      mine++;
      return MY_TEAM;
    }
    return `team-other-${i % OTHER_TEAMS}`;
  };
  const t0 = performance.now();
  await fill(repo, 0, total, teamOf);
  const fillMs = Math.round(performance.now() - t0);
  const scope = clinicianOf(MY_TEAM);
  const reader = newDeviceRow('bench-reader', scope.userId, new Date());
  const fresh = await pullAll(repo, scope, reader, 0);
  if (fresh.count !== mine) throw new Error(`pull: ${fresh.count} records, expected ${mine}`);
  await fill(repo, total, total + LATER, (i) => `team-other-${i % OTHER_TEAMS}`);
  const caughtUp = await pullAll(repo, scope, reader, fresh.cursor);
  if (caughtUp.count !== 0) throw new Error(`pull: ${caughtUp.count} records, expected 0`);
  return {
    fillMs,
    mine,
    freshPull: fresh,
    pullAfterOthersWrote: { ...caughtUp, othersWrote: LATER },
  };
}

const out: Record<string, unknown> = {
  otherTeamsRecords: OTHER,
  myTeamRecords: MINE,
  cpus: cpus().length,
  loadBefore: loadavg().map((l) => Math.round(l * 10) / 10),
};
if (only !== 'postgres') {
  const data = tempDir('fdx-big-bench-');
  const database = openDataDir(data.dir);
  try {
    out.sqlite = await measure(sqliteSyncRepository(database.db));
  } finally {
    database.close();
    data.remove();
  }
}
if (only !== 'sqlite') {
  const server = await startPostgres();
  try {
    const opened = await openPostgres(await server.createDatabase('bench_big'));
    try {
      out.postgres = await measure(postgresSyncRepository(opened.pool));
    } finally {
      await opened.close();
    }
  } finally {
    await server.stop();
  }
}
out.loadAfter = loadavg().map((l) => Math.round(l * 10) / 10);
console.log(JSON.stringify(out, null, 2));
