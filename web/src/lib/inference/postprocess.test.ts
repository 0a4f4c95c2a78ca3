import { describe, expect, it } from 'vitest';
import {
  ModelOutputError,
  findingOf,
  metricsSummary,
  percent,
  providerLabel,
  readProbabilities,
} from './postprocess';
import { imageManifest } from './manifests.test-helper';

const labels = ['normal', 'pneumonia'];

describe('readProbabilities', () => {
  it('splits a [N, 2] output into rows', () => {
    expect(readProbabilities(Float32Array.from([0.25, 0.75, 1, 0]), [2, 2], labels)).toEqual([
      [0.25, 0.75],
      [1, 0],
    ]);
  });

  it('refuses a wrong shape', () => {
    expect(() => readProbabilities([0.5, 0.5], [1, 2, 1], labels)).toThrow(ModelOutputError);
    expect(() => readProbabilities([0.2, 0.3, 0.5], [1, 3], labels)).toThrow(/\[N, 2\]/);
    expect(() => readProbabilities([0.5, 0.5], [2, 2], labels)).toThrow(ModelOutputError);
  });

  it('refuses logits, NaN and rows that do not sum to 1', () => {
    expect(() => readProbabilities([2.1, -1.3], [1, 2], labels)).toThrow(/not probabilities/);
    expect(() => readProbabilities([NaN, 1], [1, 2], labels)).toThrow(/not probabilities/);
    expect(() => readProbabilities([0.3, 0.3], [1, 2], labels)).toThrow(/not probabilities/);
    expect(readProbabilities([0.3, 0.7002], [1, 2], labels)).toHaveLength(1);
  });
});

describe('findingOf', () => {
  it('applies the manifest threshold to the positive label', () => {
    // threshold 0.4 in the test manifest
    expect(findingOf(imageManifest, [0.55, 0.45])).toMatchObject({
      label: 'pneumonia',
      positive: true,
      positiveProbability: 0.45,
      threshold: 0.4,
    });
    expect(findingOf(imageManifest, [0.6, 0.4]).positive).toBe(true);
    expect(findingOf(imageManifest, [0.61, 0.39])).toMatchObject({
      label: 'normal',
      positive: false,
    });
  });
});

describe('metricsSummary', () => {
  it('shows AUC as a number and rates as percentages, in a fixed order', () => {
    const withCalibration = {
      ...imageManifest,
      metrics: { ...imageManifest.metrics, ece: 0.031, brier: 0.0812, positives: 300, data: {} },
    };
    expect(metricsSummary(withCalibration).slice(4)).toEqual([
      { name: 'Brier score', value: '0.081' },
      { name: 'Calibration error (ECE)', value: '3.1 %' },
    ]);
    expect(metricsSummary(imageManifest)).toEqual([
      { name: 'AUC', value: '0.970' },
      { name: 'Accuracy', value: '90.0 %' },
      { name: 'Sensitivity', value: '92.0 %' },
      { name: 'Specificity', value: '85.0 %' },
    ]);
    expect(percent(0.1234)).toBe('12.3 %');
  });
});

describe('providerLabel', () => {
  it('names the provider in plain words', () => {
    expect(providerLabel('webgpu', 2)).toBe('WebGPU');
    expect(providerLabel('wasm', 1)).toBe('CPU (WASM, 1 thread)');
    expect(providerLabel('wasm', 4)).toBe('CPU (WASM, 4 threads)');
  });
});
