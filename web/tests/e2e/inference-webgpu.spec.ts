import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { chromiumPath } from '../../playwright.config';
import { parseCatalogue, parseManifest } from '../../src/lib/inference/manifest';
import { occlusionBatch, occlusionPatches } from '../../src/lib/inference/explain';
import { expectedInput, fixturePath, xrayFixtures } from '../fixtures/xrays';
import { builtWorkerPath, loadModel, runModel, startWorker } from '../fixtures/worker-harness.mjs';
import { runModel as clickRunModel, signInNewClinician, waitForOfflineReady } from './support';

// The WebGPU execution provider: headless Chromium with --enable-unsafe-webgpu (and GPU not
// disabled) gives a SwiftShader adapter, so the WebGPU path runs here, correctly though slowly.
test.use({
  launchOptions: {
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  },
});

const buildDir = new URL('../../build/', import.meta.url);
const readBuilt = (path: string) => readFileSync(new URL(`models/${path}`, buildDir));
const catalogue = parseCatalogue(JSON.parse(readBuilt('index.json').toString()));
const manifests = catalogue.map((e) =>
  parseManifest(JSON.parse(readBuilt(e.path).toString()), e.id),
);

/** Inputs for any model: the X-ray fixtures plus a few occluded copies, or form rows with gaps. */
function inputFor(m: (typeof manifests)[number]) {
  if (m.modality === 'image') {
    const spec = m.input.image;
    const images = xrayFixtures.map((f) => expectedInput(f, spec));
    const occluded = occlusionBatch(images[0]!, spec, occlusionPatches(spec).slice(20, 24)).batch;
    const data = [...images.flatMap((t) => Array.from(t)), ...occluded];
    const n = images.length + 4;
    return { input: spec.tensor, data, dims: [n, spec.channels, spec.height, spec.width] };
  }
  const fields = m.input.tabular.fields;
  const row = fields.map((f, i) => (i % 3 === 2 && !f.required ? NaN : (f.min + f.max) / 2));
  const data = [...row, ...row.map((v) => v * 0.9)];
  return { input: m.input.tabular.tensor, data, dims: [2, fields.length] };
}

test('WebGPU is used when the device offers it, with the same probabilities as WASM', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto('/signin');
  const hasAdapter = () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu?.requestAdapter().then((adapter) => !!adapter) ?? false;
  };
  expect(await page.evaluate(hasAdapter)).toBe(true);
  await startWorker(page, builtWorkerPath(buildDir));
  for (const m of manifests) {
    const modelUrl = `/models/${m.id}/${m.file}`;
    const gpu = await loadModel(page, { key: `${m.id}|auto`, modelUrl, prefer: 'auto' });
    expect(gpu.provider, gpu.fallback).toBe('webgpu');
    const cpu = await loadModel(page, { key: `${m.id}|wasm`, modelUrl, prefer: 'wasm' });
    expect(cpu.provider).toBe('wasm');

    const { input, data, dims } = inputFor(m);
    const output = m.output.tensor;
    const onGpu = await runModel(page, { key: `${m.id}|auto`, input, output, data, dims });
    const onCpu = await runModel(page, { key: `${m.id}|wasm`, input, output, data, dims });
    const diff = Math.max(
      ...onGpu.data.map((p: number, i: number) => Math.abs(p - onCpu.data[i]!)),
    );
    expect(diff, m.id).toBeLessThanOrEqual(1e-3);
    test.info().annotations.push({ type: `${m.id} WebGPU vs WASM`, description: String(diff) });
  }
});

test('the Diagnose screen says it runs on WebGPU', async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await signInNewClinician(page, baseURL!);
  await page.goto('/diagnose');
  const image = catalogue.find((e) => e.modality === 'image')!;
  await page.getByRole('radio', { name: image.name }).check();
  await expect(page.getByRole('status').filter({ hasText: 'Ready' })).toContainText(
    'runs on WebGPU',
    { timeout: 60_000 },
  );
  await page.getByLabel('Choose image file').setInputFiles(fixturePath('cxr-val-0-pneumonia.png'));
  await clickRunModel(page);
  const result = page.getByRole('region', { name: 'Result' });
  await expect(result).toContainText('ran on WebGPU', { timeout: 60_000 });
  // The heatmap's batch of 36 takes SwiftShader (a CPU emulating the GPU) too long to wait for
  // here; the first test checks batched runs on WebGPU against WASM.
});

test('the WebGPU runtime is cached when first used; offline before that, the CPU runs', async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(180_000);
  await signInNewClinician(page, baseURL!);
  await page.goto('/diagnose');
  await waitForOfflineReady(page);
  const image = catalogue.find((e) => e.modality === 'image')!;
  const status = page.getByRole('status').filter({ hasText: 'Ready' });
  const readyOn = async (provider: RegExp) => {
    await page.getByRole('radio', { name: image.name }).check();
    await expect(status).toContainText(provider, { timeout: 60_000 });
  };

  // Only the CPU build is precached: offline, before any WebGPU use, the model still runs.
  await context.setOffline(true);
  try {
    await page.reload();
    await readyOn(/runs on CPU.*\(no WebGPU\)/);
  } finally {
    await context.setOffline(false);
  }
  await page.reload();
  await readyOn(/runs on WebGPU/);
  await context.setOffline(true);
  try {
    await page.reload();
    await readyOn(/runs on WebGPU/);
  } finally {
    await context.setOffline(false);
  }
});
