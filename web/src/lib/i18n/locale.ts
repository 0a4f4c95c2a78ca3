/**
 * The app's language: Paraglide's runtime decides it (the choice made in Settings on this device,
 * else the browser's language, else English) and the messages in web/messages follow it.
 * Changing it reloads the page so every screen, including ones already rendered, is in the new
 * language.
 */
import { baseLocale, getLocale, locales, setLocale, type Locale } from '$lib/paraglide/runtime';

export { baseLocale, getLocale, locales, type Locale };

export function isLocale(value: string): value is Locale {
  return (locales as readonly string[]).includes(value);
}

/** A language's name in that language ("Français"), so each reader finds their own. */
export function languageName(locale: Locale): string {
  const name = new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;
  return name.charAt(0).toLocaleUpperCase(locale) + name.slice(1);
}

export function chooseLocale(locale: Locale): void {
  void setLocale(locale);
}
