/**
 * The screen's look on this device: a colour theme and a text size, kept in localStorage (like the
 * language) so they hold offline and before anyone signs in. The inline script in app.html applies
 * the same choice before first paint; this module applies changes made in Settings and follows the
 * system while the theme is "System". appearance.test.ts keeps the two in step.
 */

export const THEME_CHOICES = ['system', 'light', 'dark', 'contrast'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];
/** What html[data-theme] holds: the palette the CSS applies. */
export type Theme = Exclude<ThemeChoice, 'system'>;

export const TEXT_SIZES = ['normal', 'large', 'largest'] as const;
export type TextSize = (typeof TEXT_SIZES)[number];

export const THEME_KEY = 'fielddx-theme';
export const TEXT_SIZE_KEY = 'fielddx-text-size';

export interface SystemPreferences {
  dark: boolean;
  moreContrast: boolean;
}

/**
 * The palette for a choice. "System" follows the device: dark when it asks for dark, the
 * high-contrast palette when it asks for more contrast, light otherwise.
 */
export function resolveTheme(choice: ThemeChoice, system: SystemPreferences): Theme {
  if (choice !== 'system') return choice;
  if (system.dark) return 'dark';
  return system.moreContrast ? 'contrast' : 'light';
}

function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;

/** Reads a stored value; storage can be unavailable (private mode): the default then. */
function read<T extends string>(
  storage: KeyValueStore | undefined,
  key: string,
  list: readonly T[],
) {
  try {
    const value = storage?.getItem(key);
    return isOneOf(list, value) ? value : list[0]!;
  } catch {
    return list[0]!;
  }
}

export function readThemeChoice(storage: KeyValueStore | undefined): ThemeChoice {
  return read(storage, THEME_KEY, THEME_CHOICES);
}

export function readTextSize(storage: KeyValueStore | undefined): TextSize {
  return read(storage, TEXT_SIZE_KEY, TEXT_SIZES);
}

export function systemPreferences(win: Pick<Window, 'matchMedia'>): SystemPreferences {
  return {
    dark: win.matchMedia('(prefers-color-scheme: dark)').matches,
    moreContrast: win.matchMedia('(prefers-contrast: more)').matches,
  };
}

/** Sets html[data-theme] and html[data-text-size], which the CSS in app.css reads. */
export function applyAppearance(
  root: HTMLElement,
  theme: ThemeChoice,
  textSize: TextSize,
  system: SystemPreferences,
): void {
  root.dataset.theme = resolveTheme(theme, system);
  root.dataset.textSize = textSize;
}

/** Keeps and applies a choice made in Settings. */
export function chooseAppearance(
  change: { theme?: ThemeChoice; textSize?: TextSize },
  win: Window = window,
): void {
  try {
    if (change.theme) win.localStorage.setItem(THEME_KEY, change.theme);
    if (change.textSize) win.localStorage.setItem(TEXT_SIZE_KEY, change.textSize);
  } catch {
    // Storage refused (private mode): the choice still applies until the page is reloaded.
  }
  applyAppearance(
    win.document.documentElement,
    change.theme ?? readThemeChoice(win.localStorage),
    change.textSize ?? readTextSize(win.localStorage),
    systemPreferences(win),
  );
}

/**
 * While the theme is "System", follows the device when it switches between light and dark (at
 * dusk, say) without a reload. Returns the function that stops following.
 */
export function followSystemTheme(win: Window = window): () => void {
  const queries = ['(prefers-color-scheme: dark)', '(prefers-contrast: more)'].map((q) =>
    win.matchMedia(q),
  );
  const reapply = () =>
    applyAppearance(
      win.document.documentElement,
      readThemeChoice(win.localStorage),
      readTextSize(win.localStorage),
      systemPreferences(win),
    );
  for (const query of queries) query.addEventListener('change', reapply);
  return () => {
    for (const query of queries) query.removeEventListener('change', reapply);
  };
}
