// Explanations as pure maths, so they are the same in the worker, the page and the tests.
// Images: occlusion sensitivity from ONE batched run. Tabular: each field replaced by NaN.
import type { ImageSpec } from './preprocess';

export interface Patch {
  x: number;
  y: number;
  size: number;
}

/**
 * 8×8 patches every 4 pixels: 36 occluded copies of a 28×28 input, each pixel covered up to 4
 * times. (7 every 3 gives 64 copies and a finer map for nearly twice the time: on a 2-core machine
 * the 36-image batch of the 5-network pneumonia model takes about 0.15–0.25 s.)
 */
export const OCCLUSION_PATCH = 8;
export const OCCLUSION_STRIDE = 4;

/** Start positions along one axis; the last patch always reaches the far edge. */
function starts(length: number, size: number, stride: number): number[] {
  const last = Math.max(0, length - size);
  const out: number[] = [];
  for (let s = 0; s <= last; s += stride) out.push(s);
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

export function occlusionPatches(
  spec: Pick<ImageSpec, 'width' | 'height'>,
  size = OCCLUSION_PATCH,
  stride = OCCLUSION_STRIDE,
): Patch[] {
  const s = Math.min(size, spec.width, spec.height);
  return starts(spec.height, s, stride).flatMap((y) =>
    starts(spec.width, s, stride).map((x) => ({ x, y, size: s })),
  );
}

/**
 * A batch of copies of `input` (one NCHW image) in which each patch in turn is filled with the
 * image's mean value per channel. Run it in one call: row k answers "what if patch k were blank?".
 */
export function occlusionBatch(input: Float32Array, spec: ImageSpec, patches: Patch[]) {
  const plane = spec.width * spec.height;
  const imageSize = spec.channels * plane;
  if (input.length !== imageSize) throw new RangeError(`expected ${imageSize} values`);
  const means = Array.from({ length: spec.channels }, (_, c) => {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += input[c * plane + i]!;
    return sum / plane;
  });
  const batch = new Float32Array(patches.length * imageSize);
  patches.forEach((p, k) => {
    const offset = k * imageSize;
    batch.set(input, offset);
    for (let c = 0; c < spec.channels; c++) {
      for (let y = p.y; y < p.y + p.size; y++) {
        const row = offset + c * plane + y * spec.width;
        batch.fill(means[c]!, row + p.x, row + p.x + p.size);
      }
    }
  });
  return { batch, dims: [patches.length, spec.channels, spec.height, spec.width] };
}

/**
 * Per pixel, the mean drop in the positive probability when a patch covering it is blanked:
 * positive where the region pushes towards the positive label, negative where it pushes away.
 */
export function occlusionHeatmap(
  baseProbability: number,
  occludedProbabilities: readonly number[],
  patches: Patch[],
  spec: Pick<ImageSpec, 'width' | 'height'>,
): { map: Float32Array; maxAbs: number } {
  if (occludedProbabilities.length !== patches.length) throw new RangeError('one value per patch');
  const sum = new Float64Array(spec.width * spec.height);
  const count = new Uint16Array(spec.width * spec.height);
  patches.forEach((p, k) => {
    const drop = baseProbability - occludedProbabilities[k]!;
    for (let y = p.y; y < p.y + p.size; y++) {
      for (let x = p.x; x < p.x + p.size; x++) {
        sum[y * spec.width + x]! += drop;
        count[y * spec.width + x]! += 1;
      }
    }
  });
  const map = new Float32Array(sum.length);
  let maxAbs = 0;
  for (let i = 0; i < map.length; i++) {
    map[i] = count[i] ? sum[i]! / count[i]! : 0;
    maxAbs = Math.max(maxAbs, Math.abs(map[i]!));
  }
  return { map, maxAbs };
}

/**
 * Diverging colour for a heatmap value in [-scale, scale]: red where the region raises the positive
 * probability, blue where it lowers it, transparent near zero. Returns RGBA bytes.
 */
export function heatColour(value: number, scale: number): [number, number, number, number] {
  const t = scale > 0 ? Math.max(-1, Math.min(1, value / scale)) : 0;
  const alpha = Math.round(Math.abs(t) * 200);
  return t >= 0 ? [220, 38, 38, alpha] : [37, 99, 235, alpha];
}

export function heatmapRgba(map: Float32Array, scale: number): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(map.length * 4);
  map.forEach((v, i) => rgba.set(heatColour(v, scale), i * 4));
  return rgba;
}

/**
 * One row per field, each a copy of `row` with that field set to NaN (the model's own
 * missing-value behaviour). Fields already missing are included too, and change nothing.
 */
export function maskedRows(row: Float32Array): { batch: Float32Array; dims: number[] } {
  const n = row.length;
  const batch = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    batch.set(row, i * n);
    batch[i * n + i] = NaN;
  }
  return { batch, dims: [n, n] };
}

export interface Contribution {
  key: string;
  label: string;
  /** Positive probability with the field minus without it: > 0 means it raised the probability. */
  delta: number;
  /** The field was not given, so it contributed nothing. */
  missing: boolean;
}

export function contributions(
  fields: readonly { key: string; label: string }[],
  row: Float32Array,
  baseProbability: number,
  maskedProbabilities: readonly number[],
): Contribution[] {
  if (maskedProbabilities.length !== fields.length) throw new RangeError('one value per field');
  return fields.map((f, i) => {
    const missing = Number.isNaN(row[i]!);
    return {
      key: f.key,
      label: f.label,
      delta: missing ? 0 : baseProbability - maskedProbabilities[i]!,
      missing,
    };
  });
}
