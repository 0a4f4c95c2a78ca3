import { chromium, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import config from '../../playwright.config';

// Chromium reports "in-incognito" for normal contexts: installability needs a persistent profile.
test('Chromium finds the app installable', async ({ baseURL }) => {
  const profile = mkdtempSync(join(tmpdir(), 'fielddx-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...config.use?.launchOptions,
    headless: true,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${baseURL}/signin`);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
