import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  E2E_ADMIN,
  newMember,
  runModel,
  signInWithPin,
  stopUnlockingWhenAsked,
  unlockWhenAsked,
  waitForOfflineReady,
} from './support';

// Encryption at rest, the PIN and the lock (issue 15), against the real server and the built app.

const PIN = '573920';
const xray = fileURLToPath(new URL('../fixtures/cxr-val-0-pneumonia-x4.png', import.meta.url));
let counter = 0;
const unique = (base: string) =>
  `${base}${String.fromCharCode(97 + (counter++ % 26))}${Date.now() % 100000}`;

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function setPin(page: Page, pin = PIN) {
  await page.getByLabel('PIN', { exact: true }).fill(pin);
  await page.getByLabel('Confirm PIN').fill(pin);
  await page.getByRole('button', { name: 'Set PIN' }).click();
}

async function unlock(page: Page, pin: string) {
  await page.getByLabel('PIN', { exact: true }).fill(pin);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
}

test('PIN: set after sign-in, unlocks after a lock offline; 5 wrong PINs need the password online, and nothing is lost', async ({
  page,
  context,
  baseURL,
}) => {
  const clinician = await newMember(page, baseURL!, 'clinician');
  await signIn(page, clinician.email, clinician.password);
  // The PIN screen follows the sign-in; a short or mistyped PIN is refused.
  await page.getByLabel('PIN', { exact: true }).fill('12345');
  await page.getByLabel('Confirm PIN').fill('12345');
  await page.getByRole('button', { name: 'Set PIN' }).click();
  await expect(page.getByRole('alert')).toContainText('at least 6 digits');
  await page.getByLabel('PIN', { exact: true }).fill(PIN);
  await page.getByLabel('Confirm PIN').fill('573921');
  await page.getByRole('button', { name: 'Set PIN' }).click();
  await expect(page.getByRole('alert')).toContainText('not the same');
  await setPin(page);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await waitForOfflineReady(page);

  // Work offline: a new patient waits in the outbox.
  await context.setOffline(true);
  const family = unique('Wanjiru');
  await page.goto('/patients/new');
  await unlock(page, PIN); // a page load starts locked
  await page.getByLabel('Given name').fill('Grace');
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Years').fill('31');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `Grace ${family}` })).toBeVisible();

  // Lock: the patient disappears behind the PIN screen; the PIN brings the app back.
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('button', { name: 'Unlock', exact: true })).toBeVisible();
  await expect(page.getByText('Locked — sync waits for unlock.')).toBeVisible();
  await expect(page.getByText(family)).toHaveCount(0);
  await unlock(page, PIN);
  await expect(page.getByRole('heading', { name: `Grace ${family}` })).toBeVisible();

  // Five wrong PINs: the PIN no longer unlocks; the password offline does not either.
  await page.getByRole('button', { name: 'Lock' }).click();
  for (let remaining = 4; remaining >= 1; remaining--) {
    await unlock(page, '000000');
    await expect(page.getByRole('alert')).toContainText(`${remaining} more wrong`);
  }
  await unlock(page, '000000');
  await expect(page.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  await page.getByLabel('Email').fill(clinician.email);
  await page.getByLabel('Password').fill(clinician.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Too many wrong PINs');

  // Online, the password restores access (and asks for a new PIN); the offline patient is there
  // and reaches the server.
  await context.setOffline(false);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await setPin(page, '864209');
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('link', { name: new RegExp(`Grace ${family}`) })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Sync status' })).toContainText('0 waiting', {
    timeout: 15_000,
  });
});

test('the app locks after 5 idle minutes, and when hidden longer than that', async ({
  page,
  baseURL,
}) => {
  await page.clock.install();
  const clinician = await newMember(page, baseURL!, 'clinician');
  await signIn(page, clinician.email, clinician.password);
  await setPin(page);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.clock.runFor('04:00');
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.clock.runFor('01:10');
  await expect(page.getByRole('button', { name: 'Unlock', exact: true })).toBeVisible();
  await unlock(page, PIN);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();

  // Hidden (another app in front): timers may not run; coming back after 6 minutes locks.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.clock.fastForward('06:00');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(page.getByRole('button', { name: 'Unlock', exact: true })).toBeVisible();
});

