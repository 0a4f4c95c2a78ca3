/**
 * Cost of `remaining` on a pull answer (issue 16): `npx tsx bench/pull-remaining.bench.ts`.
 *
 * In-process server, SQLite file in a temporary DATA_DIR (WAL). The caller's team holds N ~1 KB
 * patients and another team as many again, interleaved (the count walks both and keeps its own).
 * Times the first pull page (limit 1,000, cursor 0) without and with `remaining=1` (p50 of 21,
 * alternating), and pullRemaining alone, at 10,000 and 100,000 records of the caller's team.
 * Prints one JSON object.
 */
import { cpus, loadavg } from 'node:os';
import { createApp } from '../src/app';
import { openDataDir } from '../src/db/connection';
import { PullResponse, PushResponse } from '../src/protocol';
import { pullRemaining } from '../src/services/pull-remaining';
import { scopeOf } from '../src/services/scope';
import { sqliteRepositories } from '../src/repositories/sqlite';
import { tempDir, testEnv, testPasswords, TestClient, withAdmin } from '../src/test-utils';

const SIZES = [10_000, 100_000];
const ROUNDS = 21;
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t: number) => Math.round(t * 100) / 100;

function patient(i: number, teamId: string) {
  return {
    id: `p-${teamId.slice(0, 8)}-${i}`,
    teamId,
    version: 0,
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedBy: 'bench',
    deleted: false,
    givenName: `Given${i}`,
    familyName: `Family${i}`,
    sex: 'female',
    birthDate: '1990-04-01',
    birthDateEstimated: false,
    village: 'Village '.repeat(60).slice(0, 480) + i,
    phone: '+254700000000',
    identifiers: [{ kind: 'National ID', value: `ID-${i}` }],
  };
}

async function measure(n: number) {
  const data = tempDir('fdx-remaining-bench-');
  const database = openDataDir(data.dir);
  const repos = sqliteRepositories(database.db);
  const app = createApp({
    repos,
    env: testEnv({ DATA_DIR: data.dir }),
    passwords: testPasswords,
  });
  const { admin, adminId, createTeam } = await withAdmin(app);
  const mine = await createTeam('Mine');
  const other = await createTeam('Other');
  for (const team of [mine, other]) {
    await admin.post(`/api/admin/teams/${team}/members`, { userId: adminId, role: 'clinician' });
  }
  const client = new TestClient(app);
  client.token = admin.token;
  const writer = 'bench-writer';
  for (let start = 0; start < n; start += 500) {
    const mutations = [];
    for (let i = start; i < Math.min(start + 500, n); i++) {
      for (const team of [mine, other]) {
        const rec = patient(i, team);
        mutations.push({
          mutationId: `${rec.id}-m`,
          table: 'patients',
          id: rec.id,
          baseVersion: 0,
          op: 'put',
          data: rec,
        });
      }
    }
    const res = await client.post('/api/sync/push', { deviceId: writer, mutations });
    PushResponse.parse(await res.json());
  }
  // The reader is a clinician of `mine` only.
  const removed = await admin.delete(`/api/admin/teams/${other}/members/${adminId}`);
  if (!removed.ok) throw new Error(`remove: ${removed.status}`);
  const scope = await scopeOf(repos, adminId);
  const reader = 'bench-reader';
  const firstPage = async (remaining: boolean) => {
    const t0 = performance.now();
    const res = await client.get(
      `/api/sync/pull?cursor=0&limit=1000${remaining ? '&remaining=1' : ''}`,
      { 'x-device-id': reader },
    );
    const page = PullResponse.parse(await res.json());
    return { t: performance.now() - t0, page };
  };
  const without: number[] = [];
  const withCount: number[] = [];
  const countOnly: number[] = [];
  let remaining: number | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    without.push((await firstPage(false)).t);
    const w = await firstPage(true);
    withCount.push(w.t);
    remaining = w.page.remaining;
    const t0 = performance.now();
    await pullRemaining(repos.sync, scope, w.page.cursor);
    countOnly.push(performance.now() - t0);
  }
  database.close();
  data.remove();
  return {
    recordsOfCaller: n,
    recordsOnServer: 2 * n,
    remaining,
    firstPageP50Ms: ms(p50(without)),
    firstPageWithRemainingP50Ms: ms(p50(withCount)),
    countAloneP50Ms: ms(p50(countOnly)),
  };
}

const results = [];
for (const n of SIZES) results.push(await measure(n));
console.log(
  JSON.stringify(
    { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 10) / 10), results },
    null,
    2,
  ),
);
