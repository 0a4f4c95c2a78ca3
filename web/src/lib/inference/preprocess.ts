// Image pre-processing as pure functions on RGBA pixel arrays, shared by the inference worker and
// the tests: channel conversion, centre crop to the model's aspect, area-averaging resize, NCHW.
import type { ImageInput } from './manifest';

export type ImageSpec = Pick<ImageInput, 'height' | 'width' | 'channels'>;
export type SupportedImageType = 'image/png' | 'image/jpeg' | 'image/webp';

/** Thrown for an input image the model cannot use; its message is meant for the clinician. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
}

/** The image type from the file's first bytes (the file name and its claimed type can lie). */
export function sniffImageType(head: Uint8Array): SupportedImageType | null {
  const at = (offset: number, bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return 'image/webp';
  return null;
}

export const UNSUPPORTED_IMAGE_MESSAGE =
  'This file is not a PNG, JPEG or WebP image. Take a photo or choose an image file.';
export const CORRUPT_IMAGE_MESSAGE =
  'This image could not be read: the file may be damaged or incomplete. Try another photo or file.';

/** Refuses an image smaller than the model input: it would have to be enlarged, inventing detail. */
export function checkImageSize(width: number, height: number, spec: ImageSpec): void {
  const crop = centreCrop(width, height, spec);
  if (crop.width < spec.width || crop.height < spec.height) {
    throw new ImageInputError(
      `This image is too small (${width}×${height} pixels): the model needs at least ` +
        `${spec.width}×${spec.height} pixels after cropping to its shape.`,
    );
  }
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest centred rectangle with the model input's aspect ratio, in whole pixels. */
export function centreCrop(width: number, height: number, spec: ImageSpec): Rect {
  const aspect = spec.width / spec.height;
  if (width / height > aspect) {
    const w = Math.max(1, Math.min(width, Math.round(height * aspect)));
    return { x: Math.floor((width - w) / 2), y: 0, width: w, height };
  }
  const h = Math.max(1, Math.min(height, Math.round(width / aspect)));
  return { x: 0, y: Math.floor((height - h) / 2), width, height: h };
}

/** Grayscale luminance weights (ITU-R BT.601), as the models were trained with. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * RGBA bytes to `channels` planes of float32 0–255 (1: luminance, 3: R, G, B), composited over
 * black where the image is transparent.
 */
export function toPlanes(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  channels: 1 | 3,
): Float32Array[] {
  const n = width * height;
  if (rgba.length !== n * 4)
    throw new RangeError(`expected ${n * 4} RGBA values, got ${rgba.length}`);
  const planes = Array.from({ length: channels }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3]! / 255;
    const r = rgba[i * 4]! * a;
    const g = rgba[i * 4 + 1]! * a;
    const b = rgba[i * 4 + 2]! * a;
    if (channels === 1) planes[0]![i] = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
    else {
      planes[0]![i] = r;
      planes[1]![i] = g;
      planes[2]![i] = b;
    }
  }
  return planes;
}

/** For each output index, the source pixels it covers and the share of each (summing to 1). */
function coverage(start: number, length: number, outLength: number) {
  const scale = length / outLength;
  return Array.from({ length: outLength }, (_, i) => {
    const lo = start + i * scale;
    const hi = lo + scale;
    const taps: { index: number; weight: number }[] = [];
    for (let j = Math.floor(lo); j < Math.ceil(hi - 1e-9); j++) {
      const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
      if (overlap > 1e-12) taps.push({ index: j, weight: overlap / scale });
    }
    return taps;
  });
}

/**
 * Resizes the `crop` rectangle of one plane to outWidth × outHeight by area averaging: every output
 * pixel is the mean of the source area it covers (fractional pixels weighted by their overlap), so
 * downscaling never aliases.
 */
export function resizeArea(
  plane: Float32Array,
  width: number,
  height: number,
  crop: Rect,
  outWidth: number,
  outHeight: number,
): Float32Array {
  if (crop.x < 0 || crop.y < 0 || crop.x + crop.width > width || crop.y + crop.height > height) {
    throw new RangeError('crop rectangle outside the image');
  }
  const xs = coverage(crop.x, crop.width, outWidth);
  const ys = coverage(crop.y, crop.height, outHeight);
  // Horizontal pass over the cropped rows, then vertical pass; float64 sums.
  const rows = new Float64Array(crop.height * outWidth);
  for (let y = 0; y < crop.height; y++) {
    const rowStart = (crop.y + y) * width;
    for (let ox = 0; ox < outWidth; ox++) {
      let sum = 0;
      for (const tap of xs[ox]!) sum += plane[rowStart + tap.index]! * tap.weight;
      rows[y * outWidth + ox] = sum;
    }
  }
  const out = new Float32Array(outWidth * outHeight);
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let sum = 0;
      for (const tap of ys[oy]!) sum += rows[(tap.index - crop.y) * outWidth + ox]! * tap.weight;
      out[oy * outWidth + ox] = sum;
    }
  }
  return out;
}

/**
 * Decoded RGBA pixels (already upright: decode with `imageOrientation: 'from-image'`) to the model
 * input: channels, centre crop to the model's aspect, area-averaged resize, float32 0–255 in NCHW
 * order for a batch of one.
 */
export function preprocessImage(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  spec: ImageSpec,
): Float32Array {
  checkImageSize(width, height, spec);
  const crop = centreCrop(width, height, spec);
  const planes = toPlanes(rgba, width, height, spec.channels);
  const size = spec.width * spec.height;
  const tensor = new Float32Array(spec.channels * size);
  planes.forEach((plane, c) =>
    tensor.set(resizeArea(plane, width, height, crop, spec.width, spec.height), c * size),
  );
  return tensor;
}

/** A model input tensor (batch of one) back to RGBA bytes, to show the clinician what the model sees. */
export function tensorToRgba(
  tensor: Float32Array,
  spec: ImageSpec,
): Uint8ClampedArray<ArrayBuffer> {
  const size = spec.width * spec.height;
  const rgba = new Uint8ClampedArray(size * 4);
  for (let i = 0; i < size; i++) {
    for (let c = 0; c < 3; c++) {
      rgba[i * 4 + c] = Math.round(tensor[(spec.channels === 1 ? 0 : c) * size + i]!);
    }
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}
