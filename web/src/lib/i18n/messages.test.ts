import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from 'sync-server/protocol';
import { SERVER_ERROR_MESSAGES } from './server-errors';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const settings = JSON.parse(readFileSync(`${root}project.inlang/settings.json`, 'utf8')) as {
  baseLocale: string;
  locales: string[];
};
const read = (locale: string) =>
  JSON.parse(readFileSync(`${root}messages/${locale}.json`, 'utf8')) as Record<string, unknown>;
const keys = (messages: Record<string, unknown>) =>
  Object.keys(messages).filter((key) => key !== '$schema');

/** The {placeholders} a message uses, in any of its plural variants. */
function placeholders(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))].sort();
}

describe('messages', () => {
  const base = read(settings.baseLocale);

  it('has one file per language of the project, and no file for a language it does not list', () => {
    const files = readdirSync(`${root}messages`)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.replace(/\.json$/, ''))
      .sort();
    expect(files).toEqual([...settings.locales].sort());
  });

  for (const locale of settings.locales.filter((l) => l !== settings.baseLocale)) {
    it(`${locale} has every message of ${settings.baseLocale}, and no other`, () => {
      const translated = read(locale);
      expect(keys(base).filter((key) => !(key in translated))).toEqual([]);
      expect(keys(translated).filter((key) => !(key in base))).toEqual([]);
    });

    it(`${locale} messages use the same placeholders as ${settings.baseLocale}`, () => {
      const translated = read(locale);
      const differ = keys(base).filter(
        (key) =>
          key in translated &&
          placeholders(base[key]).join() !== placeholders(translated[key]).join(),
      );
      expect(differ).toEqual([]);
    });

    it(`${locale} has no empty message`, () => {
      const translated = read(locale);
      expect(keys(translated).filter((key) => JSON.stringify(translated[key]) === '""')).toEqual(
        [],
      );
    });
  }

  it('has a message for every error code the server answers with', () => {
    expect(ErrorCode.options.filter((code) => !(code in SERVER_ERROR_MESSAGES))).toEqual([]);
  });
});
