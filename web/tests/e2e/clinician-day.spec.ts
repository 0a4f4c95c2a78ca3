import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  E2E_ADMIN,
  runModel,
  signInNewClinician,
  signInWithPin,
  waitForOfflineReady,
} from './support';

// The traps of a clinician's day (issue 12), each walked through as a clinician would.
const TABLET = { width: 800, height: 1280 };
const PHONE = { width: 390, height: 844 };

test.use({ viewport: TABLET });

let counter = 0;

const built = (path: string) =>
  JSON.parse(readFileSync(new URL(`../../build/models/${path}`, import.meta.url), 'utf8'));
const tabularModel = (
  built('index.json') as { name: string; modality: string; path: string }[]
).find((e) => e.modality === 'tabular')!;
const tabularFields: {
  label: string;
  unit: string;
  min: number;
  max: number;
  required: boolean;
}[] = built(tabularModel.path).input.tabular.fields;

/** Chooses the form model and runs it with every required field at mid-range. */
async function runFormModel(page: Page) {
  await page.getByRole('radio', { name: tabularModel.name }).check();
  for (const field of tabularFields.filter((f) => f.required)) {
    const name = field.unit ? `${field.label} (${field.unit})` : field.label;
    await page
      .getByRole('textbox', { name, exact: true })
      .fill(String(Math.round((field.min + field.max) / 2)));
  }
  await runModel(page);
  await expect(page.getByRole('region', { name: 'Result' })).toContainText('Suggests');
}

/** Registers a patient through the form and leaves the page on the patient's record. */
async function registerPatient(page: Page, given: string, family: string, years = '40') {
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Sex').selectOption('male');
  await page.getByLabel('Years').fill(years);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `${given} ${family}` })).toBeVisible();
}

const uniqueFamily = (base: string) =>
  `${base}${String.fromCharCode(97 + (counter++ % 26))}${Date.now() % 100000}`;

