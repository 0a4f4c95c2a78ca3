import { afterEach, describe, expect, it } from 'vitest';
import { baseLocale, overwriteGetLocale } from '$lib/paraglide/runtime';
import { progressAnnouncement } from './announce';
import { announcedFraction, fractionDone } from './progress';

describe('progress', () => {
  afterEach(() => overwriteGetLocale(() => baseLocale));

  it('is a fraction of a known total, clamped; unknown without a total', () => {
    expect(fractionDone({ done: 1200, total: 10_000 })).toBe(0.12);
    expect(fractionDone({ done: 12, total: 10 })).toBe(1);
    expect(fractionDone({ done: 3, total: null })).toBeNull();
    expect(fractionDone({ done: 0, total: 0 })).toBeNull();
  });

  it('tells a screen reader the start, each quarter and the end only, however many steps', () => {
    const said = new Set<string>();
    for (let done = 0; done <= 10_000; done += 7) {
      said.add(progressAnnouncement('Download of X', { done, total: 10_000 }));
    }
    said.add(progressAnnouncement('Download of X', { done: 10_000, total: 10_000 }));
    expect([...said]).toEqual([
      'Download of X: 0% done',
      'Download of X: 25% done',
      'Download of X: 50% done',
      'Download of X: 75% done',
      'Download of X: 100% done',
    ]);
    expect(announcedFraction({ done: 2499, total: 10_000 })).toBe(0);
    expect(announcedFraction({ done: 5, total: null })).toBeNull();
    // With no total it names the work alone, and so says it once.
    expect(progressAnnouncement('Download of X', { done: 5, total: null })).toBe('Download of X');
  });

  it('writes the percentage the language’s way', () => {
    overwriteGetLocale(() => 'fr');
    expect(progressAnnouncement('Téléchargement', { done: 1, total: 2 })).toBe(
      'Téléchargement : 50\u00a0% effectués',
    );
  });
});
