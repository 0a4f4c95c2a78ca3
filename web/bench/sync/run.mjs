// bench:sync — sync through the real server over loopback with the real client in Chromium.
//   node web/bench/sync/run.mjs          (from the repository root; no build of the app needed)
// 1. Bundles bench/sync/client.ts (the app's own $lib/db and $lib/sync modules) with Vite into a
//    temporary folder with a bare index.html, and serves it from the real sync server (WEB_DIR,
//    temporary DATA_DIR, free port, 127.0.0.1) so the page's fetches are same-origin as in the app.
// 2. Headless Chromium with an on-disk profile (IndexedDB on disk, as on a phone); an admin makes
//    one team per run and a clinician of it signs up in the browser context (session cookie).
// 3. Measures, each run in a fresh team (p50 of RUNS):
//    - push: a device that synced once at sign-in (nothing yet, as the app does), then 10,000 new
//      ~1 KB patients in the outbox (seeded in bulk, not timed) → syncOnce; the
//      push phase is start → last push batch acknowledged; the whole syncOnce (its pull leaves the
//      device's own records out) is the pushing device's whole sync;
//    - pull: syncOnce on a fresh IndexedDB (new device) in the same team: 10,000 records;
//    - attachments: 100 × 200 KB images (saveAttachment) pushed by syncOnce; pulled on a fresh
//      device by syncOnce (records) + downloadAllAttachments (bytes);
//    - a sync with nothing to do (p50 of 10);
//    - server memory: 100,000 records pushed straight to /api/sync/push from the page, then pulled
//      by syncOnce on a fresh device while the server's VmRSS is sampled every 100 ms.
//    Where the time goes: the transport calls (fetch + server + JSON parse), Resource Timing of each
//    request (server = request sent → first byte), the server process's CPU time (/proc), and the
//    rest (IndexedDB and the engine's own work).
// Writes bench-results/sync.json (sync-postgres.json with DATABASE_URL, i.e. bench:sync:pg). Environment: BENCH_RUNS (3), BENCH_RECORDS (10000),
// BENCH_BIG (100000), BENCH_ATTACHMENTS (100), BENCH_ATTACHMENT_BYTES (204800), BENCH_GZIP (1: pushes
// gzip-encoded as the app sends them; 0: plain), CHROMIUM_PATH.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, request as apiRequest } from '@playwright/test';
import { build } from 'vite';
import { freePort, spawnSyncServer, stopServer, waitForHealth } from '../server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const webDir = fileURLToPath(new URL('../../', import.meta.url));
const rootDir = fileURLToPath(new URL('../../../', import.meta.url));
const serverDir = join(rootDir, 'sync-server');
// DATABASE_URL (bench:sync:pg) runs the server on PostgreSQL: its figures go to a file of their own.
const DATABASE = process.env.DATABASE_URL ? 'postgres' : 'sqlite';
const resultsFile = join(
  rootDir,
  DATABASE === 'postgres' ? 'bench-results/sync-postgres.json' : 'bench-results/sync.json',
);

const int = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const RUNS = int('BENCH_RUNS', 3);
const RECORDS = int('BENCH_RECORDS', 10_000);
const BIG = int('BENCH_BIG', 100_000);
const ATTACHMENTS = int('BENCH_ATTACHMENTS', 100);
const ATTACHMENT_BYTES = int('BENCH_ATTACHMENT_BYTES', 200 * 1024);
const NOOP_SYNCS = 10;
const GZIP = process.env.BENCH_GZIP !== '0';
const RSS_EVERY_MS = 100;
const WATCHDOG_MS = 30 * 60_000;
// Issue 17: push, fresh pull and the pushing device's whole sync each ≤ 1.1 s.
const TARGETS = {
  pushP50Ms: 1100,
  pullP50Ms: 1100,
  wholeSyncP50Ms: 1100,
  noopP50Ms: 50,
  rssGrowthMaxMb: 50,
};
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// --- helpers -----------------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => (x == null ? null : +x.toFixed(d));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const stats = (xs) => ({
  p50: round(median(xs)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
  all: xs.map((x) => round(x)),
});
const log = (...a) => console.log(`[bench:sync ${new Date().toISOString().slice(11, 19)}]`, ...a);