test('an invalid vital does not hold back the rest of the visit (trap 2)', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const family = uniqueFamily('Otieno');
  // A 2-year-old: fast breathing is ≥ 40 at this age.
  await registerPatient(page, 'Baraka', family, '2');
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Headache');
  await page.getByLabel('Respiratory rate (breaths/min)').fill('48');
  await expect(page.getByText('Fast breathing for age (≥ 40)')).toBeVisible();
  await page.getByLabel('Temperature (°C)').fill('80');
  await expect(page.getByText('Temperature must be between 30 and 45 °C')).toBeVisible();
  // The age-based warning of the valid value stays while another value is wrong.
  await expect(page.getByText('Fast breathing for age (≥ 40)')).toBeVisible();
  await expect(page.getByLabel('Temperature (°C)')).toHaveAttribute('aria-invalid', 'true');
  const status = page.getByRole('status').filter({ hasText: /fix the marked fields/ });
  await expect(status).toBeVisible();
  await expect(page.getByText('Saved on this device', { exact: true })).toHaveCount(0);

  // Leave the visit: the complaint and the valid vital are in the record and wait for sync.
  await page.goBack();
  await expect(page.getByRole('heading', { name: `Baraka ${family}` })).toBeVisible();
  await expect(page.getByRole('link', { name: /Headache/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Sync status' })).not.toContainText('0 waiting');

  // Reopened: the wrong value is still there as typed and marked, and the header does not say saved.
  await page.getByRole('link', { name: /Headache/ }).click();
  await expect(page.getByLabel('Temperature (°C)')).toHaveValue('80');
  await expect(page.getByLabel('Respiratory rate (breaths/min)')).toHaveValue('48');
  await expect(page.getByText('Temperature must be between 30 and 45 °C')).toBeVisible();
  await expect(status).toBeVisible();
  await expect(page.getByText('Saved on this device', { exact: true })).toHaveCount(0);

  // Fixed: now everything is saved.
  await page.getByLabel('Temperature (°C)').fill('38');
  await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
  await expect(page.locator('#temperatureC-note')).toHaveText('Fever');
});

test('one assessment, in one place, always saved with the result (trap 1)', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const family = uniqueFamily('Kamau');
  await registerPatient(page, 'Joseph', family, '65');
  await page.getByRole('button', { name: 'Diagnose' }).click();
  await runFormModel(page);
  await expect(page.getByRole('group', { name: /assessment/i })).toHaveCount(1);
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Disagree', { exact: true }).check();
  await save.getByLabel('Assessment note').fill('Glucose was post-prandial');
  await save.getByRole('button', { name: 'Save result' }).click();
  await expect(page.getByRole('heading', { name: `Joseph ${family}` })).toBeVisible();
  await page.getByRole('link', { name: /clinician disagrees/ }).click();
  await expect(page.getByRole('main')).toContainText('Glucose was post-prandial');

  // Without a patient nothing would save an assessment: none is offered, and the page says why.
  await page.goto('/diagnose');
  await runFormModel(page);
  await expect(page.getByRole('group', { name: /assessment/i })).toHaveCount(0);
  await expect(page.getByRole('radio', { name: /agree/i })).toHaveCount(0);
  await expect(page.getByRole('note').filter({ hasText: 'This result is not kept' })).toBeVisible();
});

test('sync follows edits and the connection; offline is a state, not a failure (trap 4)', async ({
  page,
  context,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  await page.goto('/');
  const bar = page.getByRole('region', { name: 'Sync status' });
  await expect(bar).toContainText('0 waiting');
  await waitForOfflineReady(page);

  // An edit made online leaves the device within seconds, not at the next periodic sync.
  const family = uniqueFamily('Wanjiru');
  await registerPatient(page, 'Grace', family);
  await expect(bar).toContainText('0 waiting', { timeout: 8_000 });
  await expect(page.getByText('not backed up')).toHaveCount(0, { timeout: 8_000 });

  // Offline: said at once, as a state; an edit waits without a red failure.
  await context.setOffline(true);
  const banner = page.getByRole('banner');
  await expect(banner.getByText('Offline', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Cough for two weeks');
  await expect(bar).toContainText('1 waiting');
  await expect(bar).toContainText('Offline');
  await page.waitForTimeout(3_000); // past the push delay: the push must not turn into a failure
  await expect(bar.getByRole('alert')).toHaveCount(0);
  await expect(page.getByText(/Sync failed/)).toHaveCount(0);

  // Back online: the header and the bar follow within seconds, without a reload.
  await context.setOffline(false);
  await expect(banner.getByText('Offline', { exact: true })).toHaveCount(0, { timeout: 8_000 });
  await expect(bar).toContainText('0 waiting', { timeout: 8_000 });
});

for (const [device, viewport] of [
  ['tablet', TABLET],
  ['phone', PHONE],
] as const) {
  test(`stray taps leave no records; a visit and a draft report can be deleted and restored (trap 5, ${device})`, async ({
    page,
    baseURL,
  }) => {
    await page.setViewportSize(viewport);
    await signInNewClinician(page, baseURL!);
    const family = uniqueFamily('Achieng');
    await registerPatient(page, 'Mercy', family);
    const timeline = page.getByRole('list', { name: 'Timeline' });

    // New encounter, New report, then back with nothing typed: nothing stays.
    await page.getByRole('button', { name: 'New encounter' }).click();
    await expect(page.getByLabel('Chief complaint')).toBeVisible();
    await page.goBack();
    await page.getByRole('button', { name: 'New report' }).click();
    await expect(page.getByLabel('Summary')).toBeVisible();
    await page.goBack();
    await expect(page.getByRole('heading', { name: `Mercy ${family}` })).toBeVisible();
    await expect(timeline).toContainText('Nothing recorded yet');
    await expect(timeline.getByRole('link')).toHaveCount(0);

    // A real visit, deleted, restored with Undo, deleted again.
    await page.getByRole('button', { name: 'New encounter' }).click();
    await page.getByLabel('Chief complaint').fill('Abdominal pain');
    await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Delete visit' }).click();
    await expect(
      page.getByRole('status').filter({ hasText: 'This visit was deleted' }),
    ).toBeVisible();
    await page.getByRole('button', { name: 'Undo delete' }).click();
    await expect(page.getByLabel('Chief complaint')).toHaveValue('Abdominal pain');
    await page.getByRole('button', { name: 'Delete visit' }).click();
    await page.getByRole('link', { name: 'Back to patient' }).click();
    await expect(timeline.getByRole('link', { name: /Abdominal pain/ })).toHaveCount(0);

    // A draft report with text, deleted and restored.
    await page.getByRole('button', { name: 'New report' }).click();
    await page.getByLabel('Summary').fill('Follow up in a week.');
    await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Delete draft' }).click();
    await expect(
      page.getByRole('status').filter({ hasText: 'This report draft was deleted' }),
    ).toBeVisible();
    await page.getByRole('button', { name: 'Undo delete' }).click();
    await expect(page.getByLabel('Summary')).toHaveValue('Follow up in a week.');
    await page.getByRole('button', { name: 'Back to patient' }).click();
    await expect(timeline.getByRole('link', { name: /Report/ })).toContainText(
      'Follow up in a week.',
    );
  });
}

test('half-entered work is kept or asked about before leaving (trap 6)', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const family = uniqueFamily('Njoroge');

  // A half-filled New patient form survives the back button.
  await page.goto('/patients');
  await page.getByRole('button', { name: 'New patient' }).click();
  await page.getByLabel('Given name').fill('Peter');
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Village').fill('Nyeri');
  await page.goBack();
  await expect(page.getByRole('button', { name: 'New patient' })).toBeVisible();
  await page.getByRole('button', { name: 'New patient' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: 'What you typed earlier' }),
  ).toBeVisible();
  await expect(page.getByLabel('Given name')).toHaveValue('Peter');
  await expect(page.getByLabel('Family name')).toHaveValue(family);
  await expect(page.getByLabel('Village')).toHaveValue('Nyeri');
  await page.getByLabel('Years').fill('52');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `Peter ${family}` })).toBeVisible();
  // Saved: the next New patient form starts empty.
  await page.goto('/patients/new');
  await expect(page.getByLabel('Given name')).toHaveValue('');
  await expect(page.getByText('What you typed earlier')).toHaveCount(0);

  // An unsaved model result: leaving asks first; staying keeps it.
  await page.goto('/patients');
  await page.getByLabel('Search patients').fill(family);
  await page.getByRole('link', { name: new RegExp(family) }).click();
  await page.getByRole('button', { name: 'Diagnose' }).click();
  await runFormModel(page);
  const messages: string[] = [];
  page.once('dialog', (dialog) => {
    messages.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goBack();
  await expect
    .poll(() => messages)
    .toEqual(['This model result is not saved to the record. Leave and discard it?']);
  await expect(page.getByRole('region', { name: 'Result' })).toBeVisible();
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible();
});

for (const [device, viewport] of [
  ['tablet', TABLET],
  ['phone', PHONE],
] as const) {
  test(`a second registration of the same person is caught by name, sex and age (trap 7, ${device})`, async ({
    page,
    baseURL,
  }) => {
    await page.setViewportSize(viewport);
    await signInNewClinician(page, baseURL!);
    const family = uniqueFamily('Kamau');
    await page.goto('/patients/new');
    await page.getByLabel('Given name').fill('Joseph');
    await page.getByLabel('Family name').fill(family);
    await page.getByLabel('Sex').selectOption('male');
    await page.getByLabel('Years').fill('65');
    await page.getByLabel('Village').fill('Nyeri');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('heading', { name: `Joseph ${family}` })).toBeVisible();

    // The same man, about 63, no village, names the other way round and an accent.
    await page.goto('/patients/new');
    await page.getByLabel('Given name').fill(family);
    await page.getByLabel('Family name').fill('Josèph');
    await page.getByLabel('Sex').selectOption('male');
    await page.getByLabel('Years').fill('63');
    await page.getByRole('button', { name: 'Save' }).click();
    const warning = page
      .getByRole('alert')
      .filter({ hasText: 'A similar patient is already registered' });
    await expect(warning).toBeVisible();
    await expect(warning.getByRole('link', { name: `Joseph ${family}` })).toBeVisible();
    await expect(warning).toContainText('Nyeri');
    await expect(warning).toContainText('the other way round');
    await expect(page.getByRole('button', { name: 'Save' })).toBeDisabled();

    // A woman of the same name is another person: no warning.
    await page.getByLabel('Given name').fill('Joseph');
    await page.getByLabel('Family name').fill(family);
    await page.getByLabel('Sex').selectOption('female');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('heading', { name: `Joseph ${family}` })).toBeVisible();
  });
}

