import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  E2E_ADMIN,
  newMember,
  runModel,
  signInNewClinician,
  signInNewSupervisor,
  signInWithPin,
  waitForOfflineReady,
} from './support';

/**
 * axe-core on every role's main pages (clinician, supervisor, admin) in their main states (empty,
 * filled, validation error, offline, result shown), on a tablet and on a phone, and on a few pages
 * in French and Portuguese: no serious or critical violation. The app's strict CSP blocks axe's
 * injected script, so these contexts bypass it.
 */
const VIEWPORTS = {
  tablet: { width: 1024, height: 768 },
  phone: { width: 390, height: 844 },
};
/** A patient per run, unlike the other so neither is taken for a duplicate. */
const PEOPLE = {
  tablet: { given: 'Kofi', family: 'Mensah', years: '30' },
  phone: { given: 'Abena', family: 'Owusu', years: '62' },
};

async function expectNoSeriousViolations(page: Page, where: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${where}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  expect(serious).toEqual([]);
}

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  const person = PEOPLE[name as keyof typeof PEOPLE];
  test.describe(`on a ${name}`, () => {
    test.use({ viewport, bypassCSP: true });

    test('sign-in, home, patients, visit, diagnose with a result, report, settings', async ({
      page,
      baseURL,
    }) => {
      await page.goto('/signin');
      await expectNoSeriousViolations(page, 'sign-in');

      await signInNewClinician(page, baseURL!);
      await page.goto('/');
      await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
      await expectNoSeriousViolations(page, 'home');

      await page.goto('/patients/new');
      await page.getByLabel('Given name').fill(person.given);
      await page.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByText('Family name is required')).toBeVisible();
      await expectNoSeriousViolations(page, 'new patient, error shown');
      await page.getByLabel('Family name').fill(person.family);
      await page.getByLabel('Years', { exact: true }).fill(person.years);
      await page.getByRole('button', { name: 'Save' }).click();
      await expect(
        page.getByRole('heading', { name: `${person.given} ${person.family}` }),
      ).toBeVisible();
      await expectNoSeriousViolations(page, 'patient');

      await page.getByRole('button', { name: 'New encounter' }).click();
      await page.getByLabel('Temperature (°C)').fill('39.5');
      await expect(page.getByText('High fever')).toBeVisible();
      await expectNoSeriousViolations(page, 'visit');

      await page.getByRole('button', { name: 'Run a model' }).click();
      await page.getByRole('radio', { name: /Diabetes/ }).check();
      await page.getByRole('textbox', { name: /Plasma glucose/ }).fill('150');
      await page.getByRole('textbox', { name: /Body mass index/ }).fill('31');
      await runModel(page);
      await expect(page.getByRole('region', { name: 'Result' })).toContainText('Suggests');
      await expectNoSeriousViolations(page, 'diagnose with a result');

      await page.goto('/patients');
      await expectNoSeriousViolations(page, 'patients');
      await page.goto('/settings');
      await expectNoSeriousViolations(page, 'settings');
      await page.goto('/follow-ups');
      await expectNoSeriousViolations(page, 'follow-ups');
    });
  });
}

/**
 * A clinician's visit with a model result, saved and shared as a report, then synced: what a
 * supervisor's queue, review page and dashboard show. Returns the village it was recorded in.
 */
async function shareAReport(
  browser: Browser,
  baseURL: string,
  viewport: Viewport,
  person: { given: string; family: string },
) {
  const village = `Sikasso ${Date.now()}`;
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  await signInNewClinician(page, baseURL);
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill(person.given);
  await page.getByLabel('Family name').fill(person.family);
  await page.getByLabel('Years').fill('41');
  await page.getByLabel('Village').fill(village);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(
    page.getByRole('heading', { name: `${person.given} ${person.family}` }),
  ).toBeVisible();
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Thirst, tiredness');
  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Diabetes/ }).check();
  await page.getByRole('textbox', { name: /Plasma glucose/ }).fill('160');
  await page.getByRole('textbox', { name: /Body mass index/ }).fill('33');
  await runModel(page);
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await page.getByRole('button', { name: 'New report' }).click();
  await page.getByLabel('Summary').fill('Probable diabetes.');
  await expectNoSeriousViolations(page, 'report, filled');
  await page.getByRole('button', { name: 'Share report' }).click();
  await expect(page.getByText('it goes to your supervisor at the next sync')).toBeVisible();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByText(/Last backup: just now · 0 waiting/)).toBeVisible();
  await context.close();
  return village;
}

type Viewport = { width: number; height: number };

