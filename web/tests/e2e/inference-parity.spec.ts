import { expect, test } from '@playwright/test';
import * as ortNode from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { occlusionBatch, occlusionPatches } from '../../src/lib/inference/explain';
import { parseCatalogue, parseManifest, type Manifest } from '../../src/lib/inference/manifest';
import { checkTabular, encodeTabular } from '../../src/lib/inference/tabular';
import {
  builtWorkerPath,
  loadModel,
  preprocess,
  runModel,
  startWorker,
} from '../fixtures/worker-harness.mjs';
import { expectedInput, fixturePath, xrayFixtures } from '../fixtures/xrays';

// The browser path (the app's worker: decode + pre-processing + onnxruntime-web, WASM) against
// onnxruntime-node on the same inputs, for every published model of the built app.
const TOLERANCE = 1e-4;

const buildDir = new URL('../../build/', import.meta.url);
const readBuilt = (path: string) => readFileSync(new URL(`models/${path}`, buildDir));
const catalogue = parseCatalogue(JSON.parse(readBuilt('index.json').toString()));
const manifests = catalogue.map((e) =>
  parseManifest(JSON.parse(readBuilt(e.path).toString()), e.id),
);

async function nodeRun(m: Manifest, data: Float32Array, dims: number[]) {
  const session = await ortNode.InferenceSession.create(readBuilt(`${m.id}/${m.file}`));
  const input = m.modality === 'image' ? m.input.image.tensor : m.input.tabular.tensor;
  const out = await session.run({ [input]: new ortNode.Tensor('float32', data, dims) });
  return Array.from(out[m.output.tensor]!.data as Float32Array);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

test.beforeEach(async ({ page }) => {
  await page.goto('/signin'); // any page of the app's origin (cross-origin isolated)
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await startWorker(page, builtWorkerPath(buildDir));
});

for (const manifest of manifests.filter((m) => m.modality === 'image')) {
  test(`${manifest.id}: fixture images match onnxruntime-node`, async ({ page }) => {
    if (manifest.modality !== 'image') return;
    const spec = manifest.input.image;
    const key = `${manifest.id}|wasm`;
    const [input, output] = [spec.tensor, manifest.output.tensor];
    let worst = 0;
    const loaded = await loadModel(page, {
      key,
      modelUrl: `/models/${manifest.id}/${manifest.file}`,
      prefer: 'wasm',
    });
    expect(loaded.provider).toBe('wasm');
    const dims = [1, spec.channels, spec.height, spec.width];

    for (const f of xrayFixtures) {
      const browser = await preprocess(page, { bytes: readFileSync(fixturePath(f.file)), spec });
      const expected = expectedInput(f, spec);
      expect(maxAbsDiff(browser.tensor, expected), `${f.file}: model input`).toBeLessThanOrEqual(
        1e-3,
      );

      const web = await runModel(page, { key, input, output, data: browser.tensor, dims });
      const native = await nodeRun(manifest, Float32Array.from(browser.tensor), dims);
      const diff = maxAbsDiff(web.data, native);
      expect(diff, `${f.file}: probabilities`).toBeLessThanOrEqual(TOLERANCE);
      worst = Math.max(worst, diff);
    }

    // The explanation's batched run too.
    const image = expectedInput(xrayFixtures[0]!, spec);
    const { batch, dims: batchDims } = occlusionBatch(image, spec, occlusionPatches(spec));
    const data = Array.from(batch);
    const web = await runModel(page, { key, input, output, data, dims: batchDims });
    const diff = maxAbsDiff(web.data, await nodeRun(manifest, batch, batchDims));
    expect(diff, 'occlusion batch').toBeLessThanOrEqual(TOLERANCE);
    worst = Math.max(worst, diff);
    test.info().annotations.push({ type: 'max abs difference', description: String(worst) });
  });
}

/** A JPEG with an EXIF APP1 segment saying "rotate 90° clockwise to display" (orientation 6). */
function withExifOrientation6(jpeg: Buffer): Buffer {
  const exif = Buffer.from([
    ...[0xff, 0xe1, 0x00, 0x22], // APP1, length 34
    ...Buffer.from('Exif\0\0', 'latin1'),
    ...[0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08], // big-endian TIFF, IFD at 8
    ...[0x00, 0x01], // one entry: Orientation (0x0112), SHORT, 1 value, 6
    ...[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00],
    ...[0x00, 0x00, 0x00, 0x00], // no next IFD
  ]);
  return Buffer.concat([jpeg.subarray(0, 2), exif, jpeg.subarray(2)]);
}

test('a camera JPEG is turned upright from its EXIF orientation before cropping', async ({
  page,
}) => {
  // 60×30, left half black, right half white: shown rotated, it is 30×60, black on top.
  const jpeg = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(60, 30);
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#fff';
    context.fillRect(0, 0, 60, 30);
    context.fillStyle = '#000';
    context.fillRect(0, 0, 30, 30);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 1 });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  const spec = { width: 28, height: 28, channels: 1 as const };
  const bytes = withExifOrientation6(Buffer.from(jpeg));
  const upright = await preprocess(page, { bytes, type: 'image/jpeg', spec });
  expect([upright.width, upright.height]).toEqual([30, 60]);
  const row = (y: number) => upright.tensor.slice(y * 28, (y + 1) * 28);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  expect(mean(row(0))).toBeLessThan(30);
  expect(mean(row(27))).toBeGreaterThan(225);
});

for (const manifest of manifests.filter((m) => m.modality === 'tabular')) {
  test(`${manifest.id}: form rows with missing values match onnxruntime-node`, async ({ page }) => {
    if (manifest.modality !== 'tabular') return;
    const fields = manifest.input.tabular.fields;
    const key = `${manifest.id}|wasm`;
    await loadModel(page, {
      key,
      modelUrl: `/models/${manifest.id}/${manifest.file}`,
      prefer: 'wasm',
    });
    const at = (t: number, keepOptional: boolean) =>
      Object.fromEntries(
        fields
          .filter((f) => f.required || keepOptional)
          .map((f) => [f.key, String(+(f.min + t * (f.max - f.min)).toFixed(2))]),
      );
    const forms = [at(0.5, true), at(0.2, true), at(0.8, false), at(0.35, false)];
    const rows = forms.map((texts) => {
      const { values, issues } = checkTabular(fields, texts);
      expect(issues).toEqual([]);
      return encodeTabular(fields, values).row;
    });
    const data = new Float32Array(rows.length * fields.length);
    rows.forEach((r, i) => data.set(r, i * fields.length));
    const dims = [rows.length, fields.length];
    const input = manifest.input.tabular.tensor;
    const web = await runModel(page, {
      key,
      input,
      output: manifest.output.tensor,
      data: Array.from(data),
      dims,
    });
    const native = await nodeRun(manifest, data, dims);
    expect(native.every(Number.isFinite)).toBe(true);
    const diff = maxAbsDiff(web.data, native);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
    test.info().annotations.push({ type: 'max abs difference', description: String(diff) });
  });
}
