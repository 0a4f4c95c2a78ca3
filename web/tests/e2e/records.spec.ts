import { expect, test } from '@playwright/test';
import { runModel, signInNewClinician, waitForOfflineReady } from './support';

test('a whole visit offline: register, record, report, share; it survives a reload', async ({
  page,
  context,
  baseURL,
}) => {
  const clinician = await signInNewClinician(page, baseURL!);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await waitForOfflineReady(page);

  await context.setOffline(true);
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('button', { name: 'New patient' }).click();
  await page.getByLabel('Given name').fill('Aminata');
  await page.getByLabel('Family name').fill('Traoré');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Date of birth').fill('1979-04-12');
  await page.getByLabel('Village').fill('Ségou');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: 'Aminata Traoré' })).toBeVisible();
  await expect(page.getByText('not backed up').first()).toBeVisible();
  // The list's in-memory search (loaded, empty, on the way in) has her at once.
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByLabel('Search patients').fill('amin seg');
  await page.getByRole('link', { name: /Aminata Traoré/ }).click();
  await expect(page.getByRole('heading', { name: 'Aminata Traoré' })).toBeVisible();

  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Thirst and tiredness');
  await page.getByLabel('Temperature (°C)').fill('39,4');
  await expect(page.getByText('High fever')).toBeVisible();
  await page.getByLabel('Weight (kg)').fill('81');
  await page.getByLabel('Height (cm)').fill('165');
  await page.getByLabel('Excessive thirst').check();
  await expect(page.getByText('Saved on this device')).toBeVisible();

  // The diabetes model, pre-filled from the visit; the clinician adds glucose and assesses.
  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Diabetes/ }).check();
  await expect(page.getByRole('textbox', { name: 'Age (years)', exact: true })).toHaveValue('47');
  await expect(page.getByRole('textbox', { name: /Body mass index/ })).toHaveValue('29.8');
  await page.getByRole('textbox', { name: /Plasma glucose/ }).fill('165');
  await runModel(page);
  await expect(page.getByRole('region', { name: 'Result' })).toContainText(/Computed without/);
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await expect(page.getByRole('heading', { name: 'Aminata Traoré' })).toBeVisible();
  await expect(page.getByRole('link', { name: /Diabetes.*clinician agrees/ })).toBeVisible();
  await expect(page.getByRole('link', { name: /Thirst and tiredness/ })).toBeVisible();

  await page.getByRole('button', { name: 'New report' }).click();
  await page.getByLabel('Summary').fill('Polydipsia and fever; suspect diabetes with infection.');
  await page.getByLabel('Plan').fill('Fasting glucose tomorrow; paracetamol.');
  await expect(page.getByText('Saved on this device')).toBeVisible();
  await page.getByRole('button', { name: 'Share report' }).click();
  await expect(page.getByText('it goes to your supervisor at the next sync')).toBeVisible();

  // Still offline: a reload brings everything back from IndexedDB.
  await page.reload();
  await expect(page.getByText('shared', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('link', { name: /Aminata Traoré/ })).toBeVisible();
  await page.getByLabel('Search patients').fill('nobody like this');
  await expect(page.getByText('No patient matches')).toBeVisible();
  await expect(page.getByRole('link', { name: /Aminata Traoré/ })).toHaveCount(0);
  await page.getByLabel('Search patients').fill('traore seg');
  await page.getByRole('link', { name: /Aminata Traoré/ }).click();
  await expect(page.getByRole('link', { name: /Thirst and tiredness/ })).toBeVisible();
  await expect(page.getByRole('link', { name: /Report/ })).toContainText('shared');

  await page.getByRole('link', { name: /Report/ }).click();
  await page.getByRole('button', { name: 'Print' }).click();
  const sheet = page.getByRole('article', { name: 'Printable report' });
  await expect(sheet).toContainText('Aminata Traoré');
  await expect(sheet).toContainText('Temperature: 39.4 °C');
  await expect(sheet).toContainText(/Diabetes.*model diabetes-risk v1\.0\.1/);
  await expect(sheet).toContainText("Clinician's assessment: agree");
  await expect(sheet).toContainText('Intended use');
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('button', { name: 'Print or save as PDF' })).toBeHidden();
  await page.screenshot({ path: test.info().outputPath('report-print.png'), fullPage: true });
  await context.setOffline(false);
});

test('bad input gets a clear message and loses nothing', async ({ page, baseURL }) => {
  await signInNewClinician(page, baseURL!);
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill('Oumar');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Family name is required')).toBeVisible();
  await expect(page.getByText(/give a date of birth or an estimated age/)).toBeVisible();
  await expect(page.getByLabel('Given name')).toHaveValue('Oumar');

  await page.getByLabel('Family name').fill('Keita');
  await page.getByLabel('Years').fill('30');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: 'Oumar Keita' })).toBeVisible();

  // A second registration of the same person is caught.
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill('oumar');
  await page.getByLabel('Family name').fill('KEITA');
  await page.getByLabel('Years').fill('30');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('A similar patient is already registered')).toBeVisible();

  // An implausible vital is flagged, kept as typed, and survives a reload.
  await page.goto('/patients');
  await page
    .getByRole('link', { name: /Oumar Keita/ })
    .first()
    .click();
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Temperature (°C)').fill('375');
  await expect(page.getByText('Temperature must be between 30 and 45 °C')).toBeVisible();
  await expect(page.getByText('Draft kept; fix the marked fields')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Temperature (°C)')).toHaveValue('375');
});