test('every message a person reads is a sentence for that person (trap 10)', async ({
  page,
  baseURL,
}) => {
  // The form's own check (zod, on the device).
  await page.goto('/signup');
  await page.getByLabel('Name').fill('Amina');
  await page.getByLabel('Email').fill('amina-at-example');
  await page.getByLabel('Password', { exact: true }).fill('a long field password');
  await page.getByRole('button', { name: /Create account|Sign up/ }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'The email address must be a valid email address.',
  );

  // The server's check, through the admin's invitation form.
  await signInNewClinician(page, baseURL!);
  // Another user on this tablet signs in with the password: it opens (or makes) their data key.
  await signInWithPin(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.goto('/admin/invitations');
  await page.getByLabel('Valid for (days)').fill('');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'The number of days the invitation is valid must be a number.',
  );

  // The patient form.
  await page.request.post('/api/auth/logout', { headers: { Origin: baseURL! } });
  await signInNewClinician(page, baseURL!);
  await page.goto('/patients/new');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Given name is required.')).toBeVisible();
  await expect(page.getByText('Please give a date of birth or an estimated age.')).toBeVisible();
  await expect(page.getByText(/Date of birth give/)).toHaveCount(0);
});

const xray = fileURLToPath(new URL('../fixtures/cxr-val-0-pneumonia-x4.png', import.meta.url));

