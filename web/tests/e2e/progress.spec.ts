import { expect, test } from '@playwright/test';
import { newMember, signInWithPin } from './support';

// Issue 16: long work shows progress and what is left. A new tablet's first download says
// "N of M records" (the server's `remaining`), with a progress bar, while it runs.

const RECORDS = 1500;

test('the first download of a new tablet shows how many records of how many, and a progress bar', async ({
  page,
  baseURL,
}) => {
  // A teammate's records on the server, pushed through the sync API (more than one pull page).
  const writer = await newMember(page, baseURL!, 'clinician');
  const api = page.request;
  const headers = { Origin: baseURL! };
  expect(
    (
      await api.post('/api/auth/login', {
        data: { email: writer.email, password: writer.password },
        headers,
      })
    ).ok(),
    'writer signs in',
  ).toBe(true);
  const me = (await (await api.get('/api/auth/me')).json()) as {
    user: { id: string };
    memberships: { teamId: string }[];
  };
  const teamId = me.memberships[0]!.teamId;
  const deviceId = `e2e-progress-${Date.now()}`;
  for (let start = 0; start < RECORDS; start += 1000) {
    const mutations = Array.from({ length: Math.min(1000, RECORDS - start) }, (_, i) => {
      const id = `${deviceId}-p${start + i}`;
      return {
        mutationId: `${id}-m`,
        table: 'patients',
        id,
        baseVersion: 0,
        op: 'put',
        data: {
          id,
          teamId,
          version: 0,
          updatedAt: new Date().toISOString(),
          updatedBy: me.user.id,
          deleted: false,
          givenName: `Given${start + i}`,
          familyName: 'Progress',
          sex: 'female',
          birthDate: '1990-01-01',
          birthDateEstimated: false,
          village: 'Kita',
          phone: '',
          identifiers: [],
        },
      };
    });
    const push = await api.post('/api/sync/push', { data: { deviceId, mutations }, headers });
    expect(push.ok(), await push.text()).toBe(true);
  }
  await api.post('/api/auth/logout', { headers });

  // The new tablet: pages after the first are held back a moment, so the download is seen midway.
  const reader = await newMember(page, baseURL!, 'clinician');
  const pulls: string[] = [];
  await page.route('**/api/sync/pull?*', async (route) => {
    pulls.push(route.request().url());
    const response = await route.fetch();
    if (pulls.length > 1) await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.fulfill({ response });
  });
  await signInWithPin(page, reader.email, reader.password);

  const bar = page.getByRole('region', { name: 'Sync status' });
  await expect(bar).toContainText(/Downloading [\d,]+ of [\d,]+ records/, { timeout: 30_000 });
  const text = (await bar.textContent()) ?? '';
  const [, done, total] = /Downloading ([\d,]+) of ([\d,]+) records/.exec(text)!;
  const count = (s: string) => Number(s.replace(/,/g, ''));
  expect(count(total!)).toBeGreaterThanOrEqual(RECORDS);
  expect(count(done!)).toBeLessThan(count(total!));
  const progress = bar.getByRole('progressbar', { name: 'Sync progress' });
  await expect(progress).toHaveAttribute('max', String(count(total!)));
  // Only the first page asks the server to count.
  expect(pulls[0]).toContain('remaining=1');

  await expect(bar).toContainText(/Last backup: just now/, { timeout: 60_000 });
  expect(pulls.slice(1).every((url) => !url.includes('remaining='))).toBe(true);
  await expect(progress).toHaveCount(0);
});
