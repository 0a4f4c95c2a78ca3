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
  return member;
}

/** Waits until the service worker controls the page, so it keeps working with the network off. */
export async function waitForOfflineReady(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}