test('saved records are whole: image and heatmap, results of a visit, danger signs, assessments (trap 8)', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const family = uniqueFamily('Mutua');
  await registerPatient(page, 'Daniel', family, '3');
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Fast breathing');
  await page.getByLabel('Unable to drink or feed').check();
  await expect(page.getByRole('alert')).toHaveText(
    'Danger sign: unable to drink or feed. Treat or refer urgently.',
  );
  await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();

  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Pneumonia/ }).check();
  await page.getByLabel('Choose image file').setInputFiles(xray);
  await runModel(page);
  await expect(page.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Unsure', { exact: true }).check();
  await save.getByLabel('Assessment note').fill('Film is rotated');
  await save.getByRole('button', { name: 'Save result' }).click();

  // The timeline marks the visit's danger sign.
  const visit = page.getByRole('link', { name: /Fast breathing/ });
  await expect(visit).toContainText('danger sign: unable to drink or feed');

  // The saved result shows what the model saw and why.
  await page.getByRole('link', { name: /Pneumonia.*clinician is unsure/ }).click();
  const image = page.getByRole('img', { name: 'As captured' });
  await expect(image).toBeVisible();
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(112);
  await expect(page.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();

  // The visit lists its result.
  await page.goBack();
  await visit.click();
  const results = page.getByRole('region', { name: 'Model results of this visit' });
  await expect(results.getByRole('link', { name: /Pneumonia.*clinician is unsure/ })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('Danger sign');

  // The report shows the danger sign and each result with its assessment.
  await page.goBack();
  await page.getByRole('button', { name: 'New report' }).click();
  await expect(page.getByRole('alert')).toContainText('Danger sign: unable to drink or feed');
  await expect(page.getByRole('group', { name: 'Model results' })).toContainText(
    'clinician is unsure (Film is rotated)',
  );
});

test('print: no sync bar, abnormal vitals marked, field labels, one threshold, captions level (trap 9)', async ({
  page,
  baseURL,
}) => {
  await signInNewClinician(page, baseURL!);
  const family = uniqueFamily('Chebet');
  await registerPatient(page, 'Ruth', family, '50');
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Thirst');
  await page.getByLabel('Temperature (°C)').fill('39.4');
  await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Run a model' }).click();
  await runFormModel(page);
  // The threshold as the result shows it on screen.
  const onScreen = (await page.getByRole('region', { name: 'Result' }).innerText()).match(
    /threshold\s+of\s+([\d.]+ %)/,
  )![1]!;
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await page.getByRole('link', { name: /Thirst/ }).click();
  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Pneumonia/ }).check();
  await page.getByLabel('Choose image file').setInputFiles(xray);
  await runModel(page);
  await expect(page.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await page.getByRole('button', { name: 'New report' }).click();
  await page.getByLabel('Summary').fill('Fever and thirst.');
  await page.getByRole('button', { name: 'Print' }).click();

  const sheet = page.getByRole('article', { name: 'Printable report' });
  await expect(sheet).toContainText('Temperature: 39.4 °C (▲ High fever)');
  await expect(sheet).toContainText('Diastolic blood pressure');
  await expect(sheet).not.toContainText('diastolic_bp');
  await expect(sheet).toContainText(`threshold of ${onScreen}`);
  const image = sheet.getByRole('img', { name: 'As captured' });
  await expect(image).toBeVisible();

  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('region', { name: 'Sync status' })).toBeHidden();
  await expect(page.getByRole('banner')).toBeHidden();
  // The original image is as large as the heatmap beside it, its caption under it at the same level.
  const box = (await image.boundingBox())!;
  const heatmap = (await sheet.getByRole('img', { name: /Occlusion heatmap/ }).boundingBox())!;
  const caption = (await sheet.getByText('Original image', { exact: true }).boundingBox())!;
  expect(Math.abs(box.width - heatmap.width)).toBeLessThan(2);
  expect(caption.y).toBeGreaterThanOrEqual(box.y + box.height - 1);
  expect(caption.y - (box.y + box.height)).toBeLessThan(30);
});

