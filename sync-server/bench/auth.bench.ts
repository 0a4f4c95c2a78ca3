/**
 * Sign-in and sign-up latency, in process, on a SQLite file with the production argon2 cost:
 * `pnpm --filter sync-server bench:auth`. Each request is timed alone (one at a time), from a fresh
 * IP where the limiters would otherwise hold it back. Prints medians and p95s in ms. Then the
 * session check every request pays (GET /api/health with a session cookie: the session middleware
 * and nothing else) and GET /api/auth/me, BENCH_SESSION_N times each (20 × N by default).
 */
import path from 'node:path';
import { createApp } from '../src/app';
import { openDatabase } from '../src/db/connection';
import { PASSWORD, tempDir, TestClient, testEnv, withAdmin } from '../src/test-utils';
import { sqliteRepositories } from '../src/repositories/sqlite';

const N = Number(process.env.BENCH_N ?? 60);
const SESSION_N = Number(process.env.BENCH_SESSION_N ?? 20 * N);

const folder = tempDir('fdx-bench-auth-');
const database = openDatabase(path.join(folder.dir, 'fielddx.sqlite'));
const app = createApp({
  repos: sqliteRepositories(database.db),
  env: testEnv({ TRUST_PROXY: true }),
});

const ms = (list: number[]) => {
  const sorted = [...list].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: +at(0.5).toFixed(2), p95: +at(0.95).toFixed(2) };
};

async function timed(
  label: string,
  expected: number,
  send: (i: number) => Promise<Response>,
  n = N,
) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await send(i);
    times.push(performance.now() - t0);
    if (res.status !== expected) throw new Error(`${label}: ${res.status}, expected ${expected}`);
  }
  return [label, ms(times)] as const;
}

try {
  const { admin, createTeam, invite } = await withAdmin(app);
  const team = await createTeam('Bench');
  const codes: string[] = [];
  for (let i = 0; i < N; i++) codes.push(await invite(team));
  const ip = (i: number) => ({ 'x-forwarded-for': `10.${(i >> 8) & 255}.${i & 255}.1` });
  const results = [
    await timed('sign-in, right password', 200, (i) =>
      new TestClient(app, ip(i)).login('admin@example.org', PASSWORD),
    ),
    // From the IPs the right password just made known: only the (account, IP) bucket applies.
    await timed('sign-in, wrong password', 401, (i) =>
      new TestClient(app, ip(i)).login('admin@example.org', `wrong ${i}`),
    ),
    await timed('sign-in, unknown account', 401, (i) =>
      new TestClient(app, ip(2000 + i)).login(`nobody${i}@example.org`, `wrong ${i}`),
    ),
    await timed('sign-up, wrong code', 400, (i) =>
      new TestClient(app, ip(3000 + i)).signup(`s${i}@example.org`, 'S', 'WRONG-CODE-0000'),
    ),
    await timed('sign-up, invited', 201, (i) =>
      new TestClient(app, ip(4000 + i)).signup(`m${i}@example.org`, 'M', codes[i]),
    ),
    await timed(
      'request with a session (GET /api/health)',
      200,
      () => admin.get('/api/health'),
      SESSION_N,
    ),
    await timed('GET /api/auth/me', 200, () => admin.get('/api/auth/me'), SESSION_N),
  ];
  console.log(JSON.stringify(Object.fromEntries(results), null, 2));
} finally {
  database.close();
  folder.remove();
}
