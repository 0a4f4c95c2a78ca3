/**
 * Throughput of one server instance against two: `pnpm bench:instances` (loopback only).
 *
 * 50 simulated devices (10 clinicians of one team, 5 tablets each; test/fleet.ts) edit shared
 * patients and push and pull as fast as they are answered, each with at most one request in
 * flight, for BENCH_SECONDS (default 30), through the round-robin loopback proxy
 * (test/proxy.ts) in front of 1 and then 2 server processes on one fresh data folder each. The
 * proxy is there in both runs so that only the number of instances differs. Afterwards the
 * devices drain and every acknowledged edit and every device's copy are checked against the
 * database, as in the soak test. Runs on SQLite (one data folder shared by the instances) and on
 * PostgreSQL (one database of a throw-away server, test/postgres.ts); BENCH_DB=sqlite or
 * BENCH_DB=postgres runs one. Prints and writes bench-results/instances.json: pushes/s, push p50
 * and p99 for each.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type ServerInstance } from '../test/cluster';
import { Fleet, quantile } from '../test/fleet';
import { startProxy } from '../test/proxy';
import { newPostgresDatabase } from '../src/test-utils';

const OUT_FILE = fileURLToPath(new URL('../../bench-results/instances.json', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SEED = 1126;

const running: ServerInstance[] = [];

type Dialect = 'sqlite' | 'postgres';
const DIALECTS: Dialect[] =
  process.env.BENCH_DB === 'sqlite' || process.env.BENCH_DB === 'postgres'
    ? [process.env.BENCH_DB]
    : ['sqlite', 'postgres'];

async function measure(dialect: Dialect, instanceCount: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-instances-'));
  const databaseUrl = dialect === 'postgres' ? await newPostgresDatabase() : undefined;
  const upstreams: string[] = [];
  const proxy = await startProxy(upstreams);
  try {
    const instances = await startCluster(instanceCount, {
      dataDir,
      publicOrigin: proxy.origin,
      env: { TRUST_PROXY: 'true', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    });
    running.push(...instances);
    upstreams.push(...instances.map((s) => s.origin));
    const fleet = await Fleet.create({
      origin: proxy.origin,
      users: 10,
      tabletsPerUser: 5,
      seed: SEED,
    });
    const t0 = Date.now();
    await Promise.all(fleet.devices.map((d) => fleet.runDevice(d, t0 + SECONDS * 1000, 0)));
    const elapsed = (Date.now() - t0) / 1000;
    const pushes = fleet.pushLatencies.length;
    await fleet.drain();
    for (const s of instances) await s.stop('SIGTERM');
    const { problems, records } = databaseUrl
      ? await fleet.verifyAgainstPostgres(databaseUrl)
      : await fleet.verifyAgainst(dataDir);
    if (problems.length > 0) {
      throw new Error(`${problems.length} problem(s):\n${problems.slice(0, 20).join('\n')}`);
    }
    return {
      database: dialect,
      instances: instanceCount,
      devices: fleet.devices.length,
      seconds: Math.round(elapsed),
      pushes,
      pushesPerSecond: Math.round((pushes / elapsed) * 10) / 10,
      pushP50Ms: quantile(fleet.pushLatencies, 0.5),
      pushP99Ms: quantile(fleet.pushLatencies, 0.99),
      acknowledgedEdits: fleet.acks.length,
      records,
      answersPerInstance: proxy.served,
    };
  } finally {
    await proxy.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  const runs = [];
  const twoOverOne: Record<string, number> = {};
  for (const dialect of DIALECTS) {
    for (const n of [1, 2]) {
      console.log(`${dialect}, ${n} instance(s), 50 devices, ${SECONDS} s…`);
      runs.push(await measure(dialect, n));
      console.log(JSON.stringify(runs.at(-1)));
    }
    const [a, b] = runs.slice(-2);
    twoOverOne[dialect] = Math.round((b!.pushesPerSecond / a!.pushesPerSecond) * 100) / 100;
  }
  const result = { cores: cpus().length, runs, twoOverOne };
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const s of running) await s.stop('SIGKILL');
}
