import { formatPercent } from '$lib/i18n/format';
import { m } from '$lib/paraglide/messages';
import { announcedFraction, type Progress } from './progress';

/**
 * "Download of Pneumonia 2.1.0: 25% done", for a polite live region: its words change only at
 * each quarter (see announcedFraction), so a screen reader is not told every chunk. `what` names
 * the work; with no known total it alone is said.
 */
export function progressAnnouncement(what: string, progress: Progress): string {
  const step = announcedFraction(progress);
  return step === null ? what : m.progress_announce({ what, percent: formatPercent(step) });
}
