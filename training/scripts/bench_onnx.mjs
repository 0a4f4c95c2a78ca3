// Inference benchmark of every model in models/index.json with onnxruntime-node (CPU).
//   node training/scripts/bench_onnx.mjs [--threads 1] [--runs 200] [--out bench-results/models.json]
// Measures session creation, then single-sample and batch-64 latency (after warm-up) and writes JSON.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOrt } from './onnx_run.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench-results/models.json' },
  },
});
const threads = Number(args.threads);
const runs = Number(args.runs);
const ort = loadOrt();

function inputFor(manifest, n) {
  const img = manifest.input.image;
  if (img) {
    const size = img.channels * img.height * img.width;
    const data = new Float32Array(n * size);
    // A deterministic, image-like pattern (smooth gradient plus texture) in 0-255.
    for (let i = 0; i < data.length; i++) {
      const p = i % size;
      data[i] = (128 + 80 * Math.sin(p / 37) + 40 * Math.cos((i * 7) / size)) | 0;
    }
    return new ort.Tensor('float32', data, [n, img.channels, img.height, img.width]);
  }
  const fields = manifest.input.tabular.fields;
  const data = new Float32Array(n * fields.length);
  for (let r = 0; r < n; r++) {
    fields.forEach((f, k) => {
      // Mid-range values; every third row leaves its optional fields out.
      data[r * fields.length + k] =
        !f.required && r % 3 === 0 ? NaN : f.min + ((f.max - f.min) * ((r % 5) + 3)) / 10;
    });
  }
  return new ort.Tensor('float32', data, [n, fields.length]);
}

async function time(session, feeds, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const q = (f) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    runs: n,
    medianMs: r3(q(0.5)),
    p95Ms: r3(q(0.95)),
    meanMs: r3(ms.reduce((a, b) => a + b, 0) / n),
  };
}

const index = JSON.parse(readFileSync(path.join(repoRoot, 'models/index.json'), 'utf8'));
const results = [];
for (const entry of index) {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'models', entry.path), 'utf8'));
  const file = path.join(repoRoot, 'models', entry.id, manifest.file);
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const name = session.inputNames[0];
  const row = {
    id: entry.id,
    version: manifest.version,
    bytes: statSync(file).size,
    loadMs: Math.round(loadMs * 10) / 10,
  };
  for (const [label, n, reps] of [
    ['single', 1, runs],
    ['batch64', 64, Math.max(20, Math.round(runs / 4))],
  ]) {
    const feeds = { [name]: inputFor(manifest, n) };
    await time(session, feeds, 20); // warm-up
    const t = await time(session, feeds, reps);
    row[label] = { ...t, perSampleMs: Number((t.medianMs / n).toPrecision(3)) };
  }
  await session.release();
  results.push(row);
  console.log(
    `${entry.id}: ${row.bytes.toLocaleString()} bytes, load ${row.loadMs} ms, single ${row.single.medianMs} ms ` +
      `(p95 ${row.single.p95Ms}), batch-64 ${row.batch64.medianMs} ms (${row.batch64.perSampleMs} ms/sample)`,
  );
}

const report = {
  tool: 'training/scripts/bench_onnx.mjs',
  runtime: `onnxruntime-node ${ort.env.versions?.node ?? ''}`.trim(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.cpus().length,
  intraOpNumThreads: threads,
  date: new Date().toISOString(),
  models: results,
};
const out = path.resolve(repoRoot, args.out);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${path.relative(repoRoot, out)}`);
