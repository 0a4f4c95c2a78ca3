import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** The administrator every spec shares: whichever spec runs first on the empty server creates it. */
export const E2E_ADMIN = {
  name: 'Ada Admin',
  email: 'ada@example.org',
  password: 'correct horse battery',
};
export const E2E_TEAM = 'Northern district';

let counter = 0;

async function post(request: APIRequestContext, baseURL: string, path: string, data: unknown) {
  return request.post(path, { data, headers: { Origin: baseURL } });
}

/**
 * Signs the request context in as the admin, creating the admin on an empty server. Login comes
 * first: a sign-up refused because the admin exists counts as a failed sign-up, and the server
 * limits those per address (a run with many specs would hit the limit).
 */
async function asAdmin(request: APIRequestContext, baseURL: string) {
  const credentials = { email: E2E_ADMIN.email, password: E2E_ADMIN.password };
  if ((await post(request, baseURL, '/api/auth/login', credentials)).ok()) return;
  const signup = await post(request, baseURL, '/api/auth/signup', E2E_ADMIN);
  expect(signup.ok(), await signup.text()).toBe(true);
}

/**
 * A new clinician in the shared team, signed in within the page's browser context, so the page is
 * ready to use the app as that clinician.
 */
export function signInNewClinician(page: Page, baseURL: string) {
  return signInNewMember(page, baseURL, 'clinician');
}

/** A new supervisor of the shared team, signed in within the page's browser context. */
export function signInNewSupervisor(page: Page, baseURL: string) {
  return signInNewMember(page, baseURL, 'supervisor');
}

async function signInNewMember(page: Page, baseURL: string, role: 'clinician' | 'supervisor') {
  const member = await newMember(page, baseURL, role);
  await signInWithPin(page, member.email, member.password);
  return member;
}

/** A new member of the shared team (account only: nothing signed in on the page's tablet yet). */
export async function newMember(page: Page, baseURL: string, role: 'clinician' | 'supervisor') {
  const api = page.request;
  await asAdmin(api, baseURL);
  const teams = (await (await api.get('/api/admin/teams')).json()) as {
    teams: { id: string; name: string }[];
  };
  let team = teams.teams.find((t) => t.name === E2E_TEAM);
  if (!team) team = await (await post(api, baseURL, '/api/admin/teams', { name: E2E_TEAM })).json();
  const invitation = await (
    await post(api, baseURL, '/api/admin/invitations', { teamId: team!.id, role })
  ).json();
  await post(api, baseURL, '/api/auth/logout', {});
  const member = {
    name: `${role === 'clinician' ? 'Clinician' : 'Supervisor'} ${Date.now()}-${counter++}`,
    email: `${role}-${Date.now()}-${counter++}@example.org`,
    password: 'a long field password',
  };
  const signup = await post(api, baseURL, '/api/auth/signup', {
    ...member,
    invitationCode: invitation.code,
  });
  expect(signup.ok(), await signup.text()).toBe(true);
  await post(api, baseURL, '/api/auth/logout', {});
  return member;
}

/** The PIN every e2e user sets on their tablet. */
export const E2E_PIN = '246810';

/**
 * Signs in through the form (the password is what first wraps the tablet's data key) and sets
 * the PIN; from then on the PIN is entered whenever the app asks (each page load starts locked).
 */
export async function signInWithPin(page: Page, email: string, password: string, pin = E2E_PIN) {
  unlockWhenAsked(page, pin);
  await page.goto('/signin');
  // By role and attributes, not English names: specs in other languages sign in here too.
  await page.locator('input[autocomplete="username"]').fill(email);
  await page.locator('input[autocomplete="current-password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
  // Waiting for the app (its header) runs the handler that sets the PIN.
  await expect(page.getByRole('banner').getByRole('link', { name: 'FieldDx' })).toBeVisible();
}

const answering = new WeakSet<Page>();

/** The PIN screen's submit button (Set PIN or Unlock), found by its form, in any language. */
function pinSubmit(page: Page) {
  return page.locator(
    'main form:has(input[type="password"][inputmode="numeric"]) button[type="submit"]',
  );
}

/**
 * Whenever the PIN screen shows (after a sign-in on a new tablet, a reload, a lock), sets or
 * enters the PIN (both fields when setting it) before the test goes on.
 */
export function unlockWhenAsked(page: Page, pin = E2E_PIN) {
  if (answering.has(page)) return;
  answering.add(page);
  void page.addLocatorHandler(pinSubmit(page), async () => {
    const form = page.locator('main form:has(input[type="password"][inputmode="numeric"])');
    for (const input of await form.locator('input[inputmode="numeric"]').all()) {
      await input.fill(pin);
    }
    await pinSubmit(page).click();
  });
}

/** Stops answering the PIN screen, for a test that types the PIN itself. */
export async function stopUnlockingWhenAsked(page: Page) {
  await page.removeLocatorHandler(pinSubmit(page));
  answering.delete(page);
}

/** Waits until the service worker controls the page, so it keeps working with the network off. */
export async function waitForOfflineReady(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = () => page.evaluate(() => !!navigator.serviceWorker.controller);
  // `ready` resolves while the worker may still be activating (cleaning old caches) before it
  // claims the page: on a loaded machine that took longer than expect's default 10 s.
  try {
    await expect.poll(controlled, { timeout: 15_000 }).toBe(true);
  } catch {
    // A full navigation still in flight when the worker activated (a goto right after sign-in,
    // while the first install precaches) is not claimed: its request went out before there was a
    // worker to see it. The page after it is controlled, as a user's next visit is.
    await page.reload();
    await expect.poll(controlled, { timeout: 30_000 }).toBe(true);
  }
}

/**
 * Clicks Run model. Where the app warns first (a patient outside the model's eligibility, an image
 * the input check finds unusual), the run needs the clinician's confirmation: give it.
 */
export async function runModel(page: Page) {
  const run = page.getByRole('button', { name: 'Run model' });
  const confirm = page.getByRole('checkbox', { name: /Run it anyway/ });
  await expect
    .poll(async () => (await run.isEnabled()) || (await confirm.isVisible()), { timeout: 30_000 })
    .toBe(true);
  if ((await confirm.isVisible()) && !(await confirm.isChecked())) await confirm.check();
  await run.click();
}
