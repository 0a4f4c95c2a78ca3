import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { runModel, signInNewClinician } from './support';

/**
 * Field conditions: themes (light, dark, high contrast for sunlight) that pass axe, larger text
 * without horizontal scrolling, touch targets of at least 44 × 44 px on a tablet, no motion when
 * the device asks for less, and a visible focus ring. axe's injected script needs the app's strict
 * CSP bypassed, so these contexts bypass it (the CSP itself is checked in its own test below).
 */
const TABLET = { width: 800, height: 1280 };
const PHONE = { width: 390, height: 844 };
const THEMES = [
  { value: 'light', name: 'Light' },
  { value: 'dark', name: 'Dark' },
  { value: 'contrast', name: 'High contrast' },
] as const;

test.use({ viewport: TABLET, bypassCSP: true });

let seq = 0;

/** A patient with a visit: the clinician's main pages, as URLs to revisit. */
async function patientWithVisit(page: Page) {
  await page.goto('/patients/new');
  await page.getByLabel('Given name').fill('Yaa');
  await page.getByLabel('Family name').fill(`Field${Date.now()}${seq++}`);
  await page.getByLabel('Years', { exact: true }).fill('41');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('button', { name: 'New encounter' })).toBeVisible();
  const patient = new URL(page.url()).pathname;
  await page.getByRole('button', { name: 'New encounter' }).click();
  await expect(page.getByLabel('Temperature (°C)')).toBeVisible();
  await page.getByLabel('Temperature (°C)').fill('39.5');
  await expect(page.getByText('High fever')).toBeVisible();
  const encounter = new URL(page.url()).pathname;
  return { patient, encounter };
}

/** From the visit, runs the diabetes model so the diagnose page shows a result. */
async function diagnoseWithResult(page: Page, encounter: string) {
  await page.goto(encounter);
  await page.getByRole('button', { name: 'Run a model' }).click();
  await page.getByRole('radio', { name: /Diabetes/ }).check();
  await page.getByRole('textbox', { name: /Plasma glucose/ }).fill('150');
  await page.getByRole('textbox', { name: /Body mass index/ }).fill('31');
  await runModel(page);
  await expect(page.getByRole('region', { name: 'Result' })).toContainText('Suggests');
}

async function visit(page: Page, path: string) {
  await page.goto(path);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
}

async function expectNoSeriousViolations(page: Page, where: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${where}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  expect(serious).toEqual([]);
}

async function chooseInSettings(page: Page, label: 'Theme' | 'Text size', option: string) {
  await visit(page, '/settings');
  await page.getByLabel(label, { exact: true }).selectOption({ label: option });
}

test.describe('themes', () => {
  test('the theme follows the system before first paint, without breaking the CSP', async ({
    browser,
    baseURL,
  }) => {
    for (const [media, theme] of [
      [{ colorScheme: 'light' as const }, 'light'],
      [{ colorScheme: 'dark' as const }, 'dark'],
      [{ colorScheme: 'light' as const, contrast: 'more' as const }, 'contrast'],
    ] as const) {
      // The real CSP here: the inline script must be allowed by its hash.
      const context = await browser.newContext({ ...media, baseURL, viewport: TABLET });
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content.Security.Policy|Refused to/i.test(message.text()))
          refused.push(message.text());
      });
      // What <html> says when <body> first exists: before anything is painted.
      await page.addInitScript(() => {
        new MutationObserver((_, observer) => {
          if (!document.body) return;
          (window as unknown as { themeAtBody: string }).themeAtBody =
            document.documentElement.dataset.theme ?? 'none';
          observer.disconnect();
        }).observe(document, { childList: true, subtree: true });
      });
      await page.goto('/signin');
      await expect(page.locator('input[autocomplete="username"]')).toBeVisible();
      expect(
        await page.evaluate(() => (window as unknown as { themeAtBody: string }).themeAtBody),
      ).toBe(theme);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      expect(refused).toEqual([]);
      await context.close();
    }
  });

  test('each theme, chosen in Settings, passes axe on the main pages', async ({
    page,
    baseURL,
  }) => {
    test.setTimeout(240_000);
    await signInNewClinician(page, baseURL!);
    const { patient, encounter } = await patientWithVisit(page);
    for (const theme of THEMES) {
      await chooseInSettings(page, 'Theme', theme.name);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme.value);
      await expectNoSeriousViolations(page, `${theme.value} settings`);
      for (const path of ['/patients', patient, encounter]) {
        // Kept on the device: every page load starts in the chosen theme.
        await visit(page, path);
        await expect(page.locator('html')).toHaveAttribute('data-theme', theme.value);
        await expectNoSeriousViolations(page, `${theme.value} ${path}`);
      }
    }
    // A diagnose result in every palette (the attribute is all the CSS reads).
    await diagnoseWithResult(page, encounter);
    for (const theme of THEMES) {
      await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme.value);
      await expectNoSeriousViolations(page, `${theme.value} diagnose with a result`);
    }
    // "System" goes back to following the device.
    await chooseInSettings(page, 'Theme', 'System');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  });
});