test("an admin sets a team's lock delay; the team's tablets lock after it", async ({
  page,
  browser,
  baseURL,
}) => {
  // The admin, on their own tablet, makes a team and sets its delay in Admin → Teams.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInWithPin(admin, E2E_ADMIN.email, E2E_ADMIN.password);
  const teamName = unique('Lock team ');
  await admin.goto('/admin/teams');
  await admin.getByLabel('Team name').fill(teamName);
  await admin.getByRole('button', { name: 'Create team' }).click();
  const card = admin.getByRole('region', { name: `Team ${teamName}` });
  const minutes = card.getByLabel('Lock after (minutes without use)');
  await expect(minutes).toHaveValue('5');
  await minutes.fill('0');
  await card.getByRole('button', { name: 'Set lock delay' }).click();
  await expect(card.getByRole('alert')).toContainText('whole number of minutes from 1 to 60');
  await minutes.fill('2');
  await card.getByRole('button', { name: 'Set lock delay' }).click();
  await expect(card.getByRole('status')).toContainText('now lock after 2 min');

  // A clinician of that team, invited by the admin.
  const teams = (await (await admin.request.get('/api/admin/teams')).json()) as {
    teams: { id: string; name: string; lockMinutes: number }[];
  };
  const team = teams.teams.find((t) => t.name === teamName)!;
  expect(team.lockMinutes).toBe(2);
  const invitation = (await (
    await admin.request.post('/api/admin/invitations', {
      data: { teamId: team.id, role: 'clinician' },
      headers: { Origin: baseURL! },
    })
  ).json()) as { code: string };
  await adminContext.close();
  const clinician = {
    name: unique('Clinician '),
    email: `${unique('lock')}@example.org`,
    password: 'a long field password',
  };
  const signup = await page.request.post('/api/auth/signup', {
    data: { ...clinician, invitationCode: invitation.code },
    headers: { Origin: baseURL! },
  });
  expect(signup.ok(), await signup.text()).toBe(true);
  await page.request.post('/api/auth/logout', { headers: { Origin: baseURL! } });

  await page.clock.install();
  await signIn(page, clinician.email, clinician.password);
  await setPin(page);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.clock.runFor('01:50');
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.clock.runFor('00:20');
  await expect(page.getByRole('button', { name: 'Unlock', exact: true })).toBeVisible();
  await expect(page.getByText('Locked — sync waits for unlock.')).toBeVisible();
});

test('change password: the new one signs in, the old one is refused, and the data stays', async ({
  page,
  baseURL,
}) => {
  const clinician = await newMember(page, baseURL!, 'clinician');
  const newPassword = 'a brand new field password';
  unlockWhenAsked(page, PIN);
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  const family = unique('Mensah');
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill('Abena');
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Years').fill('27');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `Abena ${family}` })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Sync status' })).toContainText('0 waiting', {
    timeout: 15_000,
  });

  await page.goto('/settings');
  await page.getByLabel('Current password').fill(clinician.password);
  await page.getByLabel('New password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Password changed.')).toBeVisible();

  page.on('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByRole('alert')).toContainText('Wrong email or password');

  // The new password opens this tablet's data key by itself (it was wrapped anew): no PIN asked.
  await stopUnlockingWhenAsked(page);
  await signIn(page, clinician.email, newPassword);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('link', { name: new RegExp(`Abena ${family}`) })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Sync status' })).toContainText('0 waiting');
});

