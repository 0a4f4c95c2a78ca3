import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findLiterals } from './literals';

const src = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Components not yet converted to messages: their words are still written in the markup. The list
 * only shrinks: convert a file, then remove it here (the test below fails while a listed file is
 * already clean, so the list stays true).
 */
const NOT_YET_CONVERTED = new Set<string>([]);

function svelteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'paraglide' ? [] : svelteFiles(path);
    return entry.name.endsWith('.svelte') ? [relative(src, path)] : [];
  });
}

describe('user-visible words come from messages', () => {
  const files = svelteFiles(src);

  it('finds words written in markup, attributes read aloud and strings shown from {…}', () => {
    const found = findLiterals(
      `<script>let done = $state(false);</script>
       <h1>Patients</h1><p>{m.x()}</p><input placeholder="Search" aria-label={m.y()} />
       <span>{done ? 'Saved' : m.saving()}</span><b class="agree">{count} · {'agree'}</b>
       <style>p { color: red; }</style>`,
    );
    expect(found.map((f) => f.text)).toEqual(['Patients', 'placeholder="Search"', "{'Saved'}"]);
  });

  for (const file of files.filter((f) => !NOT_YET_CONVERTED.has(f))) {
    it(`${file} shows no literal words`, () => {
      const literals = findLiterals(readFileSync(join(src, file), 'utf8'));
      expect(literals.map((l) => `${file}:${l.line} ${l.text}`)).toEqual([]);
    });
  }

  it('lists as not yet converted only files that exist and still have literal words', () => {
    const stale = [...NOT_YET_CONVERTED].filter(
      (file) =>
        !files.includes(file) || findLiterals(readFileSync(join(src, file), 'utf8')).length === 0,
    );
    expect(stale).toEqual([]);
  });
});