for (const [device, viewport] of [
  ['tablet', TABLET],
  ['phone', PHONE],
] as const) {
  test(`home is the day's worklist (trap 11, ${device})`, async ({ page, context, baseURL }) => {
    await page.setViewportSize(viewport);
    await signInNewClinician(page, baseURL!);
    await page.goto('/');
    await expect(page.getByRole('region', { name: "Today's visits" })).toContainText(
      'No visit today',
    );
    await waitForOfflineReady(page);
    await context.setOffline(true);

    const family = uniqueFamily('Odhiambo');
    await registerPatient(page, 'Lilian', family, '30');
    await page.getByRole('button', { name: 'New encounter' }).click();
    await page.getByLabel('Chief complaint').fill('Convulsions at night');
    await page.getByLabel('Convulsions').check();
    await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Run a model' }).click();
    await runFormModel(page);
    await page
      .getByRole('form', { name: "Save to the patient's record" })
      .getByRole('button', { name: 'Save result' })
      .click();
    await page.getByRole('button', { name: 'New report' }).click();
    await page.getByLabel('Summary').fill(`Seizure, referred: ${family}.`);
    await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();

    await page.getByRole('link', { name: 'FieldDx' }).click();
    const visits = page.getByRole('region', { name: "Today's visits" });
    await expect(visits.getByRole('link', { name: new RegExp(`Lilian ${family}`) })).toContainText(
      'danger sign',
    );
    await expect(
      page
        .getByRole('region', { name: 'Results awaiting your assessment' })
        .getByRole('link', { name: new RegExp(`Lilian ${family}`) }),
    ).toBeVisible();
    const drafts = page.getByRole('region', { name: 'Draft reports not shared' });
    await expect(
      drafts.getByRole('link', { name: new RegExp(`Seizure, referred: ${family}`) }),
    ).toBeVisible();
    await expect(page.getByRole('region', { name: 'Backup' })).toContainText(
      'Not backed up yet: 1 patient, 1 visit, 1 model result, 1 report',
    );
    // Each entry leads to the record to finish.
    await drafts.getByRole('link', { name: new RegExp(`Seizure, referred: ${family}`) }).click();
    await expect(page.getByLabel('Summary')).toHaveValue(`Seizure, referred: ${family}.`);

    await context.setOffline(false);
    await page.getByRole('link', { name: 'FieldDx' }).click();
    await expect(page.getByRole('region', { name: 'Backup' })).toContainText(
      'Everything on this device is backed up',
      { timeout: 10_000 },
    );
  });
}

test('sign out warns about unsynced work; the last user signs in again offline (trap 3)', async ({
  page,
  context,
  baseURL,
}) => {
  const clinician = await signInNewClinician(page, baseURL!);
  await page.goto('/');
  // Online with nothing waiting: no question.
  await expect(page.getByRole('region', { name: 'Sync status' })).toContainText('0 waiting');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').fill(clinician.email);
  await page.getByLabel('Password').fill(clinician.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await waitForOfflineReady(page);

  await context.setOffline(true);
  const family = uniqueFamily('Kiprop');
  await page.getByRole('link', { name: 'Patients' }).click();
  await page.getByRole('button', { name: 'New patient' }).click();
  await page.getByLabel('Given name').fill('Faith');
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Years').fill('25');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `Faith ${family}` })).toBeVisible();

  // Sign out asks first; saying no keeps the clinician in.
  const messages: string[] = [];
  page.once('dialog', (dialog) => {
    messages.push(dialog.message());
    void dialog.dismiss();
  });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => messages.length).toBe(1);
  expect(messages[0]).toContain('1 edit is not backed up yet');
  expect(messages[0]).toContain('You are offline');
  await expect(page.getByRole('heading', { name: `Faith ${family}` })).toBeVisible();

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();

  // Offline, a wrong password is refused; the right one lets the last user back in.
  await page.getByLabel('Email').fill(clinician.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('only the last person who signed in');
  await page.getByLabel('Password').fill(clinician.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await expect(page.getByRole('banner').getByText('Offline', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('link', { name: new RegExp(`Faith ${family}`) })).toBeVisible();

  // Back online, the edit made before signing out reaches the server.
  await context.setOffline(false);
  await expect(page.getByRole('region', { name: 'Sync status' })).toContainText('0 waiting', {
    timeout: 15_000,
  });
});
