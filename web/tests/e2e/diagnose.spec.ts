import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runModel, signInNewClinician, waitForOfflineReady } from './support';

// The Diagnose screen against the real server and the built app, models as published in the build.
// One browser context for the whole file: the last test needs the earlier online visits.
test.describe.configure({ mode: 'serial' });

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const built = (path: string) =>
  JSON.parse(readFileSync(new URL(`../../build/models/${path}`, import.meta.url), 'utf8'));

interface Entry {
  id: string;
  name: string;
  modality: 'image' | 'tabular';
  path: string;
}
interface Field {
  key: string;
  label: string;
  unit: string;
  min: number;
  max: number;
  required: boolean;
}
const catalogue: Entry[] = built('index.json');
const imageModel = catalogue.find((e) => e.modality === 'image')!;
const tabularModel = catalogue.find((e) => e.modality === 'tabular')!;
const fields: Field[] = built(tabularModel.path).input.tabular.fields;
const insulin = fields.find((f) => /insulin/i.test(f.key)) ?? fields.find((f) => !f.required)!;
const fieldName = (f: Field) => (f.unit ? `${f.label} (${f.unit})` : f.label);

let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser, baseURL }) => {
  context = await browser.newContext({ baseURL });
  page = await context.newPage();
  await signInNewClinician(page, baseURL!);
});

test.afterAll(async () => {
  await context.close();
});

async function chooseModel(entry: Entry) {
  await page.getByRole('radio', { name: entry.name }).check();
  await expect(page.getByRole('heading', { name: entry.name, level: 2 })).toBeVisible();
}

async function diagnoseXray() {
  await chooseModel(imageModel);
  await page.getByLabel('Choose image file').setInputFiles(fixture('cxr-val-0-pneumonia-x4.png'));
  await expect(page.getByRole('img', { name: /^Model input/ })).toBeVisible();
  await runModel(page);
  const result = page.getByRole('region', { name: 'Result' });
  await expect(result).toContainText(/Suggests/);
  await expect(result.getByRole('meter')).toHaveCount(2);
  await expect(result.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  await expect(result).toContainText('Intended use');
  return result;
}

async function diagnoseForm() {
  await chooseModel(tabularModel);
  for (const field of fields.filter((f) => f.required)) {
    const input = page.getByRole('textbox', { name: fieldName(field), exact: true });
    await input.fill(String(Math.round((field.min + field.max) / 2)));
  }
  await runModel(page);
  const result = page.getByRole('region', { name: 'Result' });
  await expect(result).toContainText(/Computed without: .*/);
  await expect(result).toContainText(insulin.label);
  await expect(result.getByRole('table')).toBeVisible(); // the contributions
  return result;
}

test('an X-ray gives probabilities, a finding and a heatmap, and says where it ran', async () => {
  await page.goto('/diagnose');
  await expect(page.getByRole('heading', { name: 'Diagnose' })).toBeVisible();
  const result = await diagnoseXray();
  await expect(result).toContainText(/ran on (WebGPU|CPU \(WASM, \d+ threads?\))/);
  await expect(result).toContainText(/not a diagnosis/);
  await expect(page.getByRole('status').filter({ hasText: 'Ready' })).toContainText('runs on');
});

test('the form runs with an optional field left empty and lists it', async () => {
  const result = await diagnoseForm();
  // Every field has a contribution row, the missing one says so.
  await expect(result.getByRole('row')).toHaveCount(fields.length);
  await expect(result.getByRole('row', { name: insulin.label })).toContainText('not given');
});

test('out-of-range values are flagged before the model runs', async () => {
  await chooseModel(tabularModel);
  const field = fields.find((f) => f.required)!;
  await page
    .getByRole('textbox', { name: fieldName(field), exact: true })
    .fill(`${field.max * 10}`);
  await expect(page.getByRole('alert')).toContainText('outside the plausible range');
  await expect(page.getByRole('button', { name: 'Run model' })).toBeDisabled();
});

test('a corrupt, a tiny and a non-image file each get a clear message', async () => {
  await chooseModel(imageModel);
  const input = page.getByLabel('Choose image file');
  await input.setInputFiles(fixture('corrupt.png'));
  await expect(page.getByRole('alert')).toContainText('could not be read');
  await input.setInputFiles(fixture('tiny-20x20.png'));
  await expect(page.getByRole('alert')).toContainText('too small (20×20');
  await input.setInputFiles({
    name: 'notes.png',
    mimeType: 'image/png',
    buffer: Buffer.from('hello'),
  });
  await expect(page.getByRole('alert')).toContainText('not a PNG, JPEG or WebP');
  await expect(page.getByRole('button', { name: 'Run model' })).toBeDisabled();
});

test('after one online visit everything works offline', async () => {
  await waitForOfflineReady(page);
  await context.setOffline(true);
  try {
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Diagnose' })).toBeVisible();
    await expect(page.getByRole('radio', { name: imageModel.name })).toBeVisible();
    await expect(page.getByText('Available offline')).toHaveCount(catalogue.length);
    await diagnoseXray();
    await diagnoseForm();
  } finally {
    await context.setOffline(false);
  }
});
