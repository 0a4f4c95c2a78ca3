import { expect, test } from '@playwright/test';
import { crc32, deflateSync } from 'node:zlib';
import { runModel, signInNewClinician } from './support';

// Issue 14 §4: an image that is not what the model expects is flagged before the run; the
// clinician may still run the model, and the warning stays with the result.

/** An 8-bit grayscale PNG, every pixel `value`. */
function uniformPng(width: number, height: number, value: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit, grayscale
  const rows = Buffer.alloc((width + 1) * height, value);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a blank image is flagged, runs only once confirmed, and the warning stays with the result', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  await page.goto('/diagnose');
  await page.getByRole('radio', { name: /Pneumonia/ }).check();
  await page.getByLabel('Choose image file').setInputFiles({
    name: 'grey.png',
    mimeType: 'image/png',
    buffer: uniformPng(300, 300, 128),
  });
  const warning = page.getByRole('alert').filter({ hasText: 'almost uniform' });
  await expect(warning).toBeVisible();
  const run = page.getByRole('button', { name: 'Run model' });
  await expect(run).toBeDisabled();
  await page.getByRole('checkbox', { name: /Run it anyway/ }).check();
  await run.click();
  const result = page.getByRole('region', { name: 'Result' });
  await expect(result).toContainText('Suggests');
  await expect(result.getByRole('list', { name: 'Warnings kept with this result' })).toContainText(
    'almost uniform',
  );
});

// Issue 14 §4: fields that do not apply to the patient are not asked (pregnancies for a man); the
// model gets the manifest's documented value (0) and the result still carries the sex warning.
test('a man is not asked for his pregnancies; a woman and an anonymous run are', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const pregnancies = page.getByRole('textbox', { name: /Number of pregnancies/ });

  // No patient: anyone's values, so every field is asked.
  await page.goto('/diagnose');
  await page.getByRole('radio', { name: /Diabetes/ }).check();
  await expect(pregnancies).toBeVisible();

  const register = async (given: string, sex: 'male' | 'female') => {
    const family = `Diallo${Date.now() % 100000}`;
    await page.goto('/patients/new');
    await page.getByLabel('Given name').fill(given);
    await page.getByLabel('Family name').fill(family);
    await page.getByLabel('Sex').selectOption(sex);
    await page.getByLabel('Years').fill('65');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('heading', { name: `${given} ${family}` })).toBeVisible();
    await page.getByRole('button', { name: 'Diagnose' }).click();
    await page.getByRole('radio', { name: /Diabetes/ }).check();
    await expect(page.getByRole('textbox', { name: /Plasma glucose/ })).toBeVisible();
  };

  await register('Mariam', 'female');
  await expect(pregnancies).toBeVisible();

  await register('Moussa', 'male');
  await expect(pregnancies).toHaveCount(0);
  await expect(page.getByRole('note').filter({ hasText: 'Not asked for this patient' })).toHaveText(
    /Number of pregnancies \(asked only for female, other, unknown patients; 0 used\)/,
  );
  await expect(page.getByRole('textbox', { name: 'Age (years)', exact: true })).toHaveValue('65');
  await page.getByRole('textbox', { name: /Plasma glucose/ }).fill('150');
  await page.getByRole('textbox', { name: /Body mass index/ }).fill('30');
  await runModel(page);
  const result = page.getByRole('region', { name: 'Result' });
  await expect(result).toContainText('Suggests');
  await expect(result.getByRole('list', { name: 'Warnings kept with this result' })).toContainText(
    'made for women and girls only',
  );
  // 0 pregnancies is a value the model got, not a missing one.
  await expect(result.getByText(/Computed without/)).not.toContainText('pregnancies');
});