/** A process's resident memory (MB), from /proc. */
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const CLK_TCK = 100; // /proc/<pid>/stat counts CPU time in ticks of 10 ms (USER_HZ)
/** CPU time (ms) of every process below ours, by role: server, Chromium's browser/renderer/…. */
function processCpu() {
  const parent = new Map();
  const info = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      info.set(Number(name), (Number(f[11]) + Number(f[12])) * (1000 / CLK_TCK));
    } catch {
      // gone meanwhile
    }
  }
  const out = {};
  for (const [p, ms] of info) {
    let a = parent.get(p);
    let depth = 0;
    while (a && a !== process.pid && depth++ < 50) a = parent.get(a);
    if (a !== process.pid) continue;
    let role = 'other';
    if (p === server?.pid) role = 'server';
    else {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        // gone meanwhile
      }
      if (!/chrom/i.test(cmd)) continue;
      const type = /--type=(\S+)/.exec(cmd)?.[1];
      const sub = /--utility-sub-type=(\S+)/.exec(cmd)?.[1];
      role = `chromium:${type ? (sub ? `utility:${sub.split('.').pop()}` : type) : 'browser'}`;
    }
    out[role] = (out[role] ?? 0) + ms;
  }
  return out;
}
const cpuDiff = (a, b) =>
  Object.fromEntries(
    Object.keys(b)
      .map((k) => [k, round(b[k] - (a[k] ?? 0))])
      .filter(([, v]) => v > 0),
  );

/** Self time (ms) by function from a V8 CPU profile, the top `n`, plus idle/GC/program. */
function profileSummary(profile, n = 15) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  for (const [id, us] of dt) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const file = url ? url.replace(/^.*\//, '') : '';
    const key = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us / 1000);
  }
  const total = [...self.values()].reduce((a, x) => a + x, 0);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: round(total), top: top.map(([k, ms]) => [k, round(ms)]) };
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// --- temporary folders, server, browser, cleanup --------------------------------------------------
const tempRoot = mkdtempSync(join(tmpdir(), 'fielddx-sync-bench-'));
const wwwDir = join(tempRoot, 'www');
const dataDir = join(tempRoot, 'data');
const profileDir = join(tempRoot, 'chromium-profile');
for (const dir of [wwwDir, dataDir, profileDir]) mkdirSync(dir);
let server;
/** What the server printed so far (its last 20 KB). */
let serverOutput = () => '';
let context;
let admin;
let cleaning;

