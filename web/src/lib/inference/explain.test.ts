import { describe, expect, it } from 'vitest';
import {
  contributions,
  heatColour,
  maskedRows,
  occlusionBatch,
  occlusionHeatmap,
  occlusionPatches,
} from './explain';

describe('occlusion', () => {
  it('covers a 28×28 input with 6×6 patches of 8 at stride 4 by default', () => {
    const patches = occlusionPatches({ width: 28, height: 28 });
    expect(patches).toHaveLength(36);
    expect(patches.at(-1)).toEqual({ x: 20, y: 20, size: 8 });
    expect(occlusionPatches({ width: 28, height: 28 }, 7, 3)).toHaveLength(64);
  });

  it('adds a last patch that reaches the edge', () => {
    const xs = occlusionPatches({ width: 10, height: 7 }, 7, 2).map((p) => p.x);
    expect([...new Set(xs)]).toEqual([0, 2, 3]);
  });

  it('fills each patch with the image mean, leaving the rest untouched', () => {
    const spec = { width: 4, height: 4, channels: 1 as const };
    const input = Float32Array.from({ length: 16 }, (_, i) => i); // mean 7.5
    const patches = occlusionPatches(spec, 2, 2);
    const { batch, dims } = occlusionBatch(input, spec, patches);
    expect(dims).toEqual([4, 1, 4, 4]);
    const second = Array.from(batch.subarray(16, 32)); // patch at x=2, y=0
    expect(second).toEqual([0, 1, 7.5, 7.5, 4, 5, 7.5, 7.5, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('maps probability drops back onto the pixels each patch covered', () => {
    const spec = { width: 4, height: 4 };
    const patches = [
      { x: 0, y: 0, size: 2 },
      { x: 1, y: 0, size: 2 },
    ];
    // Blanking patch 0 drops p from 0.9 to 0.5; patch 1 raises it to 1.0.
    const { map, maxAbs } = occlusionHeatmap(0.9, [0.5, 1.0], patches, spec);
    expect(map[0]).toBeCloseTo(0.4); // only patch 0
    expect(map[1]).toBeCloseTo((0.4 - 0.1) / 2); // both
    expect(map[2]).toBeCloseTo(-0.1); // only patch 1
    expect(map[3]).toBe(0); // none
    expect(maxAbs).toBeCloseTo(0.4);
  });

  it('colours raises red, lowers blue, zero transparent', () => {
    expect(heatColour(1, 1)).toEqual([220, 38, 38, 200]);
    expect(heatColour(-2, 1)).toEqual([37, 99, 235, 200]);
    expect(heatColour(0, 1)[3]).toBe(0);
    expect(heatColour(0.5, 0)[3]).toBe(0);
  });
});

describe('tabular contributions', () => {
  it('masks one field per row with NaN', () => {
    const { batch, dims } = maskedRows(Float32Array.from([1, 2, 3]));
    expect(dims).toEqual([3, 3]);
    expect(Array.from(batch).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual([
      'NaN',
      2,
      3,
      1,
      'NaN',
      3,
      1,
      2,
      'NaN',
    ]);
  });

  it('is the probability with the field minus without it; missing fields give 0', () => {
    const fields = [
      { key: 'a', label: 'A' },
      { key: 'b', label: 'B' },
      { key: 'c', label: 'C' },
    ];
    const result = contributions(fields, Float32Array.from([1, NaN, 3]), 0.6, [0.4, 0.6, 0.7]);
    expect(result.map((c) => [c.key, Number(c.delta.toFixed(6)), c.missing])).toEqual([
      ['a', 0.2, false],
      ['b', 0, true],
      ['c', -0.1, false],
    ]);
  });
});
