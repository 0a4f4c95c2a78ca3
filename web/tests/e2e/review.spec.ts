import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runModel, signInNewClinician, signInNewSupervisor, waitForOfflineReady } from './support';

const xray = fileURLToPath(new URL('../fixtures/cxr-val-0-pneumonia-x4.png', import.meta.url));

async function syncNow(page: Page) {
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByText(/Last backup: just now · 0 waiting/)).toBeVisible();
}

const isoDay = (offsetDays: number) =>
  new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

test('the review loop: share offline, return with a verdict, correct, approve, follow up, monitor, export', async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(180_000);
  // A village no other spec uses: the queue filter finds this report alone.
  const village = `Kolondiéba ${Date.now()}`;

  // --- Clinician, offline: a visit with an X-ray read by the pneumonia model, shared.
  const tabletContext = await browser.newContext();
  const tablet = await tabletContext.newPage();
  await signInNewClinician(tablet, baseURL!);
  await tablet.goto('/');
  await waitForOfflineReady(tablet);
  await tabletContext.setOffline(true);
  await tablet.getByRole('link', { name: 'Patients' }).click();
  await tablet.getByRole('button', { name: 'New patient' }).click();
  await tablet.getByLabel('Given name').fill('Bakary');
  await tablet.getByLabel('Family name').fill('Sanogo');
  await tablet.getByLabel('Sex').selectOption('male');
  await tablet.getByLabel('Years').fill('6');
  await tablet.getByLabel('Village').fill(village);
  await tablet.getByRole('button', { name: 'Save' }).click();
  await expect(tablet.getByRole('heading', { name: 'Bakary Sanogo' })).toBeVisible();
  await tablet.getByRole('button', { name: 'New encounter' }).click();
  await tablet.getByLabel('Chief complaint').fill('Cough, fast breathing');
  await tablet.getByLabel('Temperature (°C)').fill('39.6');
  await expect(tablet.getByText('Saved on this device')).toBeVisible();
  await tablet.getByRole('button', { name: 'Run a model' }).click();
  await tablet.getByRole('radio', { name: /Pneumonia/ }).check();
  await tablet.getByLabel('Choose image file').setInputFiles(xray);
  await runModel(tablet);
  await expect(tablet.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  const save = tablet.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await tablet.getByRole('button', { name: 'New report' }).click();
  await tablet.getByLabel('Summary').fill('Probable pneumonia.');
  await tablet.getByRole('button', { name: 'Share report' }).click();
  await expect(tablet.getByText('it goes to your supervisor at the next sync')).toBeVisible();
  const reportUrl = tablet.url();
  const reportId = reportUrl.split('/reports/')[1]!;
  await tabletContext.setOffline(false);
  await syncNow(tablet);

  // --- Supervisor: the dashboard before, then the queue filtered down to this report.
  const deskContext = await browser.newContext({ acceptDownloads: true });
  const desk = await deskContext.newPage();
  await signInNewSupervisor(desk, baseURL!);
  await desk.goto('/');
  await desk.getByRole('link', { name: 'Dashboard' }).click();
  const pneumoniaRow = desk
    .getByRole('table', { name: 'Model monitoring' })
    .getByRole('row', { name: /pneumonia-cxr/ });
  await expect(pneumoniaRow).toBeVisible();
  const accuracyBefore = await pneumoniaRow.getByRole('cell').nth(5).textContent();

  await desk.getByRole('link', { name: 'Review' }).click();
  const filters = desk.getByRole('form', { name: 'Filters' });
  await filters.getByLabel('Village').fill(village);
  await filters.getByLabel('Village').press('Enter');
  await filters.getByLabel('Model').selectOption('pneumonia-cxr');
  await filters.getByLabel('Finding').selectOption('positive');
  await expect(desk.getByRole('link', { name: 'Bakary Sanogo' })).toHaveCount(1);
  await expect(desk.getByRole('button', { name: /awaiting review \(1\)/ })).toBeVisible();
  // Keyboard: j selects the first report, r opens it to return, the Comment box focused.
  await desk.getByRole('heading', { name: 'Review', exact: true }).click();
  await desk.keyboard.press('j');
  await expect(desk.getByRole('link', { name: 'Bakary Sanogo' })).toBeFocused();
  await desk.keyboard.press('r');
  await expect(desk.getByRole('heading', { name: 'Report: Bakary Sanogo' })).toBeVisible();
  await expect(desk.getByRole('textbox', { name: 'Comment' })).toBeFocused();
  await expect(desk.getByText('High fever')).toBeVisible();
  await expect(desk.getByRole('img', { name: 'Model input as captured' })).toBeVisible();
  await expect(desk.getByRole('img', { name: /Occlusion heatmap/ })).toBeVisible();
  await desk.getByRole('radio', { name: 'right', exact: true }).check();
  await desk.getByLabel('Reference outcome').fill('pneumonia confirmed by radiologist');
  // Return needs a comment: refused without one.
  await desk.getByRole('button', { name: 'Return' }).click();
  await expect(desk.getByRole('alert')).toContainText('what to correct');
  await desk.getByLabel('Comment').fill('Add the SpO2 reading to the summary.');
  await desk.getByRole('button', { name: 'Return' }).click();
  await expect(desk.getByText('Returned to the clinician.')).toBeVisible();
  await expect(desk.locator('.heading .badge').first()).toHaveText('returned');

  // --- Clinician: the badge and the comment after a sync; correct and share again.
  await syncNow(tablet);
  await expect(tablet.getByRole('link', { name: /Follow-ups 1/ })).toBeVisible();
  await tablet.goto('/');
  await tablet.getByRole('link', { name: 'Report: Bakary Sanogo' }).click();
  await expect(tablet.getByText('returned', { exact: true }).first()).toBeVisible();
  await expect(tablet.getByText('Add the SpO2 reading to the summary.').first()).toBeVisible();
  await tablet.getByLabel('Summary').fill('Probable pneumonia. SpO2 91 % on air.');
  await expect(tablet.getByText('Saved on this device')).toBeVisible();
  await tablet.getByRole('button', { name: 'Share report' }).click();
  await expect(tablet.getByText('awaiting review', { exact: true })).toBeVisible();
  await syncNow(tablet);
  await expect(tablet.getByRole('link', { name: /Follow-ups 1/ })).toHaveCount(0);

  // --- Supervisor: the diff against the returned revision; approve; ask for a follow-up.
  await desk.reload();
  await expect(
    desk.getByRole('heading', { name: 'Changed since revision 1 (returned)' }),
  ).toBeVisible();
  await expect(
    desk.getByRole('cell', { name: 'Probable pneumonia. SpO2 91 % on air.' }),
  ).toBeVisible();
  await expect(desk.getByText('of revision 1 (an earlier one)')).toBeVisible();
  await desk.screenshot({ path: test.info().outputPath('review-page.png'), fullPage: true });
  await desk.getByRole('button', { name: 'Approve' }).click();
  await expect(desk.getByText('Approved.')).toBeVisible();
  await expect(desk.locator('.heading .badge').first()).toHaveText('approved');
  await desk.getByLabel('Follow-up reason').fill('Recheck the chest in three days');
  await desk.getByLabel('Due date').fill(isoDay(3));
  await desk.getByRole('button', { name: 'Request follow-up' }).click();
  await expect(desk.getByText('Follow-up requested.')).toBeVisible();
  await expect(desk.getByText(/Recheck the chest in three days — due .* · open/)).toBeVisible();

  // --- Clinician: the follow-up; a visit closes it.
  await syncNow(tablet);
  await tablet.getByRole('link', { name: /Follow-ups/ }).click();
  const task = tablet.getByRole('listitem', { name: 'Follow-up of Bakary Sanogo' });
  await expect(task).toContainText('Recheck the chest in three days');
  // The visit before the request does not close it; a new one does.
  await expect(task.getByRole('button', { name: 'Mark done' })).toHaveCount(0);
  await task.getByRole('button', { name: 'New encounter' }).click();
  await tablet.getByLabel('Chief complaint').fill('Follow-up: breathing easier');
  await expect(tablet.getByText('Saved on this device')).toBeVisible();
  await tablet.getByRole('link', { name: /Follow-ups/ }).click();
  await task.getByRole('button', { name: 'Mark done' }).click();
  await expect(tablet.getByText('No open follow-ups.')).toBeVisible();
  await syncNow(tablet);
  await desk.reload();
  await expect(desk.getByText(/Recheck the chest in three days — due .* · done/)).toBeVisible();

  // --- Dashboard: the verdict counts in the model's field accuracy.
  await desk.getByRole('link', { name: 'Dashboard' }).click();
  await expect(pneumoniaRow.getByRole('cell').nth(5)).not.toHaveText(accuracyBefore ?? '');
  await expect(pneumoniaRow.getByRole('cell').nth(4)).toContainText(/[1-9]\d* \/ /);
  // Every chart drawn (chart.js under the strict CSP): 4 charts plus one per model.
  await expect(desk.locator('[data-drawn="true"]').nth(4)).toBeVisible();
  await expect(desk.locator('[data-drawn="false"]')).toHaveCount(0);
  await desk.screenshot({ path: test.info().outputPath('dashboard.png'), fullPage: true });

  // --- Exports of the filtered queue contain the report.
  await desk.getByRole('link', { name: 'Review' }).click();
  await filters.getByLabel('Village').fill(village);
  await filters.getByLabel('Village').press('Enter');
  await expect(desk.getByRole('link', { name: 'Bakary Sanogo' })).toHaveCount(1);
  const [csv] = await Promise.all([
    desk.waitForEvent('download'),
    desk.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const csvText = readFileSync(await csv.path(), 'utf8');
  // The export counted its reports as they came (issue 16: progress and what is left).
  await expect(desk.getByRole('status').filter({ hasText: 'Exported 1 report:' })).toBeVisible();
  expect(csvText).toContain(reportId);
  expect(csvText).toContain('Sanogo');
  const [fhir] = await Promise.all([
    desk.waitForEvent('download'),
    desk.getByRole('button', { name: 'Export FHIR' }).click(),
  ]);
  const bundle = JSON.parse(readFileSync(await fhir.path(), 'utf8')) as {
    resourceType: string;
    entry: { resource: { resourceType: string } }[];
  };
  expect(bundle.resourceType).toBe('Bundle');
  expect(JSON.stringify(bundle)).toContain(reportId);
  expect(bundle.entry.map((e) => e.resource.resourceType)).toEqual(
    expect.arrayContaining(['Patient', 'Encounter', 'DiagnosticReport', 'RiskAssessment']),
  );

  await tabletContext.close();
  await deskContext.close();
});

test('a supervisor approving from the queue with no connection loses nothing: it waits, then is sent', async ({
  browser,
  baseURL,
}) => {
  const village = `Diéma ${Date.now()}`;
  const tabletContext = await browser.newContext();
  const tablet = await tabletContext.newPage();
  await signInNewClinician(tablet, baseURL!);
  await tablet.goto('/patients/new');
  await tablet.getByLabel('Given name').fill('Mariam');
  await tablet.getByLabel('Family name').fill('Dembélé');
  await tablet.getByLabel('Years').fill('30');
  await tablet.getByLabel('Village').fill(village);
  await tablet.getByRole('button', { name: 'Save' }).click();
  await tablet.getByRole('button', { name: 'New report' }).click();
  await tablet.getByLabel('Summary').fill('Headache for three days.');
  await tablet.getByRole('button', { name: 'Share report' }).click();
  await syncNow(tablet);

  const deskContext = await browser.newContext();
  const desk = await deskContext.newPage();
  await signInNewSupervisor(desk, baseURL!);
  await desk.goto(`/review?village=${encodeURIComponent(village)}`);
  await expect(desk.getByRole('link', { name: 'Mariam Dembélé' })).toBeVisible();
  await deskContext.setOffline(true);
  await desk.getByRole('heading', { name: 'Review', exact: true }).click();
  await desk.keyboard.press('j');
  await desk.keyboard.press('a');
  const row = desk.getByRole('row', { name: /Mariam Dembélé/ });
  await expect(row).toContainText('approved');
  await expect(row).toContainText('waiting to send');
  // The connection returns: the waiting review goes with the sync that starts then.
  await deskContext.setOffline(false);
  await expect(row).not.toContainText('waiting to send');
  await desk.goto(`/review?village=${encodeURIComponent(village)}`);
  await expect(row).toContainText('approved');
  await expect(desk.getByRole('button', { name: /approved \(1\)/ })).toBeVisible();
  await tabletContext.close();
  await deskContext.close();
});
