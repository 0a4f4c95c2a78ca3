import { expect, test, type Page } from '@playwright/test';
import { E2E_ADMIN, E2E_TEAM, unlockWhenAsked } from './support';

// One server with an empty data folder per run: these steps build on each other, in order.
test.describe.configure({ mode: 'serial' });

const admin = E2E_ADMIN;
const clinician = {
  name: 'Chidi Clinician',
  email: 'chidi@example.org',
  password: 'field tablet 2026',
};
let invitationCode = '';

async function signUp(page: Page, who: typeof admin, code?: string) {
  await page.goto('/signup');
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  if (code) await page.getByLabel('Invitation code').fill(code);
  unlockWhenAsked(page);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: `Welcome, ${who.name}` })).toBeVisible();
}

async function signIn(page: Page, email: string, password: string) {
  unlockWhenAsked(page);
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('the first sign-up becomes admin, creates a team and an invitation', async ({ page }) => {
  await signUp(page, admin);
  await expect(page.getByRole('link', { name: 'Teams' })).toBeVisible();

  await page.getByRole('link', { name: 'Teams' }).click();
  await page.getByLabel('Team name').fill(E2E_TEAM);
  await page.getByRole('button', { name: 'Create team' }).click();
  await expect(page.getByRole('heading', { name: E2E_TEAM })).toBeVisible();

  await page.getByRole('link', { name: 'Invitations' }).click();
  await page.getByLabel('Role').selectOption('clinician');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  invitationCode = (await page.getByTestId('invitation-code').textContent()) ?? '';
  expect(invitationCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  await expect(page.getByRole('cell', { name: invitationCode })).toBeVisible();
});

test('a clinician signs up with the code, signs out and in again', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, clinician, invitationCode.toLowerCase());
  await expect(page.getByText(E2E_TEAM)).toBeVisible();
  await expect(page.getByText('clinician', { exact: true })).toBeVisible();
  // No admin pages for a clinician.
  await expect(page.getByRole('link', { name: 'Teams' })).toHaveCount(0);
  await page.goto('/admin/users');
  await expect(page.getByText('Only administrators can open this page.')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await context.close();
});

test('a used invitation code is refused', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/signup');
  await page.getByLabel('Name').fill('Someone Else');
  await page.getByLabel('Email').fill('else@example.org');
  await page.getByLabel('Password').fill('another long password');
  await page.getByLabel('Invitation code').fill(invitationCode);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toContainText(/used/i);
  await context.close();
});

test('a wrong password shows an error and signs nobody in', async ({ page }) => {
  await signIn(page, clinician.email, 'not the password at all');
  await expect(page.getByRole('alert')).toContainText(/email or password/i);
  await expect(page).toHaveURL(/\/signin$/);
});

test('after one visit the shell opens offline for the signed-in user', async ({
  page,
  context,
}) => {
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  // The service worker must be in charge (precache complete) before the network goes away.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await expect(page.getByText('Offline', { exact: true })).toBeVisible();
  await context.setOffline(false);
});
