import { expect, test } from '@playwright/test';

test('the app is installable and cross-origin isolated', async ({ page, request }) => {
  const response = await request.get('/');
  expect(response.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  expect(response.headers()['content-security-policy']).toContain("script-src 'self'");

  // Script errors and CSP violations; the 401 of "who is signed in?" on the sign-in page is expected.
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  await page.goto('/signin');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  // No CSP violation or script error on the way.
  expect(errors).toEqual([]);

  const manifest = await (await request.get('/manifest.webmanifest')).json();
  expect(manifest.name).toBe('FieldDx');
  expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(
    expect.arrayContaining(['192x192', '512x512']),
  );
});

test('unknown pages get the app, unknown API paths get a JSON 404', async ({ request }) => {
  const page = await request.get('/some/deep/link');
  expect(page.status()).toBe(200);
  expect(await page.text()).toContain('<html');
  const api = await request.get('/api/nope');
  expect(api.status()).toBe(404);
  expect((await api.json()).error.code).toBe('not_found');
});
