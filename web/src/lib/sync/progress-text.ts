import { formatMeasure, formatNumber, formatPercent } from '$lib/i18n/format';
import { m } from '$lib/paraglide/messages';
import { announcedFraction } from '$lib/progress/progress';
import type { SyncProgress } from './progress';

/** What the sync bar shows while a sync runs: "Downloading 1,200 of 10,000 records (850 kB)…". */
export function syncProgressText(progress: SyncProgress): string {
  const kb = formatMeasure(Math.round(progress.bytes / 1024), 'kB');
  const done = formatNumber(progress.done);
  if (progress.total === null) return m.sync_downloading({ count: progress.done, done, kb });
  const words = { count: progress.total, done, total: formatNumber(progress.total), kb };
  return progress.phase === 'upload' ? m.sync_uploading(words) : m.sync_downloading_of(words);
}

/**
 * What a screen reader is told (a polite live region): the same words from one quarter to the
 * next, so it speaks at the start and at each quarter, not at every page.
 */
export function syncProgressAnnouncement(progress: SyncProgress): string {
  const step = announcedFraction(progress);
  if (step === null || progress.total === null) return m.sync_announce_download_unknown();
  const words = {
    count: progress.total,
    total: formatNumber(progress.total),
    percent: formatPercent(step),
  };
  return progress.phase === 'upload'
    ? m.sync_announce_upload(words)
    : m.sync_announce_download(words);
}
