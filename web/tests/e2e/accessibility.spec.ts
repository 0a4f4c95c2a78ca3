import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { runModel, signInNewClinician } from './support';

/**
 * axe-core on the clinician's main pages, on a tablet and on a phone: no serious or critical
 * violation. The app's strict CSP blocks axe's injected script, so these contexts bypass it.
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
