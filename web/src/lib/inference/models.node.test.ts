// Checks every model in models/index.json against its manifest with onnxruntime-node: the file's sha256
// and size, the graph's inputs and outputs, and that the data in training/data reproduces the manifest's
// metrics: validation metrics by running the graph on the validation split; cross-validated metrics from
// the stored out-of-fold predictions and the dataset's labels (the shipped graph averages the fold models,
// so it cannot itself reproduce out-of-fold figures; it is run on every image instead). Tabular models
// must also cope with every optional field missing.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCatalogue, parseManifest, type Manifest } from './manifest';
import { readNpz } from './npy.test-helper';

const EvaluationData = z.object({
  file: z.string(),
  sha256: z.string(),
  // image models: the arrays in the .npz
  images: z.string().optional(),
  labels: z.string().optional(),
  // tabular models: CSV column per field key, missing-value marker, label column, row indices file
  columns: z.record(z.string(), z.string()).optional(),
  missing: z.string().optional(),
  label: z.object({ column: z.string(), positive: z.string() }).optional(),
  rows: z.string().optional(),
});
type EvaluationData = z.infer<typeof EvaluationData>;

const Figures = {
  n: z.number().int().positive(),
  auc: z.number(),
  accuracy: z.number(),
  sensitivity: z.number(),
  specificity: z.number(),
  brier: z.number(),
};

/** What training writes into `metrics` beyond the app's contract (models/README.md): the figures
 * checked here and how to rebuild the evaluation from the dataset file. */
const ValidationMetrics = z.object({ split: z.literal('val'), ...Figures, data: EvaluationData });
const MeanSd = z.object({ mean: z.number(), sd: z.number().nonnegative() });
const CrossValidatedMetrics = z.object({
  split: z.string().regex(/cross-validation/),
  ...Figures,
  folds: z.number().int().min(2),
  summary: z.object({
    auc: MeanSd,
    accuracy: MeanSd,
    sensitivity: MeanSd,
    specificity: MeanSd,
  }),
  perFold: z.array(z.object({ ...Figures, threshold: z.number() })),
  data: z.object({ file: z.string(), sha256: z.string(), predictions: z.string() }),
  /** The shipped graph on images set aside before cross-validation (never trained or tuned on). */
  holdout: z
    .object({
      ...Figures,
      threshold: z.number(),
      ece: z.number(),
      data: z.object({ predictions: z.string(), rows: z.literal('holdout') }),
    })
    .optional(),
});
const Metrics = z.union([ValidationMetrics, CrossValidatedMetrics]);
type CrossValidatedMetrics = z.infer<typeof CrossValidatedMetrics>;

/** The out-of-fold predictions file next to the manifest (training/recipes/pneumonia_cxr.py). */
const Predictions = z.object({
  file: z.string(),
  sha256: z.string(),
  images: z.array(z.string()).min(1),
  labels: z.array(z.string()).min(1),
  rows: z.array(z.number().int().nonnegative()).nullable(),
  holdout: z.array(z.number().int().nonnegative()).optional(),
  fold: z.array(z.number().int().nonnegative()),
  probability: z.array(z.number().min(0).max(1)),
  /** Platt scaling: probability = sigmoid(slope * logit + intercept), logit the fold model's z1 - z0. */
  calibration: z.object({ slope: z.number().positive(), intercept: z.number() }).optional(),
  logit: z.array(z.number()).optional(),
});

