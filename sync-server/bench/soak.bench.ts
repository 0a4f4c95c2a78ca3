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
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DB_FILE_NAME } from '../src/db/connection';
import type { MutationResult, PullResponse } from '../src/protocol';
import { freePort } from '../src/test-utils';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const OUT_FILE = path.join(SERVER_DIR, '..', 'bench-results', 'soak.json');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const USERS = 10;
const TABLETS_PER_USER = 5;
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
const PASSWORD = 'a long soak test password';

/** mulberry32: a small seeded generator, so that a run can be repeated. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(SEED);
const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The server process

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-soak-'));
let proc: ChildProcess | null = null;

async function startServer() {
  let stderr = '';
  proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'silent',
      WEB_DIR: '/nonexistent/fielddx-web-build',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr!.on('data', (d) => (stderr += d));
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited:\n${stderr}`);
    try {
      if ((await fetch(`${origin}/api/health`)).status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() - t0 > 30_000) throw new Error(`no health after 30 s:\n${stderr}`);
    await sleep(20);
  }
}

async function killServer(signal: NodeJS.Signals) {
  const p = proc;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
}

async function call(token: string | null, method: string, url: string, body?: unknown) {
  const res = await fetch(`${origin}${url}`, {
    signal: AbortSignal.timeout(60_000),
    method,
    headers: {
      origin,
      'content-type': 'application/json',
      ...(token ? { cookie: `fdx_session=${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 500) throw new Error(`${method} ${url}: ${res.status}`);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Simulated devices

type Rec = Record<string, unknown> & { id: string };
interface Pending {
  mutationId: string;
  id: string;
  baseVersion: number;
  data: Rec;
}
interface Device {
  id: string;
  token: string;
  records: Map<string, { version: number; data: Rec }>;
  outbox: Map<string, Pending>;
  cursor: number;
}
interface Ack {
  deviceId: string;
  mutationId: string;
  result: MutationResult;
}

let teamId = '';
const acks: Ack[] = [];
const pushLatencies: number[] = [];
let counter = 0;
const uid = (p: string) => `${p}-${SEED}-${(counter++).toString(36)}`;

function edit(d: Device) {
  const known = [...d.records.keys()];
  if (known.length < 20 || rand() < 0.15) {
    const id = uid('p');
    const data: Rec = { id, teamId, version: 0, deleted: false, givenName: 'Soak', village: 'v0' };
    d.records.set(id, { version: 0, data });
    d.outbox.set(id, { mutationId: uid('m'), id, baseVersion: 0, data });
    return;
  }
  const id = pick(known);
  const local = d.records.get(id)!;
  const data = { ...local.data, [pick(['village', 'phone', 'notes'])]: uid('x') };
  local.data = data;
  const pending = d.outbox.get(id);
  // One outbox row per record, as on a tablet: a new edit replaces the row not yet sent.
  d.outbox.set(id, {
    mutationId: uid('m'),
    id,
    baseVersion: pending?.baseVersion ?? local.version,
    data,
  });
}

/** Pushes the outbox; false when the server did not answer (it is retried with the same ids). */
async function push(d: Device): Promise<boolean> {
  const sent = [...d.outbox.values()];
  if (sent.length === 0) return true;
  const mutations = sent.map((p) => ({
    mutationId: p.mutationId,
    table: 'patients',
    id: p.id,
    baseVersion: p.baseVersion,
    op: 'put',
    data: p.data,
  }));
  const t0 = performance.now();
  let results: MutationResult[];
  try {
    const res = await call(d.token, 'POST', '/api/sync/push', { deviceId: d.id, mutations });
    if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
    results = ((await res.json()) as { results: MutationResult[] }).results;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('push:')) throw err;
    return false;
  }
  pushLatencies.push(performance.now() - t0);
  results.forEach((result, i) => {
    const p = sent[i]!;
    acks.push({ deviceId: d.id, mutationId: p.mutationId, result });
    if (result.status === 'rejected') throw new Error(`rejected: ${JSON.stringify(result)}`);
    // Only if no newer edit replaced it meanwhile (none can: a device pushes then edits).
    if (d.outbox.get(p.id)?.mutationId === p.mutationId) d.outbox.delete(p.id);
    // Applied as sent: the record learns its version from the next pull, as in the app.
    if (result.status === 'applied') return;
    const local = d.records.get(p.id);
    if (!local || local.version < result.version) {
      d.records.set(p.id, { version: result.version, data: result.record as Rec });
    }
  });
  return true;
}

/** Pulls to the end; false when the server did not answer. */
async function pull(d: Device): Promise<boolean> {
  for (;;) {
    let page: PullResponse;
    try {
      const res = await fetch(`${origin}/api/sync/pull?cursor=${d.cursor}&limit=200`, {
        signal: AbortSignal.timeout(60_000),
        headers: { cookie: `fdx_session=${d.token}`, 'x-device-id': d.id },
      });
      if (res.status >= 500) return false;
      if (res.status !== 200) throw new Error(`pull: ${res.status} ${await res.text()}`);
      page = (await res.json()) as PullResponse;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('pull:')) throw err;
      return false;
    }
    if (page.reset) {
      d.cursor = 0;
      continue;
    }
    for (const c of page.changes) {
      const local = d.records.get(c.id);
      if (d.outbox.has(c.id) || (local && local.version >= c.version)) continue;
      d.records.set(c.id, { version: c.version, data: c.record as Rec });
    }
    d.cursor = page.cursor;
    if (!page.hasMore) return true;
  }
}

