// bench:inference — on-device inference speed and size, written to bench-results/inference.json.
//   node web/bench/inference.bench.mjs        (after `pnpm --filter web build`)
// Serves the built app with the real server, then in headless Chromium (WASM provider, GPU off):
// single-input latency per model (session.run inside the worker, and the page's round trip),
// session creation and first run, time from "Run model" to the result and the explanation on the
// Diagnose screen; onnxruntime-node on the same inputs in the same run; the bytes the browser
// downloads for inference.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  builtWorkerPath,
  loadModel,
  runModel,
  startWorker,
  timeRuns,
} from '../tests/fixtures/worker-harness.mjs';
import { freePort, waitForHealth } from './server.mjs';

const web = new URL('../', import.meta.url);
const root = new URL('../../', import.meta.url);
// The built app, as the server serves it (WEB_DIR, the server's own setting, moves both).
const build = process.env.WEB_DIR
  ? pathToFileURL(`${resolve(process.env.WEB_DIR)}/`)
  : new URL('build/', web);
const require = createRequire(new URL('package.json', web));
const { chromium } = require('@playwright/test');
const ortNode = require('onnxruntime-node');

const WARMUP = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const UI_RUNS = Number(process.env.BENCH_UI_RUNS ?? 20);
const TARGETS = {
  'pneumonia-cxr': { p50Ms: 5 },
  'diabetes-risk': { p50Ms: 1 },
  wasmToNativeRatio: 3,
  clickToResultP50Ms: 150,
  clickToHeatmapP50Ms: 300,
};

