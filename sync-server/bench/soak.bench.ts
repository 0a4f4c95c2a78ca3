/**
 * Soak test under faults: `pnpm bench:soak` (loopback only; stops by itself).
 *
 * The real server process runs on a temporary DATA_DIR while 50 simulated devices (10 clinicians
 * of one team, 5 tablets each) edit shared patients at random and push and pull for SOAK_SECONDS
 * (default 300). Meanwhile the server is SIGKILLed at random moments (every 3–15 s) and restarted
 * on the same data; devices retry what was not answered with the same mutation ids. Afterwards:
 * every acknowledged edit is on the server exactly once, `PRAGMA integrity_check` is ok, and
 * every device, after a last sync, holds exactly the server's records. Prints and writes
 * bench-results/soak.json: pushes/s, push p50/p99, kills survived. SOAK_SEED seeds the random
 * choices (the interleaving of devices and kills still varies).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerInstance } from '../test/cluster';
import { Fleet, quantile } from '../test/fleet';
import { seededRandom } from '../test/random';

const OUT_FILE = fileURLToPath(new URL('../../bench-results/soak.json', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-soak-'));
/** Kept for the last SIGKILL, whatever happens. */
const started: ServerInstance[] = [];

async function main() {
  const server = await ServerInstance.start({ dataDir });
  started.push(server);
  // 10 clinicians of one team, 5 tablets each.
  const fleet = await Fleet.create({
    origin: server.origin,
    users: 10,
    tabletsPerUser: 5,
    seed: SEED,
  });
  const rand = seededRandom(SEED + 1);
  console.log(
    `soak: ${fleet.devices.length} devices for ${SECONDS} s, seed ${SEED}, data ${dataDir}`,
  );
  const t0 = Date.now();
  const until = t0 + SECONDS * 1000;
  let kills = 0;
  const killer = (async () => {
    for (;;) {
      await sleep(3000 + rand() * 12_000);
      if (Date.now() >= until) return;
      await server.stop('SIGKILL');
      kills++;
      await server.restart();
    }
  })();
  const progress = setInterval(() => {
    const s = Math.round((Date.now() - t0) / 1000);
    console.log(
      `  ${s} s: ${fleet.pushLatencies.length} pushes, ${fleet.acks.length} edits, ${kills} kills`,
    );
  }, 30_000);
  await Promise.all(fleet.devices.map((d) => fleet.runDevice(d, until)));
  await killer;
  clearInterval(progress);
  const elapsed = (Date.now() - t0) / 1000;

  await fleet.drain();
  await server.stop('SIGTERM');
  const { problems, records, integrity } = await fleet.verifyAgainst(dataDir);

  const result = {
    seed: SEED,
    seconds: Math.round(elapsed),
    devices: fleet.devices.length,
    kills,
    pushes: fleet.pushLatencies.length,
    pushesPerSecond: Math.round((fleet.pushLatencies.length / elapsed) * 10) / 10,
    pushP50Ms: quantile(fleet.pushLatencies, 0.5),
    pushP99Ms: quantile(fleet.pushLatencies, 0.99),
    acknowledgedEdits: fleet.acks.length,
    records,
    integrity,
    converged: problems.length === 0,
  };
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  if (problems.length > 0) {
    console.error(`${problems.length} problem(s):\n${problems.slice(0, 20).join('\n')}`);
    process.exitCode = 1;
  } else {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  for (const s of started) await s.stop('SIGKILL');
}
