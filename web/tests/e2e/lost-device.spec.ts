import { expect, test, type Page } from '@playwright/test';
import {
  E2E_ADMIN,
  E2E_PIN,
  newMember,
  signInNewClinician,
  stopUnlockingWhenAsked,
  unlockWhenAsked,
} from './support';

// Issue 15, "Lost device": an admin revokes a tablet, which erases itself at its next sync; an
// admin gives a one-time reset code to a user who forgot their password.

async function signInAsAdmin(page: Page) {
  unlockWhenAsked(page);
  await page.goto('/signin');
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill(E2E_ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('link', { name: 'Users' })).toBeVisible();
}

/** Has the admin issue a reset code for the user, and returns it. */
async function resetCodeFor(admin: Page, name: string) {
  await openUserPage(admin, name);
  await admin.getByRole('button', { name: 'Create reset code' }).click();
  return (await admin.getByTestId('reset-code').textContent()) ?? '';
}

async function resetPassword(user: Page, email: string, code: string, password: string) {
  await user.goto('/reset-password');
  await user.getByLabel('Email').fill(email);
  await user.getByLabel('Reset code').fill(code);
  await user.getByLabel('New password').fill(password);
  await user.getByRole('button', { name: 'Reset password' }).click();
  await expect(
    user.getByText('Your password was changed. Sign in with the new one.'),
  ).toBeVisible();
}

async function openUserPage(page: Page, name: string) {
  await page.goto('/admin/users');
  await page.getByRole('link', { name: `Devices and access of ${name}` }).click();
  await expect(page.getByRole('heading', { name: new RegExp(name) })).toBeVisible();
}

/** Everything in every IndexedDB database of the page's origin, as text, and localStorage. */
function readAllStorage(page: Page) {
  return page.evaluate(async () => {
    const request = <T>(r: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const names = (await indexedDB.databases()).map((d) => d.name!).filter(Boolean);
    const texts: string[] = [];
    let patients = 0;
    for (const name of names) {
      const db = await request(indexedDB.open(name));
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await request(db.transaction(store).objectStore(store).getAll());
        if (store === 'patients') patients += rows.length;
        texts.push(JSON.stringify(rows));
      }
      db.close();
    }
    return { names, text: texts.join('\n'), patients, localStorage: Object.keys(localStorage) };
  });
}

test('an admin revokes a tablet: at its next sync it erases its data and says so', async ({
  browser,
  baseURL,
}) => {
  const tabletContext = await browser.newContext();
  const tablet = await tabletContext.newPage();
  const clinician = await signInNewClinician(tablet, baseURL!);
  // A name of its own: the shared team may already hold a patient of another run or spec.
  // Random letters: names made from the clock differ by a letter or two from run to run, and the
  // duplicate check then rightly asks whether it is the same person.
  const tag = Array.from(
    { length: 10 },
    () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(Math.random() * 26)],
  ).join('');
  const given = `Fa${tag}`;
  const family = `Ke${[...tag].reverse().join('')}`;
  await tablet.goto('/');
  await tablet.getByRole('link', { name: 'Patients' }).click();
  await tablet.getByRole('button', { name: 'New patient' }).click();
  await tablet.getByLabel('Given name').fill(given);
  await tablet.getByLabel('Family name').fill(family);
  await tablet.getByLabel('Sex').selectOption('female');
  await tablet.getByLabel('Years').fill('31');
  await tablet.getByLabel('Village').fill('Bougouni');
  await tablet.getByRole('button', { name: 'Save' }).click();
  await expect(tablet.getByRole('heading', { name: `${given} ${family}` })).toBeVisible();
  await tablet.getByRole('button', { name: 'Sync now' }).click();
  await expect(tablet.getByText(/Last backup: just now · 0 waiting/)).toBeVisible();
  const before = await readAllStorage(tablet);
  expect(before.patients).toBeGreaterThanOrEqual(1); // the team's, pulled, and this one
  // Records are sealed at rest: what must go is the rows and the tablet's wrapped data key.
  expect(before.text).toContain('"keyring"');

  // The clinician sees the tablet in Settings → Devices, as this device.
  await tablet.getByRole('link', { name: 'Settings' }).click();
  const ownDevices = tablet.getByRole('region', { name: 'Devices' });
  await expect(ownDevices.getByText('this device')).toBeVisible();

  // The admin, elsewhere, revokes it.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await openUserPage(admin, clinician.name);
  const devices = admin.getByRole('region', { name: 'Devices' });
  await expect(devices.getByRole('row')).toHaveCount(2); // header + the tablet
  await expect(devices.getByRole('cell', { name: /^Chrome \d+/ })).toBeVisible();
  admin.once('dialog', (dialog) => void dialog.accept());
  await devices.getByRole('button', { name: /^Revoke/ }).click();
  await expect(devices.getByText(/^Revoked/)).toBeVisible();

  // The tablet's next sync is refused: it wipes itself and the sign-in page says why.
  await tablet.goto('/');
  // (It may land there by its own navigation or after the browser's Clear-Site-Data reload.)
  await expect(tablet).toHaveURL(/\/signin/);
  await expect(tablet.getByRole('alert')).toContainText('This device was revoked');
  await expect(tablet.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  const after = await readAllStorage(tablet);
  expect(after.patients).toBe(0);
  expect(after.text).not.toContain('"keyring"');
  expect(after.text).not.toContain(family);
  expect(after.text).not.toContain('Bougouni');
  // Only the device's language may be written again as the sign-in page opens: no user's data.
  expect(after.localStorage.filter((key) => key !== 'PARAGLIDE_LOCALE')).toEqual([]);

  // The revocation is in the audit log.
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await admin.getByLabel('Action').selectOption('device.revoke');
  await admin.getByRole('button', { name: 'Apply filters' }).click();
  await expect(admin.getByRole('cell', { name: 'device.revoke' }).first()).toBeVisible();
  await adminContext.close();
  await tabletContext.close();
});