interface Cases {
  input: ort.Tensor;
  positive: boolean[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const modelsDir = path.join(repoRoot, 'models');
const datasetsDir = path.join(repoRoot, 'training/data');
const TOLERANCE = 0.002;

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function datasetBytes(data: Pick<EvaluationData, 'file' | 'sha256'>): Uint8Array {
  const file = path.join(datasetsDir, data.file);
  if (!existsSync(file)) {
    throw new Error(
      `dataset ${data.file} not found in ${datasetsDir}: the model checks need the validation ` +
        'data tracked there (see training/data/README.md)',
    );
  }
  const bytes = readFileSync(file);
  if (sha256(bytes) !== data.sha256) {
    throw new Error(`${file} is not the file the model was evaluated on (sha256 ${data.sha256})`);
  }
  return bytes;
}

function imageCases(m: Manifest, data: EvaluationData): Cases {
  if (m.modality !== 'image') throw new Error(`${m.id} is not an image model`);
  const spec = m.input.image;
  const { images, labels } = data;
  if (!images || !labels) throw new Error(`${m.id}: metrics.data lacks images/labels`);
  const arrays = readNpz(datasetBytes(data), [images, labels]);
  const img = arrays[images]!;
  const lab = arrays[labels]!;
  const n = img.shape[0]!;
  expect(img.shape.slice(1)).toEqual([spec.height, spec.width]);
  const positive = m.output.labels.indexOf(m.output.positive);
  return {
    input: new ort.Tensor('float32', Float32Array.from(img.data as Uint8Array), [
      n,
      spec.channels,
      spec.height,
      spec.width,
    ]),
    positive: Array.from(lab.data as Uint8Array, (v) => v === positive),
  };
}

function parseCsv(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(',').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1')));
}

function tabularCases(m: Manifest, data: EvaluationData): Cases {
  if (m.modality !== 'tabular') throw new Error(`${m.id} is not a tabular model`);
  const spec = m.input.tabular;
  const { columns, label, rows, missing } = data;
  if (!columns || !label || !rows)
    throw new Error(`${m.id}: metrics.data lacks columns/label/rows`);
  const [header, ...body] = parseCsv(new TextDecoder().decode(datasetBytes(data)));
  if (!header) throw new Error(`${data.file} is empty`);
  const columnIndex = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${data.file} has no column ${name}`);
    return i;
  };
  const fieldColumns = spec.fields.map((f) => columnIndex(columns[f.key] ?? f.key));
  const labelColumn = columnIndex(label.column);
  const { indices } = z
    .object({ indices: z.array(z.number().int().nonnegative()) })
    .parse(readJson(path.join(modelsDir, m.id, rows)));
  const values = new Float32Array(indices.length * spec.fields.length);
  const positive = indices.map((row, r) => {
    const cells = body[row];
    if (!cells) throw new Error(`${data.file} has no data row ${row}`);
    fieldColumns.forEach((c, k) => {
      const cell = cells[c] ?? '';
      values[r * spec.fields.length + k] = cell === missing || cell === '' ? NaN : Number(cell);
    });
    return cells[labelColumn] === label.positive;
  });
  return {
    input: new ort.Tensor('float32', values, [indices.length, spec.fields.length]),
    positive,
  };
}

/** Area under the ROC curve (Mann-Whitney U, ties count one half). */
function auc(positive: boolean[], score: number[]): number {
  const order = score.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(score.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const nPos = positive.filter(Boolean).length;
  const nNeg = positive.length - nPos;
  const rankSum = ranks.reduce((s, r, i) => (positive[i] ? s + r : s), 0);
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

const inputTensor = (m: Manifest): string =>
  m.modality === 'image' ? m.input.image.tensor : m.input.tabular.tensor;

const casesFor = (m: Manifest, data: EvaluationData): Cases =>
  m.modality === 'image' ? imageCases(m, data) : tabularCases(m, data);

async function run(session: ort.InferenceSession, m: Manifest, input: ort.Tensor) {
  const out = (await session.run({ [inputTensor(m)]: input }))[m.output.tensor];
  if (!out) throw new Error(`${m.id}: no output ${m.output.tensor}`);
  return { probs: out.data as Float32Array, dims: out.dims };
}

const index = parseCatalogue(readJson(path.join(modelsDir, 'index.json')));

describe('models/index.json', () => {
  it('lists models with manifests', () => {
    expect(index.length).toBeGreaterThan(0);
    for (const e of index) expect(existsSync(path.join(modelsDir, e.path))).toBe(true);
  });
});

/** AUC, and accuracy, sensitivity, specificity at the threshold, and Brier score of P(positive). */
function figures(positive: boolean[], score: number[], threshold: number) {
  const n = score.length;
  const predicted = score.map((s) => s >= threshold);
  const tp = predicted.filter((p, i) => p && positive[i]).length;
  const tn = predicted.filter((p, i) => !p && !positive[i]).length;
  const nPos = positive.filter(Boolean).length;
  return {
    auc: auc(positive, score),
    accuracy: (tp + tn) / n,
    sensitivity: tp / nPos,
    specificity: tn / (n - nPos),
    brier: score.reduce((s, p, i) => s + (p - (positive[i] ? 1 : 0)) ** 2, 0) / n,
  };
}

function expectFigures(
  got: ReturnType<typeof figures>,
  expected: Record<keyof ReturnType<typeof figures>, number>,
  what: string,
) {
  for (const [key, value] of Object.entries(got)) {
    const want = expected[key as keyof typeof got];
    expect(
      Math.abs(value - want),
      `${what} ${key}: ${value} vs ${want} in the manifest`,
    ).toBeLessThanOrEqual(TOLERANCE);
  }
}

/** P(positive) per case from a [n, k] probabilities output, checking that each row sums to 1. */
function positiveScores(m: Manifest, probs: Float32Array, n: number): number[] {
  const k = m.output.labels.length;
  const pos = m.output.labels.indexOf(m.output.positive);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += probs[i * k + j]!;
    expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
  }
  return Array.from({ length: n }, (_, i) => probs[i * k + pos]!);
}

/** The cases of a cross-validated image model: its images and labels arrays, concatenated; `which`
 * picks the cross-validated rows or the held-out ones. */
function crossValidatedCases(
  m: Manifest,
  metrics: CrossValidatedMetrics,
  which: 'cv' | 'holdout' = 'cv',
) {
  if (m.modality !== 'image')
    throw new Error(`${m.id}: cross-validated metrics need an image model`);
  const spec = m.input.image;
  const pred = Predictions.parse(readJson(path.join(modelsDir, m.id, metrics.data.predictions)));
  expect(pred.file).toBe(metrics.data.file);
  expect(pred.sha256).toBe(metrics.data.sha256);
  const arrays = readNpz(datasetBytes(metrics.data), [...pred.images, ...pred.labels]);
  const pixels = pred.images.flatMap((k) => Array.from(arrays[k]!.data as Uint8Array));
  const labels = pred.labels.flatMap((k) => Array.from(arrays[k]!.data as Uint8Array));
  const rows = which === 'holdout' ? (pred.holdout ?? []) : (pred.rows ?? labels.map((_, i) => i));
  const size = spec.height * spec.width;
  const image = new Float32Array(rows.length * size);
  rows.forEach((row, r) => image.set(pixels.slice(row * size, (row + 1) * size), r * size));
  const positiveIndex = m.output.labels.indexOf(m.output.positive);
  return {
    pred,
    positive: rows.map((row) => labels[row] === positiveIndex),
    input: new ort.Tensor('float32', image, [rows.length, spec.channels, spec.height, spec.width]),
  };
}

describe.each(index)('model $id', (entry) => {
  const manifest = parseManifest(readJson(path.join(modelsDir, entry.path)), entry.id);
  const metrics = Metrics.parse(manifest.metrics);
  const modelFile = path.join(modelsDir, entry.id, manifest.file);

  it('matches its index entry, sha256 and size', () => {
    const bytes = readFileSync(modelFile);
    expect(manifest.id).toBe(entry.id);
    expect(manifest.version).toBe(entry.version);
    expect(manifest.modality).toBe(entry.modality);
    expect(bytes.byteLength).toBe(manifest.bytes);
    expect(entry.bytes).toBe(manifest.bytes);
    expect(sha256(bytes)).toBe(manifest.sha256);
  });

  it('has the session inputs and outputs of its manifest', async () => {
    const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
    expect(session.inputNames).toEqual([inputTensor(manifest)]);
    expect(session.outputNames).toEqual([manifest.output.tensor]);
  });

  if (!('folds' in metrics)) {
    const val = metrics;
    it('reproduces the validation metrics in onnxruntime-node', async () => {
      const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
      const cases = casesFor(manifest, val.data);
      const { probs, dims } = await run(session, manifest, cases.input);
      const n = cases.positive.length;
      expect(dims).toEqual([n, manifest.output.labels.length]);
      expect(n).toBe(val.n);
      const score = positiveScores(manifest, probs, n);
      expectFigures(figures(cases.positive, score, manifest.output.threshold), val, 'validation');
    });
  } else {
    const cv = metrics;
    it('reproduces the cross-validated metrics from the out-of-fold predictions and the labels', () => {
      const { pred, positive } = crossValidatedCases(manifest, cv);
      const n = positive.length;
      expect(n).toBe(cv.n);
      expect(pred.probability).toHaveLength(n);
      expect(pred.fold).toHaveLength(n);
      expectFigures(
        figures(positive, pred.probability, manifest.output.threshold),
        cv,
        'out-of-fold',
      );
      // Each fold at the threshold chosen on the other folds; the summary is their mean +- sd.
      expect(cv.perFold).toHaveLength(cv.folds);
      cv.perFold.forEach((f, k) => {
        const inFold = pred.fold.flatMap((fold, i) => (fold === k ? [i] : []));
        expect(inFold.length).toBe(f.n);
        const got = figures(
          inFold.map((i) => positive[i]!),
          inFold.map((i) => pred.probability[i]!),
          f.threshold,
        );
        expectFigures(got, f, `fold ${k + 1}`);
      });
      for (const key of ['auc', 'accuracy', 'sensitivity', 'specificity'] as const) {
        const values = cv.perFold.map((f) => f[key]);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
        expect(Math.abs(mean - cv.summary[key].mean), `${key} mean`).toBeLessThanOrEqual(TOLERANCE);
        expect(Math.abs(sd - cv.summary[key].sd), `${key} sd`).toBeLessThanOrEqual(TOLERANCE);
      }
    });

    it('stores calibrated out-of-fold probabilities that follow from the logits', () => {
      const { pred } = crossValidatedCases(manifest, cv);
      if (!pred.calibration || !pred.logit) return; // temperature-scaled versions stored no logits
      const { slope, intercept } = pred.calibration;
      expect(pred.logit).toHaveLength(pred.probability.length);
      pred.logit.forEach((z, i) => {
        const p = 1 / (1 + Math.exp(-(slope * z + intercept)));
        expect(Math.abs(p - pred.probability[i]!)).toBeLessThan(2e-5);
      });
    });

    if (cv.holdout) {
      const held = cv.holdout;
      it('reproduces the held-out figures by running the graph on images it never saw', async () => {
        const { pred, positive, input } = crossValidatedCases(manifest, cv, 'holdout');
        const cvRows = new Set(pred.rows ?? []);
        expect(pred.holdout?.some((row) => cvRows.has(row))).toBe(false);
        expect(positive.length).toBe(held.n);
        expect(held.threshold).toBe(manifest.output.threshold);
        const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
        const { probs } = await run(session, manifest, input);
        const score = positiveScores(manifest, probs, positive.length);
        expectFigures(figures(positive, score, manifest.output.threshold), held, 'held-out');
      });
    }

    it('runs on every image and, having trained on them all, scores at least as well as out of fold', async () => {
      const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
      const { positive, input } = crossValidatedCases(manifest, cv);
      const { probs, dims } = await run(session, manifest, input);
      expect(dims).toEqual([positive.length, manifest.output.labels.length]);
      const got = figures(
        positive,
        positiveScores(manifest, probs, positive.length),
        manifest.output.threshold,
      );
      expect(got.auc).toBeGreaterThanOrEqual(cv.auc - TOLERANCE);
    });
  }

  if (manifest.modality !== 'tabular') return;

  it('gives finite probabilities summing to 1 when optional fields are NaN', async () => {
    const fields = manifest.input.tabular.fields;
    const optional = fields.flatMap((f, k) => (f.required ? [] : [k]));
    expect(optional.length).toBeGreaterThan(0);
    const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1 });
    const { data } = ValidationMetrics.parse(manifest.metrics);
    const measured = tabularCases(manifest, data).input.data as Float32Array;
    // Every optional field missing at once, then each one missing on its own.
    for (const hide of [optional, ...optional.map((k) => [k])]) {
      const values = Float32Array.from(measured);
      for (let i = 0; i < values.length; i += fields.length) {
        for (const k of hide) values[i + k] = NaN;
      }
      const n = values.length / fields.length;
      const input = new ort.Tensor('float32', values, [n, fields.length]);
      const { probs } = await run(session, manifest, input);
      const k = manifest.output.labels.length;
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let j = 0; j < k; j++) {
          expect(Number.isFinite(probs[i * k + j])).toBe(true);
          sum += probs[i * k + j]!;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
    }
  });
});