/** What sticks out of the window, if anything (a layout that would scroll sideways). */
async function horizontalOverflow(page: Page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth) return null;
    // The innermost elements past the right edge: the ones to fix.
    const past = [...document.body.querySelectorAll('*')].filter(
      (el) => el.getBoundingClientRect().right > root.clientWidth + 0.5,
    );
    const innermost = past.filter(
      (el) => !past.some((other) => other !== el && el.contains(other)),
    );
    const names = innermost
      .slice(0, 5)
      .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">`)
      .join(', ');
    return `page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window: ${names}`;
  });
}

test('larger text scales the typography without sideways scrolling on a tablet or a phone', async ({
  page,
  baseURL,
}) => {
  test.setTimeout(180_000);
  await signInNewClinician(page, baseURL!);
  const { patient, encounter } = await patientWithVisit(page);
  for (const [size, px] of [
    ['Large', 20],
    ['Largest', 24],
  ] as const) {
    await page.setViewportSize(TABLET);
    await chooseInSettings(page, 'Text size', size);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe(
      `${px}px`,
    );
    for (const viewport of [TABLET, PHONE]) {
      await page.setViewportSize(viewport);
      for (const path of ['/patients', patient, encounter, '/settings']) {
        await visit(page, path);
        const h1 = await page
          .getByRole('heading', { level: 1 })
          .evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
        expect(h1, `${path}: heading scales with the text size`).toBeGreaterThanOrEqual(px * 1.4);
        // Soft: one run lists every page that scrolls sideways.
        expect
          .soft(await horizontalOverflow(page), `${size} ${viewport.width}px ${path}`)
          .toBeNull();
      }
    }
  }
  // A diagnose result (heatmap, chart, figures), in each size and viewport without a new run.
  await page.setViewportSize(TABLET);
  await diagnoseWithResult(page, encounter);
  for (const size of ['large', 'largest']) {
    await page.evaluate((s) => (document.documentElement.dataset.textSize = s), size);
    for (const viewport of [TABLET, PHONE]) {
      await page.setViewportSize(viewport);
      expect
        .soft(await horizontalOverflow(page), `${size} ${viewport.width}px diagnose`)
        .toBeNull();
    }
  }
});