/** Every value of every IndexedDB store of the origin, as text; binary as hex. */
function dumpIndexedDb(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const hex = (bytes: Uint8Array) =>
      Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    const texts: string[] = [];
    const encode = async (value: unknown): Promise<unknown> => {
      if (value instanceof Blob) return `blob:${hex(new Uint8Array(await value.arrayBuffer()))}`;
      if (ArrayBuffer.isView(value)) {
        return `bytes:${hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))}`;
      }
      if (value instanceof ArrayBuffer) return `bytes:${hex(new Uint8Array(value))}`;
      if (Array.isArray(value)) return Promise.all(value.map(encode));
      if (value && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await encode(v);
        return out;
      }
      return value;
    };
    for (const { name } of await indexedDB.databases()) {
      const db: IDBDatabase = await new Promise((resolve, reject) => {
        const req = indexedDB.open(name!);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const rows: unknown[] = await new Promise((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        texts.push(`${name}/${store}: ${JSON.stringify(await encode(rows))}`);
      }
      db.close();
    }
    return texts.join('\n');
  });
}

test('after a whole visit, no name, village, birth date or image bytes are readable in IndexedDB', async ({
  page,
  baseURL,
}) => {
  const clinician = await newMember(page, baseURL!, 'clinician');
  unlockWhenAsked(page, PIN);
  await signIn(page, clinician.email, clinician.password);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  const given = unique('Zawadi');
  const family = unique('Odhiambo');
  const village = unique('Kisumu');
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Date of birth').fill('2022-03-17');
  await page.getByLabel('Village').fill(village);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { name: `${given} ${family}` })).toBeVisible();
  await page.getByRole('button', { name: 'New encounter' }).click();
  await page.getByLabel('Chief complaint').fill('Cough for three weeks');
  await expect(page.getByText('Saved on this device', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Pneumonia/ }).check();
  await page.getByLabel('Choose image file').setInputFiles(xray);
  await runModel(page);
  const save = page.getByRole('form', { name: "Save to the patient's record" });
  await save.getByLabel('Agree', { exact: true }).check();
  await save.getByRole('button', { name: 'Save result' }).click();
  await page.getByRole('button', { name: 'New report' }).click();
  await page.getByLabel('Summary').fill(`Report for ${given} of ${village}`);
  await expect(page.getByText('Saved on this device', { exact: true }).first()).toBeVisible();
  // A half-typed new patient stays as a draft on the device.
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill(`${given}draft`);
  await page.getByLabel('Village').fill(`${village}draft`);
  await page.waitForTimeout(1500);

  const dump = await dumpIndexedDb(page);
  expect(dump).toContain('fielddx/patients');
  for (const secret of [given, family, village, '2022-03-17', 'Cough for three weeks']) {
    expect(dump, secret).not.toContain(secret);
  }
  // The X-ray's bytes: a run of 48 bytes from the middle of the file, in hex, appears nowhere.
  const file = readFileSync(xray);
  const middle = file.subarray(file.length >> 1, (file.length >> 1) + 48).toString('hex');
  expect(dump.includes(middle)).toBe(false);
  // The app itself still reads all of it.
  await page.goto('/patients');
  await page.getByLabel('Search patients').fill(village);
  await expect(page.getByRole('link', { name: new RegExp(`${given} ${family}`) })).toBeVisible();
});

test('a passkey with the PRF extension unlocks the app (Chromium virtual authenticator)', async ({
  page,
  baseURL,
}) => {
  // A platform authenticator with user verification and PRF, as a tablet's fingerprint reader.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: true,
      automaticPresenceSimulation: true,
    },
  });
  const clinician = await newMember(page, baseURL!, 'clinician');
  await signIn(page, clinician.email, clinician.password);
  await setPin(page);
  await expect(page.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await page.goto('/settings');
  await unlock(page, PIN);
  await page.getByRole('button', { name: 'Use this device to unlock' }).click();
  await expect(page.getByText('fingerprint, face or screen lock unlocks FieldDx')).toBeVisible();

  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByRole('button', { name: 'Unlock with this device' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();

  // After a reload (the key is gone from memory) the authenticator alone opens it again.
  await page.reload();
  await page.getByRole('button', { name: 'Unlock with this device' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
});
