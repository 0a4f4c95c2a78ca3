import { m } from '$lib/paraglide/messages';
import { formatNumber } from '$lib/i18n/format';
// Model outputs to what the clinician sees. The graphs end in softmax/sigmoid (DESIGN section 6), so
// the app checks that it got probabilities rather than transforming them: a graph that returns
// logits is a broken model and is reported as one.
import type { Manifest } from './manifest';
import type { Provider } from './protocol';

export class ModelOutputError extends Error {
  override name = 'ModelOutputError';
}

const SUM_TOLERANCE = 1e-3;

/** Splits a [N, labels] output into N rows of probabilities, checking shape and values. */
export function readProbabilities(
  data: ArrayLike<number>,
  dims: readonly number[],
  labels: readonly string[],
): number[][] {
  const [n, width] = dims;
  if (
    dims.length !== 2 ||
    width !== labels.length ||
    n === undefined ||
    n * width !== data.length
  ) {
    throw new ModelOutputError(
      `The model returned an output of shape [${dims.join(', ')}]; its description promises ` +
        `[N, ${labels.length}].`,
    );
  }
  const rows: number[][] = [];
  for (let r = 0; r < n; r++) {
    const row = Array.from({ length: width }, (_, c) => data[r * width + c]!);
    const sum = row.reduce((a, b) => a + b, 0);
    if (row.some((p) => !(p >= 0 && p <= 1)) || Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw new ModelOutputError(
        `The model returned values that are not probabilities (${row.map((p) => p.toFixed(4)).join(', ')}).`,
      );
    }
    rows.push(row);
  }
  return rows;
}

export interface Finding {
  /** The label the model's output points to at the manifest's threshold. */
  label: string;
  positiveLabel: string;
  /** Probability of the positive label. */
  positiveProbability: number;
  threshold: number;
  /** True when positiveProbability is at or above the threshold. */
  positive: boolean;
}

/** Applies the manifest's threshold (chosen on validation data) to the positive label. */
export function findingOf(manifest: Manifest, probabilities: readonly number[]): Finding {
  const { labels, positive: positiveLabel, threshold } = manifest.output;
  const index = labels.indexOf(positiveLabel);
  const p = probabilities[index];
  if (p === undefined)
    throw new ModelOutputError('The output has no value for the positive label.');
  const positive = p >= threshold;
  let label = positiveLabel;
  if (!positive) {
    // The most probable of the other labels (the negative one, for a binary model).
    const others = labels
      .map((l, i) => [l, probabilities[i] ?? 0] as const)
      .filter((_, i) => i !== index);
    label = others.reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0];
  }
  return { label, positiveLabel, positiveProbability: p, threshold, positive };
}

export const percent = (p: number, digits = 1) =>
  `${formatNumber(p * 100, { minimumFractionDigits: digits, maximumFractionDigits: digits })} %`;

/** The validation metrics shown next to a result: discrimination, then calibration. */
const fixed3 = (v: number) =>
  formatNumber(v, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const METRICS: { key: string; name: () => string; format: (v: number) => string }[] = [
  { key: 'auc', name: m.metric_auc, format: fixed3 },
  { key: 'accuracy', name: m.metric_accuracy, format: (v) => percent(v) },
  { key: 'sensitivity', name: m.metric_sensitivity, format: (v) => percent(v) },
  { key: 'specificity', name: m.metric_specificity, format: (v) => percent(v) },
  { key: 'brier', name: m.metric_brier, format: fixed3 },
  { key: 'ece', name: m.metric_ece, format: (v) => percent(v) },
];

export function metricsSummary(manifest: Manifest): { name: string; value: string }[] {
  const metrics = manifest.metrics as Record<string, unknown>;
  return METRICS.flatMap(({ key, name, format }) => {
    const value = metrics[key];
    return typeof value === 'number' && Number.isFinite(value)
      ? [{ name: name(), value: format(value) }]
      : [];
  });
}

/** Where the model runs, in the user's words: "WebGPU" or "CPU (WASM, 2 threads)". */
export function providerLabel(provider: Provider, threads: number): string {
  if (provider === 'webgpu') return 'WebGPU';
  return m.provider_cpu({ count: threads });
}
