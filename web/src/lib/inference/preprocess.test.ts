import { describe, expect, it } from 'vitest';
import {
  ImageInputError,
  centreCrop,
  checkImageSize,
  preprocessImage,
  resizeArea,
  sniffImageType,
  tensorToRgba,
  toPlanes,
} from './preprocess';

/** RGBA bytes of a gray image from its values. */
function gray(values: number[]): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(values.length * 4);
  values.forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return rgba;
}

const spec2 = { width: 2, height: 2, channels: 1 as const };

describe('sniffImageType', () => {
  const bytes = (...b: number[]) => new Uint8Array([...b, ...new Array(16).fill(0)]);
  it('recognises PNG, JPEG and WebP by their signatures', () => {
    expect(sniffImageType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('image/png');
    expect(sniffImageType(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    const webp = bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50);
    expect(sniffImageType(webp)).toBe('image/webp');
  });
  it('refuses GIF, text and empty files', () => {
    expect(sniffImageType(new TextEncoder().encode('GIF89a....'))).toBeNull();
    expect(sniffImageType(new TextEncoder().encode('not an image'))).toBeNull();
    expect(sniffImageType(new Uint8Array())).toBeNull();
  });
});

describe('toPlanes', () => {
  it('converts to luminance with the 0.299/0.587/0.114 weights', () => {
    const rgba = new Uint8ClampedArray([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255,
    ]);
    const [y] = toPlanes(rgba, 4, 1, 1);
    expect(Array.from(y!)).toEqual(
      [0.299 * 255, 0.587 * 255, 0.114 * 255, 0.299 * 10 + 0.587 * 20 + 0.114 * 30].map((v) =>
        Math.fround(v),
      ),
    );
  });
  it('keeps a gray value unchanged and splits RGB into planes', () => {
    expect(toPlanes(gray([0, 17, 255]), 3, 1, 1)[0]![1]).toBeCloseTo(17, 4);
    const planes = toPlanes(new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255]), 2, 1, 3);
    expect(planes.map((p) => Array.from(p))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
  it('composites transparent pixels over black', () => {
    expect(toPlanes(new Uint8ClampedArray([200, 200, 200, 0]), 1, 1, 1)[0]![0]).toBe(0);
  });
});

describe('centreCrop', () => {
  it('crops the long side to the model aspect, centred', () => {
    expect(centreCrop(6, 4, spec2)).toEqual({ x: 1, y: 0, width: 4, height: 4 });
    expect(centreCrop(4, 7, spec2)).toEqual({ x: 0, y: 1, width: 4, height: 4 });
    expect(centreCrop(4, 4, spec2)).toEqual({ x: 0, y: 0, width: 4, height: 4 });
    expect(centreCrop(10, 10, { width: 4, height: 2, channels: 1 })).toEqual({
      x: 0,
      y: 2,
      width: 10,
      height: 5,
    });
  });
});

describe('resizeArea', () => {
  it('averages whole blocks on an integer downscale', () => {
    // 4×4 → 2×2: each output is the mean of a 2×2 block.
    const plane = Float32Array.from([1, 3, 10, 10, 5, 7, 10, 10, 0, 0, 2, 2, 0, 4, 2, 2]);
    const out = resizeArea(plane, 4, 4, { x: 0, y: 0, width: 4, height: 4 }, 2, 2);
    expect(Array.from(out)).toEqual([4, 10, 1, 2]);
  });

  it('weights fractional pixels by their overlap (3 → 2)', () => {
    // Output 0 covers source [0, 1.5): (a + b/2) / 1.5; output 1 covers [1.5, 3).
    const out = resizeArea(
      Float32Array.from([3, 6, 9]),
      3,
      1,
      { x: 0, y: 0, width: 3, height: 1 },
      2,
      1,
    );
    expect(out[0]).toBeCloseTo((3 + 6 * 0.5) / 1.5, 5);
    expect(out[1]).toBeCloseTo((6 * 0.5 + 9) / 1.5, 5);
  });

  it('does not alias a one-pixel checkerboard (nearest neighbour would give 0 or 255)', () => {
    const n = 8;
    const plane = Float32Array.from(
      { length: n * n },
      (_, i) => (((i % n) + Math.floor(i / n)) % 2) * 255,
    );
    const whole = { x: 0, y: 0, width: n, height: n };
    for (const v of resizeArea(plane, n, n, whole, 2, 2)) expect(v).toBe(127.5);
    // Fractional blocks (8 → 3): still a gray near the mean, never black or white.
    for (const v of resizeArea(plane, n, n, whole, 3, 3))
      expect(Math.abs(v - 127.5)).toBeLessThan(16);
  });

  it('keeps the mean of the image', () => {
    const plane = Float32Array.from({ length: 35 }, (_, i) => (i * 37) % 101);
    const out = resizeArea(plane, 7, 5, { x: 0, y: 0, width: 7, height: 5 }, 3, 2);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(plane), 3);
  });

  it('reads only the crop rectangle', () => {
    const plane = Float32Array.from([99, 1, 2, 99, 99, 3, 4, 99]);
    const out = resizeArea(plane, 4, 2, { x: 1, y: 0, width: 2, height: 2 }, 1, 1);
    expect(out[0]).toBe(2.5);
  });

  it('refuses a crop outside the image', () => {
    expect(() =>
      resizeArea(new Float32Array(4), 2, 2, { x: 1, y: 0, width: 2, height: 2 }, 1, 1),
    ).toThrow();
  });
});

describe('preprocessImage', () => {
  it('gives the model input in NCHW for a gray image at the model size (identity)', () => {
    const values = [0, 50, 100, 255];
    expect(Array.from(preprocessImage(gray(values), 2, 2, spec2)).map(Math.round)).toEqual(values);
  });

  it('undoes a 4× nearest-neighbour upscale exactly', () => {
    const small = [10, 20, 30, 40, 50, 60, 70, 80, 90];
    const big: number[] = [];
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++) big.push(small[Math.floor(y / 4) * 3 + Math.floor(x / 4)]!);
    const out = preprocessImage(gray(big), 12, 12, { width: 3, height: 3, channels: 1 });
    out.forEach((v, i) => expect(v).toBeCloseTo(small[i]!, 4));
  });

  it('centre-crops a wide image before resizing', () => {
    // 6×2 with a 1-wide 255 margin each side of a 4×2 middle of 10s: margins are cropped away.
    const row = [255, 10, 10, 10, 10, 255];
    const out = preprocessImage(gray([...row, ...row]), 6, 2, { width: 1, height: 1, channels: 1 });
    expect(out[0]).toBeCloseTo(10, 4);
  });

  it('writes RGB planes for a 3-channel model', () => {
    const rgba = new Uint8ClampedArray([10, 20, 30, 255]);
    expect(Array.from(preprocessImage(rgba, 1, 1, { width: 1, height: 1, channels: 3 }))).toEqual([
      10, 20, 30,
    ]);
  });

  it('refuses an image smaller than the model input', () => {
    expect(() => preprocessImage(gray([1, 2, 3]), 3, 1, spec2)).toThrow(ImageInputError);
    expect(() => checkImageSize(27, 400, { width: 28, height: 28, channels: 1 })).toThrow(
      /too small \(27×400/,
    );
    expect(() => checkImageSize(28, 28, { width: 28, height: 28, channels: 1 })).not.toThrow();
  });
});

describe('tensorToRgba', () => {
  it('shows a gray tensor as opaque gray pixels, clamped and rounded', () => {
    const rgba = tensorToRgba(Float32Array.from([0, 127.6, 300, -4]), spec2);
    expect(Array.from(rgba)).toEqual([
      0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255,
    ]);
  });
});