test('an admin issues a reset code and the user sets a new password with it', async ({
  browser,
  baseURL,
}) => {
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const clinician = await signInNewClinician(user, baseURL!);
  await userContext.clearCookies(); // signed out; the password is forgotten

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  await openUserPage(admin, clinician.name);
  await admin.getByRole('button', { name: 'Create reset code' }).click();
  const code = (await admin.getByTestId('reset-code').textContent()) ?? '';
  expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);

  await user.goto('/signin');
  await expect(user.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  await user.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(user.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  await user.getByLabel('Email').fill(clinician.email);
  await user.getByLabel('Reset code').fill(code);
  await user.getByLabel('New password').fill('my brand new field password');
  await user.getByRole('button', { name: 'Reset password' }).click();
  await expect(
    user.getByText('Your password was changed. Sign in with the new one.'),
  ).toBeVisible();

  // This tablet's data key is still wrapped by the old password: its PIN opens it once, and the
  // new password wraps it from then on. (The PIN is typed here, not by the automatic handler.)
  await stopUnlockingWhenAsked(user);
  await user.getByLabel('Email').fill(clinician.email);
  await user.getByLabel('Password').fill('my brand new field password');
  await user.getByRole('button', { name: 'Sign in' }).click();
  await expect(
    user.getByText('Your password was changed. Enter this tablet’s PIN once to use your new'),
  ).toBeVisible();
  await user.getByLabel('PIN', { exact: true }).fill(E2E_PIN);
  await user.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(user.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  // From now on the new password alone opens the tablet's data.
  user.once('dialog', (dialog) => void dialog.accept());
  await user.getByRole('button', { name: 'Sign out' }).click();
  await expect(user.getByRole('heading', { name: 'Sign in to FieldDx' })).toBeVisible();
  await user.getByLabel('Email').fill(clinician.email);
  await user.getByLabel('Password').fill('my brand new field password');
  await user.getByRole('button', { name: 'Sign in' }).click();
  await expect(user.getByRole('heading', { name: `Welcome, ${clinician.name}` })).toBeVisible();
  await expect(user.getByLabel('PIN', { exact: true })).toHaveCount(0);

  // The code worked once.
  await userContext.clearCookies();
  await user.goto('/reset-password');
  await expect(user.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  await user.getByLabel('Email').fill(clinician.email);
  await user.getByLabel('Reset code').fill(code);
  await user.getByLabel('New password').fill('a third field password');
  await user.getByRole('button', { name: 'Reset password' }).click();
  await expect(user.getByRole('alert')).toContainText('do not match a valid code');
  await adminContext.close();
  await userContext.close();
});

test('a new password on a tablet no PIN can open: its data is erased, on confirmation, and pulled again', async ({
  browser,
  baseURL,
}) => {
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const member = await newMember(user, baseURL!, 'clinician');
  // Signed in on this tablet, which closed before a PIN was set: only the password wraps the key.
  await user.goto('/signin');
  await user.getByLabel('Email').fill(member.email);
  await user.getByLabel('Password').fill(member.password);
  await user.getByRole('button', { name: 'Sign in' }).click();
  await expect(user.getByRole('button', { name: 'Set PIN', exact: true })).toBeVisible();
  await userContext.clearCookies();

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const code = await resetCodeFor(admin, member.name);
  await resetPassword(user, member.email, code, 'my brand new field password');

  await user.getByLabel('Email').fill(member.email);
  await user.getByLabel('Password').fill('my brand new field password');
  await user.getByRole('button', { name: 'Sign in' }).click();
  await expect(
    user.getByRole('heading', { name: 'This tablet’s data cannot be opened' }),
  ).toBeVisible();
  await expect(user.getByTestId('never-backed-up')).toHaveText(
    'Every change made on this tablet was backed up.',
  );
  await user.getByRole('button', { name: 'Erase this tablet’s data and start again' }).click();
  // A new data key, wrapped by the new password: the PIN is set again and the app opens.
  unlockWhenAsked(user);
  await expect(user.getByRole('heading', { name: `Welcome, ${member.name}` })).toBeVisible();
  await adminContext.close();
  await userContext.close();
});

test('a new password and a forgotten PIN: the tablet offers to start again, not a loop', async ({
  browser,
  baseURL,
}) => {
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const clinician = await signInNewClinician(user, baseURL!);
  await userContext.clearCookies();
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signInAsAdmin(admin);
  const code = await resetCodeFor(admin, clinician.name);
  await resetPassword(user, clinician.email, code, 'my brand new field password');

  await stopUnlockingWhenAsked(user);
  const signIn = async () => {
    await user.getByLabel('Email').fill(clinician.email);
    await user.getByLabel('Password').fill('my brand new field password');
    await user.getByRole('button', { name: 'Sign in' }).click();
  };
  await signIn();
  await expect(
    user.getByText('Your password was changed. Enter this tablet’s PIN once'),
  ).toBeVisible();
  await user.getByRole('button', { name: 'Forgot your PIN? Sign in with your password' }).click();
  await signIn();
  await expect(
    user.getByRole('heading', { name: 'This tablet’s data cannot be opened' }),
  ).toBeVisible();
  await expect(
    user.getByRole('button', { name: 'Erase this tablet’s data and start again' }),
  ).toBeVisible();
  await adminContext.close();
  await userContext.close();
});
