import { expect, test, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { runModel, signInNewClinician, waitForOfflineReady } from './support';

const xray = fileURLToPath(new URL('../fixtures/cxr-val-0-pneumonia-x4.png', import.meta.url));

async function registerPatient(page: Page, given: string, family: string) {
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('button', { name: 'New patient' }).click();
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Sex').selectOption('male');
  await page.getByLabel('Years').fill('8');
  await page.getByLabel('Village').fill('Kita');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `${given} ${family}` })).toBeVisible();
}

async function syncNow(page: Page) {
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByText(/Last backup: just now · 0 waiting/)).toBeVisible();
}

async function editVillage(page: Page, village: string) {
  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Village').fill(village);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(`· ${village}`)).toBeVisible();
}

test('two tablets: offline work reaches the server and the teammate; a conflict is resolved', async ({
  browser,
  baseURL,
}) => {
  const contextA = await browser.newContext();
  const tabletA = await contextA.newPage();
  await signInNewClinician(tabletA, baseURL!);
  await tabletA.goto('/');
  await waitForOfflineReady(tabletA);

  // Tablet A works a whole visit without signal.
  await contextA.setOffline(true);
  await registerPatient(tabletA, 'Moussa', 'Diarra');
  await tabletA.getByRole('button', { name: 'New encounter' }).click();
  await tabletA.getByLabel('Chief complaint').fill('Cough and fever');
  await expect(tabletA.getByText('Saved on this device')).toBeVisible();
  // An X-ray read by the pneumonia model, kept with the visit.
  await tabletA.getByRole('button', { name: 'Run a model' }).click();
  await tabletA.getByRole('radio', { name: /Pneumonia/ }).check();
  await tabletA.getByLabel('Choose image file').setInputFiles(xray);
  await runModel(tabletA);
  await expect(tabletA.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  const save = tabletA.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await expect(tabletA.getByRole('link', { name: /Pneumonia.*clinician agrees/ })).toBeVisible();
  await tabletA.getByRole('button', { name: 'New report' }).click();
  await tabletA.getByLabel('Summary').fill('Probable pneumonia.');
  await tabletA.getByRole('button', { name: 'Share report' }).click();
  await expect(tabletA.getByText('it goes to your supervisor at the next sync')).toBeVisible();
  await tabletA.getByRole('button', { name: 'Sync now' }).click();
  // Offline is a state, not a failure: the bar says so, and the edits wait.
  await expect(tabletA.getByRole('region', { name: 'Sync status' })).toContainText('Offline');
  await expect(tabletA.getByText(/Sync failed/)).toHaveCount(0);
  // Patient, visit, image attachment, diagnosis and report wait for the connection.
  await expect(tabletA.getByText(/5 waiting/)).toBeVisible();

  // Signal returns: everything is backed up, and the status says so.
  await contextA.setOffline(false);
  await syncNow(tabletA);
  await tabletA.getByRole('button', { name: 'Back to patient' }).click();
  await expect(tabletA.getByText('not backed up')).toHaveCount(0);

  // Tablet B (same team) signs in on an empty device and gets the patient and the report.
  const contextB = await browser.newContext();
  const tabletB = await contextB.newPage();
  await signInNewClinician(tabletB, baseURL!);
  await tabletB.goto('/patients');
  await tabletB.getByLabel('Search patients').fill('moussa');
  await tabletB.getByRole('link', { name: /Moussa Diarra/ }).click();
  await expect(tabletB.getByRole('link', { name: /Cough and fever/ })).toBeVisible();
  await expect(tabletB.getByRole('link', { name: /Report/ })).toContainText('shared');
  // The X-ray itself downloads on demand, checked against its hash.
  await tabletB.getByRole('link', { name: /Report/ }).click();
  await tabletB.getByRole('button', { name: 'Print' }).click();
  const image = tabletB.getByRole('img', { name: 'As captured' });
  await expect(image).toBeVisible();
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(112);
  await tabletB.getByRole('link', { name: 'Back to the report' }).click();
  await tabletB.getByRole('button', { name: 'Back to patient' }).click();
  await waitForOfflineReady(tabletB);

  // Both change the village offline; both sync; the second one gets a conflict.
  await contextA.setOffline(true);
  await contextB.setOffline(true);
  await editVillage(tabletA, 'Bafoulabé');
  await editVillage(tabletB, 'Kéniéba');
  // An edit of a record already on the server is not backed up either, until it is pushed.
  await expect(tabletA.getByText('not backed up')).toBeVisible();
  await contextA.setOffline(false);
  await syncNow(tabletA);
  await expect(tabletA.getByText('not backed up')).toHaveCount(0);
  await contextB.setOffline(false);
  await syncNow(tabletB);
  await expect(tabletB.getByRole('link', { name: '1 conflict to resolve' })).toBeVisible();
  await expect(tabletB.getByText(/someone else changed village too/)).toBeVisible();
  await tabletB.getByRole('link', { name: 'Compare and resolve' }).click();
  await expect(tabletB.getByRole('cell', { name: 'Bafoulabé' })).toBeVisible();
  await expect(tabletB.getByRole('cell', { name: 'Kéniéba' })).toBeVisible();
  await tabletB.getByLabel('Mine').check();
  await tabletB.getByRole('button', { name: 'Resolve' }).click();
  await expect(tabletB.getByText('· Kéniéba')).toBeVisible();
  await syncNow(tabletB);

  // Both converge on the resolution.
  await syncNow(tabletA);
  await tabletA.reload();
  await expect(tabletA.getByText('· Kéniéba')).toBeVisible();
  await expect(tabletB.getByRole('link', { name: /conflict to resolve/ })).toHaveCount(0);
  await contextA.close();
  await contextB.close();
});
