/**
 * Throughput of one server instance against two: `pnpm bench:instances` (loopback only).
 *
 * 50 simulated devices (10 clinicians of one team, 5 tablets each; test/fleet.ts) edit shared
 * patients and push and pull as fast as they are answered, each with at most one request in
 * flight, for BENCH_SECONDS (default 30), through the round-robin loopback proxy
 * (test/proxy.ts) in front of 1 and then 2 server processes on one fresh data folder each. The
 * proxy is there in both runs so that only the number of instances differs. Afterwards the
 * devices drain and every acknowledged edit and every device's copy are checked against the
 * database, as in the soak test. Prints and writes bench-results/instances.json: pushes/s, push
 * p50 and p99 for each.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type ServerInstance } from '../test/cluster';
import { Fleet, quantile } from '../test/fleet';
import { startProxy } from '../test/proxy';

const OUT_FILE = fileURLToPath(new URL('../../bench-results/instances.json', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SEED = 1126;

const running: ServerInstance[] = [];

async function measure(instanceCount: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-instances-'));
  const upstreams: string[] = [];
  const proxy = await startProxy(upstreams);
  try {
    const instances = await startCluster(instanceCount, {
      dataDir,
      publicOrigin: proxy.origin,
      env: { TRUST_PROXY: 'true' },
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
    const { problems, records } = fleet.verifyAgainst(dataDir);
    if (problems.length > 0) {
      throw new Error(`${problems.length} problem(s):\n${problems.slice(0, 20).join('\n')}`);
    }
    return {
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
  for (const n of [1, 2]) {
    console.log(`${n} instance(s), 50 devices, ${SECONDS} s…`);
    runs.push(await measure(n));
    console.log(JSON.stringify(runs.at(-1)));
  }
  const result = {
    database: 'sqlite',
    cores: cpus().length,
    runs,
    twoOverOne: Math.round((runs[1]!.pushesPerSecond / runs[0]!.pushesPerSecond) * 100) / 100,
  };
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const s of running) await s.stop('SIGKILL');
}