test('touch targets are at least 44 × 44 px on a tablet', async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  await signInNewClinician(page, baseURL!);
  const { patient, encounter } = await patientWithVisit(page);

  /**
   * Every visible button, link, input and select, by its box. Excluded, per WCAG 2.5.8's inline
   * exception: a link inside a sentence (its size is set by the line of text). A checkbox or radio
   * is measured by its <label>, which is part of its target (a tap on the label toggles it).
   * Invisible inputs (opacity 0, such as the file input behind its button-styled label) are skipped.
   */
  const smallTargets = (where: string) =>
    page.evaluate((where) => {
      const small: string[] = [];
      const describe = (el: Element) =>
        `${where}: <${el.tagName.toLowerCase()}> "${(el.textContent || el.getAttribute('aria-label') || el.getAttribute('name') || '').trim().slice(0, 40)}"`;
      const inSentence = (el: Element) => {
        if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
        const parent = el.parentElement;
        return (
          !!parent &&
          [...parent.childNodes].some(
            (n) => n !== el && n.nodeType === Node.TEXT_NODE && /\p{L}/u.test(n.textContent ?? ''),
          )
        );
      };
      const selector =
        'button, a[href], input:not([type="hidden"]), select, textarea, [role="button"]';
      for (const el of document.querySelectorAll(selector)) {
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        const hidden =
          box.width === 0 ||
          box.height === 0 ||
          style.visibility === 'hidden' ||
          Number(style.opacity) === 0 ||
          !!el.closest('[hidden], [aria-hidden="true"]');
        if (hidden || inSentence(el)) continue;
        let target: Element = el;
        if (el instanceof HTMLInputElement && ['checkbox', 'radio'].includes(el.type)) {
          target = el.labels?.[0] ?? el;
        }
        const measured = target.getBoundingClientRect();
        if (measured.width < 43.5 || measured.height < 43.5) {
          small.push(
            `${describe(el)} ${Math.round(measured.width)}×${Math.round(measured.height)}`,
          );
        }
      }
      return small;
    }, where);

  const small: string[] = [];
  for (const path of ['/patients', patient, encounter, '/settings']) {
    await visit(page, path);
    small.push(...(await smallTargets(path)));
  }
  await diagnoseWithResult(page, encounter);
  small.push(...(await smallTargets('diagnose')));
  expect(small).toEqual([]);
});

test.describe('reduced motion', () => {
  test.use({ reducedMotion: 'reduce' });

  test('nothing animates or transitions when the device asks for less motion', async ({
    page,
    baseURL,
  }) => {
    await signInNewClinician(page, baseURL!);
    await visit(page, '/settings');
    const moving = await page.evaluate(() => {
      // A component that declares motion, as a future one might: the global rule must win.
      const probe = document.createElement('div');
      probe.style.transition = 'opacity 2s';
      probe.style.animation = 'none 3s infinite';
      document.body.append(probe);
      const seconds = (value: string) =>
        Math.max(
          ...value.split(',').map((v) => parseFloat(v) * (v.trim().endsWith('ms') ? 0.001 : 1)),
        );
      const found: string[] = [];
      for (const el of document.querySelectorAll('*')) {
        const style = getComputedStyle(el);
        const longest = Math.max(
          seconds(style.transitionDuration),
          seconds(style.animationDuration),
        );
        if (longest > 0.01) found.push(`${el.tagName} ${longest}s`);
      }
      for (const animation of document.getAnimations()) {
        const duration = Number(animation.effect?.getTiming().duration ?? 0);
        if (duration > 10) found.push(`animation ${duration}ms`);
      }
      return found;
    });
    expect(moving).toEqual([]);
  });
});

test('tabbing to a button shows a focus outline in every theme', async ({ page, baseURL }) => {
  await signInNewClinician(page, baseURL!);
  for (const theme of THEMES) {
    await chooseInSettings(page, 'Theme', theme.name);
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    let outline: { width: number; style: string; color: string } | null = null;
    for (let i = 0; i < 40 && !outline; i++) {
      await page.keyboard.press('Tab');
      outline = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el.tagName !== 'BUTTON' || !el.matches(':focus-visible')) return null;
        const style = getComputedStyle(el);
        return {
          width: parseFloat(style.outlineWidth),
          style: style.outlineStyle,
          color: style.outlineColor,
        };
      });
    }
    expect(outline, `${theme.value}: a button reached with Tab`).not.toBeNull();
    expect(outline!.style).not.toBe('none');
    expect(outline!.width).toBeGreaterThanOrEqual(2);
  }
});