function cleanup() {
  cleaning ??= (async () => {
    await admin?.dispose().catch(() => {});
    await context?.close().catch(() => {});
    if (server) await stopServer(server);
    rmSync(tempRoot, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the server and deleting ${tempRoot}`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench:sync: still running after ${WATCHDOG_MS / 60_000} min; giving up`);
  void cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

async function bundleClient() {
  await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    publicDir: false,
    resolve: { alias: { $lib: join(webDir, 'src/lib') } },
    build: {
      outDir: wwwDir,
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: false,
      // Readable names in the CPU profile; V8 runs it the same either way.
      minify: false,
      rollupOptions: {
        input: join(here, 'client.ts'),
        output: { format: 'es', entryFileNames: 'client.js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  });
  // No inline script: the server's CSP allows only 'self' (plus hashes of index.html's inline ones).
  writeFileSync(
    join(wwwDir, 'index.html'),
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>bench:sync</title>' +
      '<script type="module" src="/client.js"></script></head><body></body></html>\n',
  );
}

async function startServer(port, origin) {
  ({ child: server, output: serverOutput } = spawnSyncServer({
    serverDir,
    port,
    origin,
    dataDir,
    wwwDir,
  }));
  await waitForHealth(origin, server, serverOutput);
}

async function call(req, origin, method, path, data) {
  const res = await req[method](path, { data, headers: { Origin: origin } });
  if (!res.ok())
    throw new Error(`${method.toUpperCase()} ${path}: ${res.status()} ${await res.text()}`);
  return res.status() === 204 ? null : res.json().catch(() => null);
}

// --- main ------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  const load0 = loadavg();
  log(`bundling ${join(here, 'client.ts')} with Vite`);
  await bundleClient();

  const port = await freePort();
  const origin = `http://localhost:${port}`;
  log(`starting the sync server on ${origin} (127.0.0.1)`);
  await startServer(port, origin);
  const pid = server.pid;

  admin = await apiRequest.newContext({ baseURL: origin });
  await call(admin, origin, 'post', '/api/auth/signup', {
    name: 'Ada Admin',
    email: 'ada@example.org',
    password: 'correct horse battery',
  });

  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    baseURL: origin,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10 * 60_000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));

  let clinicians = 0;
  /** A new team and a clinician of it, signed in in the browser context: a clean data set. */
  async function newClinician(label) {
    const n = ++clinicians;
    const team = await call(admin, origin, 'post', '/api/admin/teams', {
      name: `Bench ${n} ${label}`,
    });
    const invitation = await call(admin, origin, 'post', '/api/admin/invitations', {
      teamId: team.id,
      role: 'clinician',
    });
    if (n > 1) await call(context.request, origin, 'post', '/api/auth/logout', {});
    await call(context.request, origin, 'post', '/api/auth/signup', {
      name: `Clinician ${n}`,
      email: `clinician-${n}@example.org`,
      password: 'a long field password',
      invitationCode: invitation.code,
    });
    const me = await call(context.request, origin, 'get', '/api/auth/me');
    const m = me.memberships.find((x) => x.teamId === team.id && x.role === 'clinician');
    if (!m) throw new Error(`the clinician is not in team ${team.id}: ${JSON.stringify(me)}`);
    return { userId: me.user.id, teamId: team.id };
  }

  // BENCH_PLAIN=1: databases without encryption at rest, for comparison (client.ts).
  await page.goto(process.env.BENCH_PLAIN === '1' ? '/?plain' : '/');
  await page.waitForFunction(() => typeof window.bench === 'object', null, { timeout: 30_000 });
  const env = await page.evaluate(() => ({ ua: navigator.userAgent }));
  const b = (fn, arg) => page.evaluate(fn, arg);
  // BENCH_GZIP=0: pushes plain (the app sends them gzip-encoded), to compare.
  await b((on) => window.bench.setCompress(on), GZIP);
  /** Runs fn, adding the CPU time each process spent meanwhile (server, Chromium's processes). */
  const serverCpu = async (fn) => {
    const c0 = processCpu();
    const out = await fn();
    const cpu = cpuDiff(c0, processCpu());
    return { ...out, serverCpuMs: cpu.server ?? 0, cpuMs: cpu };
  };

  // 1. records: push and pull, RUNS times, each in its own team ------------------------------------
  const recordRuns = [];
  for (let run = 1; run <= RUNS; run++) {
    const author = await newClinician('records');
    await b((name) => window.bench.open(name), `push-${run}`);
    // As the app does at sign-in: a first sync (nothing to push or pull in a new team), then the
    // clinician registers patients offline.
    await b(() => window.bench.sync());
    const seeded = await b(([n, a]) => window.bench.seedPatients(n, a), [RECORDS, author]);
    const push = await serverCpu(() => b(() => window.bench.sync()));
    if (push.summary.applied !== RECORDS || push.summary.pushed !== RECORDS)
      throw new Error(`push run ${run}: ${JSON.stringify(push.summary)}`);
    await b(() => window.bench.drop());
    await b((name) => window.bench.open(name), `pull-${run}`);
    const pull = await serverCpu(() => b(() => window.bench.sync()));
    const counts = await b(() => window.bench.counts());
    if (pull.summary.pulled !== RECORDS || counts.patients !== RECORDS)
      throw new Error(`pull run ${run}: ${JSON.stringify({ summary: pull.summary, counts })}`);
    if (run < RUNS) await b(() => window.bench.drop());
    recordRuns.push({ seeded, push, pull });
    log(
      `run ${run}: seeded ${RECORDS} (~${seeded.avgRecordBytes} B, ${seeded.avgSearchTokens} search tokens each) in ${seeded.ms} ms; ` +
        `push ${push.pushMs} ms (whole syncOnce ${push.ms} ms, ${push.summary.pulled} pulled back); ` +
        `pull on a fresh device ${pull.ms} ms`,
    );
  }

  // 2. a sync with nothing to do, on the last fully synced device -----------------------------------
  const noop = [];
  for (let i = 0; i < NOOP_SYNCS; i++) {
    const r = await b(() => window.bench.sync());
    if (r.summary.pushed !== 0 || r.summary.pulled !== 0)
      throw new Error(`no-op sync did work: ${JSON.stringify(r.summary)}`);
    noop.push(r);
  }
  await b(() => window.bench.drop());
  log(`no-op sync: p50 ${round(median(noop.map((r) => r.ms)))} ms`);

  // 3. attachments ---------------------------------------------------------------------------------
  const attachmentRuns = [];
  for (let run = 1; run <= RUNS; run++) {
    const author = await newClinician('attachments');
    await b((name) => window.bench.open(name), `att-push-${run}`);
    const seeded = await b(
      ([n, bytes, a]) => window.bench.seedAttachments(n, bytes, a),
      [ATTACHMENTS, ATTACHMENT_BYTES, author],
    );
    const push = await serverCpu(() => b(() => window.bench.sync()));
    if (push.summary.applied !== ATTACHMENTS + 1)
      throw new Error(`attachment push run ${run}: ${JSON.stringify(push.summary)}`);
    await b(() => window.bench.drop());
    await b((name) => window.bench.open(name), `att-pull-${run}`);
    const pullRecords = await serverCpu(() => b(() => window.bench.sync()));
    const pullBlobs = await serverCpu(() => b(() => window.bench.downloadAll()));
    const counts = await b(() => window.bench.counts());
    if (pullBlobs.count !== ATTACHMENTS || counts.blobs !== ATTACHMENTS)
      throw new Error(`attachment pull run ${run}: ${JSON.stringify({ pullBlobs, counts })}`);
    await b(() => window.bench.drop());
    attachmentRuns.push({
      seeded,
      push,
      pullRecords,
      pullBlobs,
      pullMs: round(pullRecords.ms + pullBlobs.ms),
    });
    log(
      `attachments run ${run}: push ${push.pushMs} ms; pull ${round(pullRecords.ms + pullBlobs.ms)} ms ` +
        `(records ${pullRecords.ms} + bytes ${pullBlobs.ms})`,
    );
  }

  // 4. profile: syncOnce's steps timed one by one ------------------------------------------------
  log('profiling push and pull step by step');
  const profile = {};
  {
    const a = await newClinician('profile');
    await b((name) => window.bench.open(name), 'prof-push');
    await b(([n, x]) => window.bench.seedPatients(n, x), [RECORDS, a]);
    profile.push = await serverCpu(() => b(() => window.bench.profilePush()));
    profile.pushEchoPull = await serverCpu(() => b(() => window.bench.profilePull()));
    await b(() => window.bench.drop());
    await b((name) => window.bench.open(name), 'prof-pull');
    profile.pull = await serverCpu(() => b(() => window.bench.profilePull()));
    profile.idbRequestLatency = await b(() => window.bench.requestLatency(500));
    profile.idbWriteFloor = await b(([n, x]) => window.bench.writeFloor(n, x), [RECORDS, a]);
    await b(() => window.bench.drop());
    /** `run` under the V8 sampling profiler of the page: its result and the profile. */
    const underProfiler = async (run) => {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
      const result = await run();
      const { profile: cpuProfile } = await cdp.send('Profiler.stop');
      await cdp.detach().catch(() => {});
      return { result, cpuProfile };
    };
    // The same pull again on a fresh device, under the profiler.
    await b((name) => window.bench.open(name), 'prof-pull-cpu');
    const pulled = await underProfiler(() => b(() => window.bench.profilePull()));
    profile.pullUnderProfiler = pulled.result;
    profile.pullPageCpu = profileSummary(pulled.cpuProfile);
    await b(() => window.bench.drop());
    // And a push of RECORDS, syncOnce as the app runs it, under the same profiler.
    const c = await newClinician('profile-push');
    await b((name) => window.bench.open(name), 'prof-push-cpu');
    await b(([n, x]) => window.bench.seedPatients(n, x), [RECORDS, c]);
    const pushed = await underProfiler(() => b(() => window.bench.sync()));
    profile.pushUnderProfiler = pushed.result;
    profile.pushPageCpu = profileSummary(pushed.cpuProfile, 25);
    await b(() => window.bench.drop());
    log(
      `profile: ${JSON.stringify({ ...profile, pullPageCpu: undefined, pushPageCpu: undefined })}`,
    );
    log(`page CPU during a pull: ${JSON.stringify(profile.pullPageCpu)}`);
    log(`page CPU during a push: ${JSON.stringify(profile.pushPageCpu)}`);
  }

  // 5. server memory during a BIG-record pull --------------------------------------------------------
  const author = await newClinician('memory');
  const rssAtStart = rssMb(pid);
  const fill = await serverCpu(() => b(([n, a]) => window.bench.pushDirect(n, a), [BIG, author]));
  if (fill.applied !== BIG) throw new Error(`server fill: ${JSON.stringify(fill)}`);
  log(`server filled with ${BIG} records in ${fill.ms} ms (RSS ${round(rssMb(pid))} MB)`);
  await sleep(2000);
  await b((name) => window.bench.open(name), 'big-pull');
  const samples = [];
  const t0 = Date.now();
  const rssBefore = rssMb(pid);
  samples.push({ t: 0, mb: rssBefore });
  const sampler = setInterval(() => {
    try {
      samples.push({ t: Date.now() - t0, mb: rssMb(pid) });
    } catch {
      // gone meanwhile
    }
  }, RSS_EVERY_MS);
  let bigPull;
  try {
    bigPull = await serverCpu(() => b(() => window.bench.sync()));
  } finally {
    clearInterval(sampler);
  }
  const pullEndT = Date.now() - t0;
  samples.push({ t: pullEndT, mb: rssMb(pid) });
  await sleep(2000);
  const rssAfter = rssMb(pid);
  const bigCounts = await b(() => window.bench.counts());
  if (bigPull.summary.pulled !== BIG || bigCounts.patients !== BIG)
    throw new Error(`big pull: ${JSON.stringify({ summary: bigPull.summary, bigCounts })}`);
  await b(() => window.bench.drop());
  const during = samples.filter((s) => s.t <= pullEndT);
  const rssMax = Math.max(...during.map((s) => s.mb));
  const mbPerS = slope(during.map((s) => ({ x: s.t / 1000, y: s.mb })));
  const secondHalf = during.filter((s) => s.t >= pullEndT / 2);
  const mbPerSSecondHalf = slope(secondHalf.map((s) => ({ x: s.t / 1000, y: s.mb })));
  const recordsPerS = BIG / (bigPull.ms / 1000);
  const memory = {
    records: BIG,
    rssAtStartMb: round(rssAtStart),
    fill: { ...fill, rssAfterMb: round(rssBefore) },
    pull: bigPull,
    rssBeforeMb: round(rssBefore),
    rssMaxDuringMb: round(rssMax),
    rssAfterMb: round(rssAfter),
    growthMb: round(rssMax - rssBefore),
    slopeMbPerS: round(mbPerS, 2),
    slopeMbPer10kRecords: round((mbPerS / recordsPerS) * 10_000, 2),
    slopeSecondHalfMbPerS: round(mbPerSSecondHalf, 2),
    sampleEveryMs: RSS_EVERY_MS,
    samples: during.map((s) => [s.t, round(s.mb)]),
  };
  log(
    `server RSS over a ${BIG}-record pull (${bigPull.ms} ms): before ${memory.rssBeforeMb} MB, ` +
      `max ${memory.rssMaxDuringMb} MB, after ${memory.rssAfterMb} MB, slope ${memory.slopeMbPerS} MB/s`,
  );

  // 6. JSON cost of one pull page in the page (for the profile) --------------------------------------
  const jsonPage = await b((a) => window.bench.jsonCost(500, a), author);

  // --- results -------------------------------------------------------------------------------------
  const pushMs = recordRuns.map((r) => r.push.pushMs);
  const pullMs = recordRuns.map((r) => r.pull.ms);
  const noopMs = noop.map((r) => r.ms);
  const result = {
    date: new Date().toISOString(),
    environment: {
      node: process.version,
      chromium: /Chrome\/([\d.]+)/.exec(env.ua)?.[1] ?? env.ua,
      cores: cpus().length,
      loadAvgAtStart: load0.map((x) => round(x, 2)),
      loadAvgAtEnd: loadavg().map((x) => round(x, 2)),
      encryptionAtRest: process.env.BENCH_PLAIN !== '1',
      note: 'server and headless Chromium on one machine over loopback; IndexedDB on disk',
    },
    config: {
      runs: RUNS,
      records: RECORDS,
      big: BIG,
      attachments: ATTACHMENTS,
      attachmentBytes: ATTACHMENT_BYTES,
      gzipPushes: GZIP,
    },
    targets: TARGETS,
    records: {
      avgRecordBytes: recordRuns[0].seeded.avgRecordBytes,
      avgSearchTokens: recordRuns[0].seeded.avgSearchTokens,
      pushMs: stats(pushMs),
      /**
       * The pushing device's whole syncOnce: push, then a pull that leaves its own records out
       * (docs/sync-no-echo.md).
       */
      pushSyncOnceTotalMs: stats(recordRuns.map((r) => r.push.ms)),
      pullMs: stats(pullMs),
      runs: recordRuns,
    },
    noopSync: { ms: { ...stats(noopMs), p95: round(percentile(noopMs, 95)) }, runs: noop },
    attachments: {
      count: ATTACHMENTS,
      bytes: ATTACHMENT_BYTES,
      pushMs: stats(attachmentRuns.map((r) => r.push.pushMs)),
      pullMs: stats(attachmentRuns.map((r) => r.pullMs)),
      pullRecordsMs: stats(attachmentRuns.map((r) => r.pullRecords.ms)),
      pullBytesMs: stats(attachmentRuns.map((r) => r.pullBlobs.ms)),
      runs: attachmentRuns,
    },
    serverMemory: memory,
    database: DATABASE,
    profile,
    jsonPage500: jsonPage,
    pass: {
      push: median(pushMs) <= TARGETS.pushP50Ms,
      pull: median(pullMs) <= TARGETS.pullP50Ms,
      wholeSync: median(recordRuns.map((r) => r.push.ms)) <= TARGETS.wholeSyncP50Ms,
      noop: median(noopMs) <= TARGETS.noopP50Ms,
      serverMemoryFlat: memory.growthMb <= TARGETS.rssGrowthMaxMb,
    },
    pageErrors,
    totalS: round((Date.now() - started) / 1000),
  };
  mkdirSync(join(rootDir, 'bench-results'), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(result, null, 2) + '\n');

  const mark = (ok) => (ok ? 'ok  ' : 'MISS');
  const r0 = recordRuns[Math.floor(RUNS / 2)];
  console.log(`
FieldDx sync benchmark (Chromium ${result.environment.chromium}, ${result.environment.cores} cores, load ${result.environment.loadAvgAtStart.join(' ')})
  ${mark(result.pass.push)} push ${RECORDS} records (~${result.records.avgRecordBytes} B): p50 ${result.records.pushMs.p50} ms  [${pushMs.join(', ')}]  target ≤ ${TARGETS.pushP50Ms}
  ${mark(result.pass.pull)} pull ${RECORDS} records, fresh device:     p50 ${result.records.pullMs.p50} ms  [${pullMs.join(', ')}]  target ≤ ${TARGETS.pullP50Ms}
  ${mark(result.pass.wholeSync)} the pushing device's whole sync:       p50 ${result.records.pushSyncOnceTotalMs.p50} ms  [${recordRuns.map((r) => r.push.ms).join(', ')}]  target ≤ ${TARGETS.wholeSyncP50Ms} (pulled back: ${recordRuns.map((r) => r.push.summary.pulled).join(', ')})
  ${mark(result.pass.noop)} sync with nothing to do:               p50 ${result.noopSync.ms.p50} ms  (p95 ${result.noopSync.ms.p95}, max ${result.noopSync.ms.max})  target ≤ ${TARGETS.noopP50Ms}
       attachments ${ATTACHMENTS} × ${ATTACHMENT_BYTES / 1024} KB: push p50 ${result.attachments.pushMs.p50} ms, pull p50 ${result.attachments.pullMs.p50} ms (records ${result.attachments.pullRecordsMs.p50} + bytes ${result.attachments.pullBytesMs.p50})
  ${mark(result.pass.serverMemoryFlat)} server RSS, ${BIG}-record pull in ${bigPull.ms} ms: before ${memory.rssBeforeMb} MB, max ${memory.rssMaxDuringMb} MB (+${memory.growthMb}), after ${memory.rssAfterMb} MB, slope ${memory.slopeMbPerS} MB/s (${memory.slopeMbPer10kRecords} MB per 10k records)
  where the time goes (median run):
    push: ${r0.push.pushMs} ms = transport ${r0.push.transportMs.push} ms (server ${r0.push.push.serverMs}, send ${r0.push.push.sendMs}) + IndexedDB/engine ${round(r0.push.pushMs - r0.push.transportMs.push)} ms; server CPU for the whole syncOnce ${r0.push.serverCpuMs} ms
    pull: ${r0.pull.ms} ms; transport ${r0.pull.transportMs.pull} ms (server ${r0.pull.pull.serverMs}, download ${r0.pull.pull.downloadMs}), downloaded while earlier pages are stored; server CPU ${r0.pull.serverCpuMs} ms
  profile, one more run step by step, without downloading ahead (syncOnce's own pieces; ms summed over the batches/pages):
    push ${RECORDS}: nextBatch ${profile.push.nextBatchMs} + transport.push ${profile.push.transportMs} + applyPushResults ${profile.push.applyMs}; the pull of its own records that follows: applyPullPage ${profile.pushEchoPull.applyMs}
    pull ${RECORDS}: transport.pull ${profile.pull.transportMs} + applyPullPage ${profile.pull.applyMs}; CPU: server ${profile.pull.cpuMs.server ?? 0}, Chromium browser process (IndexedDB) ${profile.pull.cpuMs['chromium:browser'] ?? 0}, renderer ${profile.pull.cpuMs['chromium:renderer'] ?? 0}
    page's main thread during a pull: ${profile.pullPageCpu.top
      .slice(0, 6)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (of ${profile.pullPageCpu.totalMs})
    one IndexedDB get: ${profile.idbRequestLatency.perRequestMs} ms sequential; bulkPut of ${RECORDS} patients alone (5,000 per transaction, as a pull stores them): ${profile.idbWriteFloor.patientsMs} ms (in a table without indexes ${profile.idbWriteFloor.unindexedMs}; ten records per row there ${profile.idbWriteFloor.tenPerRowMs}; ${RECORDS} rows of a key alone, without Dexie or encryption ${profile.idbWriteFloor.rawKeyOnlyMs})
    JSON in the page, one 500-record page (${round(jsonPage.bytes / 1024)} KB): parse ${jsonPage.parseMs} ms, re-stringify ${jsonPage.stringifyMs} ms
  written to ${resultsFile} (${result.totalS} s)${pageErrors.length ? `\n  page errors: ${pageErrors.join(' | ')}` : ''}`);
}

try {
  await main();
} catch (error) {
  console.error('bench:sync failed:', error);
  if (serverOutput()) console.error(`server log (tail):\n${serverOutput().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
