import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyAppearance,
  readTextSize,
  readThemeChoice,
  resolveTheme,
  TEXT_SIZE_KEY,
  THEME_CHOICES,
  THEME_KEY,
} from './appearance';

function storage(values: Record<string, string>) {
  return {
    getItem: (key: string) => values[key] ?? null,
    setItem: (key: string, value: string) => {
      values[key] = value;
    },
  };
}

function fakeRoot() {
  const attributes: Record<string, string> = {};
  return {
    dataset: {} as Record<string, string>,
    setAttribute: (name: string, value: string) => {
      attributes[name] = value;
    },
    attributes,
  };
}

describe('resolveTheme', () => {
  it('keeps an explicit choice whatever the system says', () => {
    for (const dark of [false, true]) {
      for (const moreContrast of [false, true]) {
        expect(resolveTheme('light', { dark, moreContrast })).toBe('light');
        expect(resolveTheme('dark', { dark, moreContrast })).toBe('dark');
        expect(resolveTheme('contrast', { dark, moreContrast })).toBe('contrast');
      }
    }
  });

  it('follows the system: dark, else high contrast when asked for, else light', () => {
    expect(resolveTheme('system', { dark: false, moreContrast: false })).toBe('light');
    expect(resolveTheme('system', { dark: true, moreContrast: false })).toBe('dark');
    expect(resolveTheme('system', { dark: false, moreContrast: true })).toBe('contrast');
    expect(resolveTheme('system', { dark: true, moreContrast: true })).toBe('dark');
  });
});

describe('stored choices', () => {
  it('reads what was kept and falls back to the default on anything else', () => {
    expect(readThemeChoice(storage({ [THEME_KEY]: 'dark' }))).toBe('dark');
    expect(readThemeChoice(storage({ [THEME_KEY]: 'purple' }))).toBe('system');
    expect(readThemeChoice(undefined)).toBe('system');
    expect(readTextSize(storage({ [TEXT_SIZE_KEY]: 'largest' }))).toBe('largest');
    expect(readTextSize(storage({ [TEXT_SIZE_KEY]: '300%' }))).toBe('normal');
    const refusing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {},
    };
    expect(readThemeChoice(refusing)).toBe('system');
  });
});

/**
 * The script in app.html runs before the app's code and cannot import it: run it against every
 * stored value and system preference and check it sets what the module would.
 */
describe('the pre-paint script in app.html', () => {
  const html = readFileSync(new URL('../../app.html', import.meta.url), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];

  it('sets the same theme and text size as the module', () => {
    expect(script).toBeTruthy();
    const run = new Function('document', 'localStorage', 'matchMedia', script!);
    const stored = [undefined, ...THEME_CHOICES, 'bogus'];
    const sizes = [undefined, 'normal', 'large', 'largest', 'huge'];
    for (const theme of stored) {
      for (const size of sizes) {
        for (const dark of [false, true]) {
          for (const moreContrast of [false, true]) {
            const values: Record<string, string> = {};
            if (theme) values[THEME_KEY] = theme;
            if (size) values[TEXT_SIZE_KEY] = size;
            const matchMedia = (query: string) => ({
              matches: query.includes('dark') ? dark : query.includes('contrast') && moreContrast,
            });
            const root = fakeRoot();
            run({ documentElement: root }, storage(values), matchMedia);

            const expected = fakeRoot();
            applyAppearance(
              expected as unknown as HTMLElement,
              readThemeChoice(storage(values)),
              readTextSize(storage(values)),
              { dark, moreContrast },
            );
            expect(root.attributes).toEqual({
              'data-theme': expected.dataset.theme,
              'data-text-size': expected.dataset.textSize,
            });
          }
        }
      }
    }
  });
});
