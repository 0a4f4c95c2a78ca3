// The input check against the data it was calibrated on (training/data) and inputs that are not
// chest X-rays, generated here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInput, parseInputCheck, type InputCheckSpec } from './input-check';
import { readNpz } from './npy.test-helper';

const repo = new URL('../../../../', import.meta.url);
const spec: InputCheckSpec = parseInputCheck(
  JSON.parse(readFileSync(new URL('models/pneumonia-cxr/input-check.json', repo), 'utf8')),
);
const { val_images: val } = readNpz(
  readFileSync(new URL('training/data/pneumoniamnist_trainval.npz', repo)),
  ['val_images'],
);
const N = 28 * 28;
const valImage = (i: number) =>
  Float32Array.from(val!.data.subarray(i * N, (i + 1) * N) as Uint8Array);
const valCount = val!.shape[0]!;

/** A seeded generator (mulberry32), so the synthetic images are the same every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const image = (f: (x: number, y: number) => number) =>
  Float32Array.from({ length: N }, (_, i) =>
    Math.max(0, Math.min(255, f(i % 28, Math.floor(i / 28)))),
  );
const codes = (pixels: Float32Array) => checkInput(spec, pixels).issues.map((i) => i.code);
const flaggedShare = (images: Float32Array[]) =>
  images.filter((im) => checkInput(spec, im).issues.length > 0).length / images.length;

describe('the input check of pneumonia-cxr', () => {
  it('passes the validation X-rays, as calibrated in training', () => {
    const flagged = Array.from({ length: valCount }, (_, i) => valImage(i)).filter(
      (im) => checkInput(spec, im).issues.length > 0,
    ).length;
    const rate = flagged / valCount;
    // The same arithmetic as training/input_check.py: the same false-alarm rate (± one image).
    expect(Math.abs(rate - spec.calibration.valFalseAlarm)).toBeLessThanOrEqual(
      1 / valCount + 1e-9,
    );
    expect(rate).toBeLessThan(0.02);
  });

  it('calls a blank image blank, including a huge noise photo averaged down to 28×28', () => {
    expect(codes(image(() => 128))).toEqual(['blank']);
    const rnd = random(1);
    // Area-averaging 250×180 source pixels of uniform noise per input pixel leaves ±2 of grey.
    expect(codes(image(() => 127.5 + (rnd() - 0.5) * 8))).toEqual(['blank']);
  });

  it('flags noise, inverted X-rays and natural-looking patterns as unusual', () => {
    const rnd = random(2);
    const noise = Array.from({ length: 30 }, () => image(() => rnd() * 255));
    const inverted = Array.from({ length: 30 }, (_, i) => valImage(i).map((v) => 255 - v));
    const sines = Array.from({ length: 30 }, (_, k) =>
      image((x, y) => 127 + 100 * Math.sin(x / (0.5 + k / 5) + y / (1.5 + k / 5))),
    );
    const gradients = Array.from({ length: 30 }, (_, k) =>
      image((x, y) => ((x * Math.cos(k / 5) + y * Math.sin(k / 5)) * 9) % 256),
    );
    expect(flaggedShare(noise)).toBe(1);
    expect(flaggedShare(inverted)).toBe(1);
    expect(flaggedShare(sines)).toBe(1);
    // A smooth ramp is the closest of these to an X-ray's large-scale shading: most, not all.
    expect(flaggedShare(gradients)).toBeGreaterThanOrEqual(0.8);
    for (const im of noise) expect(codes(im)).toContain('unusual');
  });

  it('says when an image is far too dark or too bright', () => {
    expect(codes(valImage(0).map((v) => v * 0.15))).toContain('underexposed');
    expect(codes(valImage(0).map((v) => Math.min(255, v * 1.6 + 90)))).toContain('overexposed');
  });

  it('refuses a spec whose arrays do not fit its image size, and an input of the wrong size', () => {
    expect(() => parseInputCheck({ ...spec, width: 27 })).toThrow(/do not match/);
    expect(() => checkInput(spec, new Float32Array(10))).toThrow(/expected 784 pixels/);
  });
});
