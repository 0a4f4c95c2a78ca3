/**
 * How far a long piece of work is (sync, first download, model update, image download), as the
 * screens show it: "1,200 of 10,000 records", a progress bar, and a few words for screen readers.
 * `total` is null while nobody knows it (a server that does not say): the bar is then indeterminate
 * and the words say what is done, never a made-up "of N".
 */
export interface Progress {
  done: number;
  total: number | null;
}

/** Done as a fraction of the total (0–1), or null when the total is not known. */
export function fractionDone({ done, total }: Progress): number | null {
  if (total === null || total <= 0) return null;
  return Math.min(1, Math.max(0, done / total));
}

/** A screen reader hears the start, each quarter and the end: not every page or chunk. */
export const ANNOUNCED_STEPS = 4;

/**
 * The last quarter reached (0, 0.25, 0.5, 0.75, 1), or null when the total is not known. A live
 * region whose words depend on this alone changes, and so speaks, at most five times per piece of
 * work, however many pages or chunks it takes.
 */
export function announcedFraction(progress: Progress): number | null {
  const fraction = fractionDone(progress);
  return fraction === null ? null : Math.floor(fraction * ANNOUNCED_STEPS) / ANNOUNCED_STEPS;
}
