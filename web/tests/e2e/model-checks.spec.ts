import { expect, test } from '@playwright/test';
import { crc32, deflateSync } from 'node:zlib';
import { signInNewClinician } from './support';

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