if (!existsSync(new URL('index.html', build)) || !existsSync(new URL('models/index.json', build))) {
  console.error('web/build (with models/) is missing: run `pnpm --filter web build` first.');
  process.exit(1);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const stats = (values) => ({
  p50: +percentile(values, 50).toFixed(3),
  p95: +percentile(values, 95).toFixed(3),
  n: values.length,
});
const readJson = (url) => JSON.parse(readFileSync(url, 'utf8'));

const catalogue = readJson(new URL('models/index.json', build));
const manifests = catalogue.map((e) => readJson(new URL(`models/${e.path}`, build)));

/** The same input for both runtimes: a fixture X-ray, or the form's mid-range values with optional fields missing. */
function benchInput(m) {
  if (m.modality === 'image') {
    const { height, width, channels, tensor } = m.input.image;
    const data = Array.from({ length: channels * height * width }, (_, i) => (i * 37) % 256);
    return { input: tensor, data, dims: [1, channels, height, width] };
  }
  const fields = m.input.tabular.fields;
  const data = fields.map((f) => (f.required ? (f.min + f.max) / 2 : NaN));
  return { input: m.input.tabular.tensor, data, dims: [1, fields.length] };
}

/**
 * onnxruntime-node on the bench input, runs back to back; with `idle`, the thread sleeps (a 0 ms
 * timer, ~1 ms in Node) before each run, as the browser's worker idles between messages. Idle
 * between runs, a small model's run costs several times more on either runtime (cold caches).
 */
async function nativeLatency(m, threads, idle = false) {
  const options = threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const session = await ortNode.InferenceSession.create(
    readFileSync(new URL(`models/${m.id}/${m.file}`, build)),
    options,
  );
  const { input, data, dims } = benchInput(m);
  const feeds = () => ({ [input]: new ortNode.Tensor('float32', Float32Array.from(data), dims) });
  const times = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    if (idle) await new Promise((r) => setTimeout(r, 0));
    const started = performance.now();
    await session.run(feeds());
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  const out = await session.run(feeds());
  await session.release();
  return { ...stats(times), output: Array.from(out[m.output.tensor].data) };
}

/** Bytes of a URL as the server sends it to a browser that accepts brotli. */
function servedBytes(origin, path) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${origin}${path}`,
      { headers: { 'accept-encoding': 'br, gzip' } },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () =>
          resolve({ bytes, encoding: res.headers['content-encoding'] ?? 'identity' }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function startServer() {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fielddx-bench-inference-'));
  const server = spawn(join(root.pathname, 'sync-server/node_modules/.bin/tsx'), ['src/index.ts'], {
    cwd: new URL('sync-server/', root),
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'warn',
      WEB_DIR: build.pathname,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForHealth(origin, server);
  return {
    origin,
    stop() {
      server.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** In a fresh worker: load the models in `order`; session creation and first run of each. */
async function sessionTimes(browser, origin, order, threads) {
  const page = await browser.newPage();
  await page.goto(`${origin}/signin`);
  await startWorker(page, builtWorkerPath(build));
  const out = [];
  for (const m of order) {
    const key = `${m.id}|wasm`;
    const started = Date.now();
    const { input, dims } = benchInput(m);
    const loaded = await loadModel(page, {
      key,
      modelUrl: `/models/${m.id}/${m.file}`,
      prefer: 'wasm',
      threads,
      // As the app loads a model (engine.ts): one warm-up run on zeros, inside the load.
      warmup: { input, dims },
    });
    const first = await runModel(page, { key, ...benchInput(m), output: m.output.tensor });
    out.push({
      id: m.id,
      loaded,
      sessionMs: loaded.ms,
      warmupMs: loaded.warmupMs,
      firstRunMs: first.ms,
      pageMs: Date.now() - started,
    });
  }
  const latency = {};
  for (const m of order) {
    const runs = await timeRuns(page, {
      key: `${m.id}|wasm`,
      ...benchInput(m),
      output: m.output.tensor,
      warmup: WARMUP,
      runs: RUNS,
    });
    const last = await runModel(page, {
      key: `${m.id}|wasm`,
      ...benchInput(m),
      output: m.output.tensor,
    });
    latency[m.id] = {
      worker: stats(runs.workerMs),
      roundTrip: stats(runs.roundTripMs),
      output: last.data,
    };
  }
  const isolated = await page.evaluate(() => self.crossOriginIsolated);
  await page.close();
  return { sessions: out, latency, isolated };
}

/** On the Diagnose screen: file → model input shown, Run model → result on screen → explanation. */
async function screenTimes(browser, origin) {
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  const account = { name: 'Bench', email: 'bench@example.org', password: 'benchmark inference 1' };
  const signup = await page.request.post('/api/auth/signup', {
    data: account,
    headers: { Origin: origin },
  });
  if (!signup.ok()) throw new Error(`sign-up failed: ${await signup.text()}`);
  await page.goto('/diagnose');
  const results = {};
  for (const entry of catalogue) {
    const m = manifests.find((x) => x.id === entry.id);
    await page.getByRole('radio', { name: entry.name }).check();
    await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor({ timeout: 120_000 });
    if (m.modality === 'tabular') {
      for (const f of m.input.tabular.fields.filter((f) => f.required)) {
        const name = f.unit ? `${f.label} (${f.unit})` : f.label;
        await page.getByRole('textbox', { name, exact: true }).fill(String((f.min + f.max) / 2));
      }
    }
    const file =
      m.modality === 'image'
        ? readFileSync(new URL('tests/fixtures/cxr-val-0-pneumonia-x4.png', web)).toString('base64')
        : null;
    results[m.id] = await page.evaluate(
      async ({ file, runs }) => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const waitFor = (find) =>
          new Promise((resolve) => {
            const check = () => {
              const found = find();
              if (found) {
                observer.disconnect();
                resolve(found);
              }
            };
            const observer = new MutationObserver(check);
            observer.observe(document.body, { subtree: true, childList: true, attributes: true });
            check();
          });
        const button = [...document.querySelectorAll('button')].find(
          (b) => b.textContent.trim() === 'Run model',
        );
        const input = document.querySelector('input[type=file]:not([capture])');
        const bytes = file ? Uint8Array.from(atob(file), (c) => c.charCodeAt(0)) : null;
        const out = { preprocessMs: [], resultMs: [], explanationMs: [] };
        for (let i = 0; i < runs; i++) {
          if (bytes) {
            const before = document.querySelector('[aria-label^="Model input"]');
            const t0 = performance.now();
            const files = new DataTransfer();
            files.items.add(new File([bytes], 'x-ray.png', { type: 'image/png' }));
            input.files = files.files;
            input.dispatchEvent(new Event('change', { bubbles: true }));
            await waitFor(() => {
              const shown = document.querySelector('[aria-label^="Model input"]');
              return shown !== before && shown;
            });
            await frame();
            out.preprocessMs.push(performance.now() - t0);
          }
          await waitFor(() => !button.disabled);
          const before = document.querySelector('section[aria-label="Result"]');
          const t1 = performance.now();
          button.click();
          const section = await waitFor(() => {
            const s = document.querySelector('section[aria-label="Result"]');
            return s !== before && s;
          });
          await frame();
          out.resultMs.push(performance.now() - t1);
          await waitFor(() => section.querySelector('[aria-label^="Occlusion heatmap"], table'));
          await frame();
          out.explanationMs.push(performance.now() - t1);
        }
        return out;
      },
      { file, runs: UI_RUNS },
    );
  }
  await context.close();
  return Object.fromEntries(
    Object.entries(results).map(([id, r]) => [
      id,
      {
        preprocess: r.preprocessMs.length ? stats(r.preprocessMs) : null,
        clickToResult: stats(r.resultMs),
        clickToExplanation: stats(r.explanationMs),
      },
    ]),
  );
}

/** The service worker's precache list, as URL paths. */
function precachedPaths() {
  const sw = readFileSync(new URL('sw.js', build), 'utf8');
  return new Set([...sw.matchAll(/url:"([^"]+)"/g)].map((m) => `/${m[1]}`));
}

/**
 * What the browser downloads for inference: `runtime` (worker, ORT chunks and the WASM it
 * precaches, so every device), `models`, and `webgpuOnFirstUse` (the WebGPU build's WASM, fetched
 * and cached only by devices that use WebGPU).
 */
async function downloadBytes(origin) {
  const workerDir = new URL('_app/immutable/workers/', build);
  const list = (dir) =>
    existsSync(dir)
      ? readdirSync(dir).map((f) => `${dir.pathname.slice(build.pathname.length - 1)}${f}`)
      : [];
  const paths = [
    builtWorkerPath(build),
    ...list(new URL('chunks/', workerDir)).filter((p) => p.endsWith('.js')),
    ...list(new URL('assets/', workerDir)).filter((p) => p.endsWith('.wasm')),
    '/models/index.json',
    ...catalogue.flatMap((e) => {
      const m = manifests.find((x) => x.id === e.id);
      return [`/models/${e.path}`, `/models/${m.id}/${m.file}`];
    }),
  ];
  const precached = precachedPaths();
  const files = [];
  for (const path of paths) {
    const raw = readFileSync(new URL(`.${path}`, build)).length;
    files.push({ path, raw, precached: precached.has(path), ...(await servedBytes(origin, path)) });
  }
  const total = (pick) =>
    files.filter(pick).reduce((s, f) => ({ raw: s.raw + f.raw, served: s.served + f.bytes }), {
      raw: 0,
      served: 0,
    });
  const isModel = (f) => f.path.startsWith('/models/');
  return {
    runtime: total((f) => !isModel(f) && f.precached),
    models: total(isModel),
    all: total((f) => isModel(f) || f.precached),
    webgpuOnFirstUse: total((f) => !isModel(f) && !f.precached),
    files,
  };
}

const server = await startServer();
let browser;
try {
  const cores = cpus().length;
  // The app's choice (threadsFor in src/lib/inference/engine.ts), and the other one for comparison.
  const appThreads = Math.max(1, Math.min(4, Math.floor(cores / 2)));
  const otherThreads = appThreads === 1 ? Math.min(4, cores) : 1;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  const [a, b] = [manifests, [...manifests].reverse()];
  const threaded = await sessionTimes(browser, server.origin, a, appThreads);
  const reversed = await sessionTimes(browser, server.origin, b, appThreads);
  const other =
    otherThreads !== appThreads
      ? await sessionTimes(browser, server.origin, a, otherThreads)
      : null;
  const screen = await screenTimes(browser, server.origin);
  const bytes = await downloadBytes(server.origin);

  const models = {};
  for (const m of manifests) {
    const native = await nativeLatency(m, 0);
    const nativeOne = await nativeLatency(m, 1);
    const nativeIdle = await nativeLatency(m, 0, true);
    const wasm = threaded.latency[m.id];
    const firstLoad = [threaded, reversed].map((r) => r.sessions[0]).find((s) => s.id === m.id);
    const warmLoad = [threaded, reversed].map((r) => r.sessions[1]).find((s) => s.id === m.id);
    const maxDiff = Math.max(...wasm.output.map((p, i) => Math.abs(p - native.output[i])));
    models[m.id] = {
      wasm: { threads: appThreads, ...wasm.worker, roundTrip: wasm.roundTrip },
      wasmOtherThreads: other && {
        threads: otherThreads,
        ...other.latency[m.id].worker,
        roundTrip: other.latency[m.id].roundTrip,
      },
      native: { p50: native.p50, p95: native.p95, n: native.n, threads: 'default' },
      nativeOneThread: { p50: nativeOne.p50, p95: nativeOne.p95 },
      nativeIdleBetweenRuns: { p50: nativeIdle.p50, p95: nativeIdle.p95 },
      // The target's ratio: WASM (one run per message, the worker idle in between) over native
      // back to back. The second compares like with like (both idle between runs).
      wasmToNativeP50: +(wasm.worker.p50 / native.p50).toFixed(2),
      wasmToNativeIdleP50: +(wasm.worker.p50 / nativeIdle.p50).toFixed(2),
      maxAbsDiffWasmVsNative: maxDiff,
      // Both include the warm-up run the app makes while loading a model.
      sessionCreateMs: {
        withRuntimeStart: +firstLoad.sessionMs.toFixed(1),
        runtimeWarm: +warmLoad.sessionMs.toFixed(1),
      },
      // The very first run (the warm-up, on zeros, inside the load), then the user's first run.
      warmupRunMs: +firstLoad.warmupMs.toFixed(2),
      firstRunMs: +firstLoad.firstRunMs.toFixed(2),
      screen: screen[m.id],
      targets: {
        p50: `${wasm.worker.p50} ms ≤ ${TARGETS[m.id]?.p50Ms ?? '-'} ms`,
        met:
          (TARGETS[m.id] ? wasm.worker.p50 <= TARGETS[m.id].p50Ms : true) &&
          wasm.worker.p50 / native.p50 <= TARGETS.wasmToNativeRatio &&
          screen[m.id].clickToResult.p50 <= TARGETS.clickToResultP50Ms &&
          (m.modality !== 'image' ||
            screen[m.id].clickToExplanation.p50 <= TARGETS.clickToHeatmapP50Ms),
      },
    };
  }
  const result = {
    date: new Date().toISOString(),
    environment: {
      chromium: browser.version(),
      provider: 'wasm (headless Chromium, --disable-gpu)',
      crossOriginIsolated: threaded.isolated,
      cores,
      // src/lib/inference/runtimes.ts; this bench runs the first (no GPU).
      ortBundle: {
        wasm: 'onnxruntime-web/wasm (ort.wasm.bundle.min.mjs + ort-wasm-simd-threaded.wasm), precached',
        webgpu:
          'onnxruntime-web/jspi (ort.jspi.bundle.min.mjs + ort-wasm-simd-threaded.jspi.wasm), cached on first use',
      },
      onnxruntimeWeb: readJson(new URL('node_modules/onnxruntime-web/package.json', web)).version,
      onnxruntimeNode: readJson(new URL('node_modules/onnxruntime-node/package.json', web)).version,
      node: process.version,
      runs: RUNS,
      warmup: WARMUP,
      uiRuns: UI_RUNS,
    },
    targets: TARGETS,
    models,
    downloadBytes: bytes,
  };
  mkdirSync(new URL('bench-results/', root), { recursive: true });
  writeFileSync(
    new URL('bench-results/inference.json', root),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  for (const [id, r] of Object.entries(models)) {
    console.log(
      `${id}: WASM p50 ${r.wasm.p50} ms / p95 ${r.wasm.p95} ms (${r.wasm.threads} thread(s)${r.wasmOtherThreads ? `; ${r.wasmOtherThreads.threads}: p50 ${r.wasmOtherThreads.p50} ms` : ''}), ` +
        `native p50 ${r.native.p50} ms (1 thread ${r.nativeOneThread.p50}, idle between runs ${r.nativeIdleBetweenRuns.p50}), ` +
        `ratio ${r.wasmToNativeP50} (${r.wasmToNativeIdleP50} vs idle); session ${r.sessionCreateMs.runtimeWarm} ms ` +
        `(${r.sessionCreateMs.withRuntimeStart} ms with runtime start; both with the warm-up run, ${r.warmupRunMs} ms), ` +
        `first run after it ${r.firstRunMs} ms; ` +
        `click→result p50 ${r.screen.clickToResult.p50} ms, →explanation p50 ${r.screen.clickToExplanation.p50} ms` +
        (r.screen.preprocess ? `, file→model input p50 ${r.screen.preprocess.p50} ms` : ''),
    );
  }
  const mib = (n) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  console.log(
    `download for inference: runtime ${mib(bytes.runtime.served)} served (${mib(bytes.runtime.raw)} raw), ` +
      `models ${mib(bytes.models.served)} served (${mib(bytes.models.raw)} raw); ` +
      `WebGPU devices also fetch ${mib(bytes.webgpuOnFirstUse.served)} on first use`,
  );
  console.log('wrote bench-results/inference.json');
} finally {
  await browser?.close();
  server.stop();
}