/** A shared case per run, unlike the other so neither is taken for a duplicate. */
const SHARED = {
  tablet: { given: 'Oumou', family: 'Sangaré' },
  phone: { given: 'Mariam', family: 'Dembélé' },
};

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  const person = SHARED[name as keyof typeof SHARED];
  const fullName = `${person.given} ${person.family}`;
  test.describe(`the supervisor's and the admin's pages on a ${name}`, () => {
    test.use({ viewport, bypassCSP: true });

    test('review queue (empty, filled), review page, dashboard', async ({
      page,
      browser,
      baseURL,
    }) => {
      test.setTimeout(180_000);
      const village = await shareAReport(browser, baseURL!, viewport, person);
      await signInNewSupervisor(page, baseURL!);
      await page.goto('/review');
      const filters = page.getByRole('form', { name: 'Filters' });
      await filters.getByLabel('Village').fill(`Nowhere ${Date.now()}`);
      await filters.getByLabel('Village').press('Enter');
      await expect(page.getByRole('link', { name: fullName })).toHaveCount(0);
      await expectNoSeriousViolations(page, 'review queue, empty');
      await filters.getByLabel('Village').fill(village);
      await filters.getByLabel('Village').press('Enter');
      await expect(page.getByRole('link', { name: fullName })).toHaveCount(1);
      await expectNoSeriousViolations(page, 'review queue, filled');

      await page.getByRole('link', { name: fullName }).click();
      await expect(page.getByRole('heading', { name: /Your review of revision/ })).toBeVisible();
      await expectNoSeriousViolations(page, 'review page');

      await page.goto('/dashboard');
      // An assertion (not waitForFunction) lets the PIN handler unlock the reloaded page.
      await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
      await page.waitForFunction(() => {
        const charts = [...document.querySelectorAll('[data-drawn]')];
        return charts.length > 0 && charts.every((c) => c.getAttribute('data-drawn') === 'true');
      });
      await expectNoSeriousViolations(page, 'dashboard');
    });

    test('users, a user with their devices, teams, invitations, models, audit log', async ({
      page,
      baseURL,
    }) => {
      // Someone in the list: whichever member this creates.
      const member = await newMember(page, baseURL!, 'clinician');
      await signInWithPin(page, E2E_ADMIN.email, E2E_ADMIN.password);
      await page.goto('/admin/users');
      await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
      await expectNoSeriousViolations(page, 'users');
      await page.getByRole('link', { name: `Devices and access of ${member.name}` }).click();
      await expect(page.getByRole('heading', { name: new RegExp(member.email) })).toBeVisible();
      await expectNoSeriousViolations(page, 'user devices');
      for (const [path, heading] of [
        ['/admin/teams', 'Teams'],
        ['/admin/invitations', 'Invitations'],
        ['/admin/models', 'Models'],
        ['/admin/audit', 'Audit log'],
      ]) {
        await page.goto(path!);
        await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
        await expectNoSeriousViolations(page, path!);
      }
    });

    test('offline: home, patients, a new patient', async ({ page, baseURL, context }) => {
      await signInNewClinician(page, baseURL!);
      await page.goto('/');
      await waitForOfflineReady(page);
      await context.setOffline(true);
      // The service worker serves the reload; the PIN opens the data offline.
      await page.goto('/patients');
      await expect(page.getByRole('heading', { name: 'Patients', level: 1 })).toBeVisible();
      await expect(page.getByText(/offline/i).first()).toBeVisible();
      await expectNoSeriousViolations(page, 'patients, offline');
      await page.getByRole('button', { name: 'New patient' }).click();
      await page.getByRole('button', { name: 'Save' }).click();
      await expectNoSeriousViolations(page, 'new patient, offline, errors shown');
      await context.setOffline(false);
    });
  });
}

/** French and Portuguese: the same pages in words of another length, and their own labels. */
for (const locale of ['fr-FR', 'pt-BR']) {
  test.describe(`in ${locale}, on a tablet`, () => {
    test.use({ viewport: VIEWPORTS.tablet, bypassCSP: true, locale });

    test('sign-in, home, patients, a new patient with errors, diagnose with a result', async ({
      page,
      baseURL,
    }) => {
      await page.goto('/signin');
      await expect(page.locator('html')).toHaveAttribute('lang', locale.slice(0, 2));
      await expectNoSeriousViolations(page, `${locale} sign-in`);
      await signInNewClinician(page, baseURL!);
      await page.goto('/');
      await expectNoSeriousViolations(page, `${locale} home`);
      await page.goto('/patients');
      await expectNoSeriousViolations(page, `${locale} patients`);
      await page.goto('/patients/new');
      await page.locator('form button[type="submit"]').click();
      await expect(page.locator('[aria-invalid="true"]').first()).toBeVisible();
      await expectNoSeriousViolations(page, `${locale} new patient, errors shown`);
      await page.goto('/diagnose');
      await page.locator('input[type="radio"][value="diabetes-risk"]').check();
      await page.locator('input[name="glucose"]').fill('150');
      await page.locator('input[name="bmi"]').fill('31');
      await page.locator('input[name="age"]').fill('45');
      await page.locator('main .actions button').first().click();
      await expect(page.locator('main section.result')).toBeVisible({ timeout: 30_000 });
      await expectNoSeriousViolations(page, `${locale} diagnose with a result`);
    });
  });
}