async function runDevice(d: Device, until: number) {
  while (Date.now() < until) {
    const edits = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < edits; i++) edit(d);
    if (!(await push(d)) || !(await pull(d))) {
      await sleep(100 + rand() * 200);
      continue;
    }
    await sleep(rand() * 200);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  await startServer();
  const signup = await call(null, 'POST', '/api/auth/signup', {
    email: 'admin@soak.example',
    password: PASSWORD,
    name: 'Admin',
  });
  const adminToken = /fdx_session=([^;]+)/.exec(signup.headers.get('set-cookie') ?? '')![1]!;
  const team = (await (
    await call(adminToken, 'POST', '/api/admin/teams', { name: 'Soak' })
  ).json()) as { id: string };
  teamId = team.id;
  const devices: Device[] = [];
  for (let u = 0; u < USERS; u++) {
    const inv = (await (
      await call(adminToken, 'POST', '/api/admin/invitations', { teamId, role: 'clinician' })
    ).json()) as { code: string };
    const res = await call(null, 'POST', '/api/auth/signup', {
      email: `clinician${u}@soak.example`,
      password: PASSWORD,
      name: `Clinician ${u}`,
      invitationCode: inv.code,
    });
    if (res.status !== 201) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
    const token = /fdx_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
    for (let t = 0; t < TABLETS_PER_USER; t++) {
      devices.push({ id: uid('tablet'), token, records: new Map(), outbox: new Map(), cursor: 0 });
    }
  }

  console.log(`soak: ${devices.length} devices for ${SECONDS} s, seed ${SEED}, data ${dataDir}`);
  const started = Date.now();
  const until = started + SECONDS * 1000;
  let kills = 0;
  const killer = (async () => {
    for (;;) {
      await sleep(3000 + rand() * 12_000);
      if (Date.now() >= until) return;
      await killServer('SIGKILL');
      kills++;
      await startServer();
    }
  })();
  const progress = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    console.log(`  ${s} s: ${pushLatencies.length} pushes, ${acks.length} edits, ${kills} kills`);
  }, 30_000);
  await Promise.all(devices.map((d) => runDevice(d, until)));
  await killer;
  clearInterval(progress);
  const elapsed = (Date.now() - started) / 1000;

  // Last sync with the server left alone: every outbox drains, every device pulls to the end.
  for (let round = 0; round < 3; round++) {
    for (const d of devices) {
      while (!(await push(d))) await sleep(200);
    }
    for (const d of devices) {
      while (!(await pull(d))) await sleep(200);
    }
  }
  await killServer('SIGTERM');

  // Checks, on the database itself.
  const db = new Database(path.join(dataDir, DB_FILE_NAME), { readonly: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  // Counted once per (device, mutation): a query per edit would scan history each time.
  const countsOf = (sql: string) =>
    new Map(
      db
        .prepare<[], { k: string; n: number }>(sql)
        .all()
        .map((r) => [r.k, r.n]),
    );
  const storedResults = countsOf(
    `SELECT device_id || ' ' || mutation_id AS k, count(*) AS n FROM applied_mutations GROUP BY k`,
  );
  const historyVersions = countsOf(
    `SELECT device_id || ' ' || mutation_id AS k, count(*) AS n FROM record_history GROUP BY k`,
  );
  const problems: string[] = [];
  for (const a of acks) {
    const key = `${a.deviceId} ${a.mutationId}`;
    if (storedResults.get(key) !== 1) {
      problems.push(`acknowledged ${a.mutationId} has no stored result`);
    }
    const versions = historyVersions.get(key) ?? 0;
    if (a.result.status === 'applied' ? versions !== 1 : versions > 1) {
      problems.push(`acknowledged ${a.mutationId} (${a.result.status}) is in history ${versions}×`);
    }
  }
  const server = new Map(
    db
      .prepare<[], { id: string; version: number; data: string }>(
        'SELECT id, version, data FROM records',
      )
      .all()
      .map((r) => [r.id, r]),
  );
  db.close();
  for (const d of devices) {
    if (d.outbox.size > 0) problems.push(`${d.id} still has ${d.outbox.size} edits waiting`);
    if (d.records.size !== server.size) {
      problems.push(`${d.id} holds ${d.records.size} records, the server ${server.size}`);
    }
    for (const [id, local] of d.records) {
      const s = server.get(id);
      if (!s || s.version !== local.version || s.data !== JSON.stringify(local.data)) {
        problems.push(`${d.id} differs on ${id}`);
        break;
      }
    }
  }
  if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);

  const sorted = [...pushLatencies].sort((a, b) => a - b);
  const pct = (p: number) => Math.round(sorted[Math.floor((sorted.length - 1) * p)]! * 10) / 10;
  const result = {
    seed: SEED,
    seconds: Math.round(elapsed),
    devices: devices.length,
    kills,
    pushes: pushLatencies.length,
    pushesPerSecond: Math.round((pushLatencies.length / elapsed) * 10) / 10,
    pushP50Ms: pct(0.5),
    pushP99Ms: pct(0.99),
    acknowledgedEdits: acks.length,
    records: server.size,
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
  await killServer('SIGKILL');
}
