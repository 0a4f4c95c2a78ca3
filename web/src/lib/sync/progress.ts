import type { PullResponse } from 'sync-server/protocol';
import type { Progress } from '$lib/progress/progress';

/** Where a sync is: pushing the outbox, or pulling the server's changes. */
export interface SyncProgress extends Progress {
  phase: 'upload' | 'download';
  /** Bytes sent or received so far in this phase. */
  bytes: number;
}

/**
 * The number of records a download brings in all, after one more page: `doneBefore` records were
 * stored before it, `known` is the total learnt so far (null: none yet).
 *
 * The server says how many are still to come on the first page of a sync (`remaining`, asked with
 * `remaining=1`); a server from before that field says nothing, and the total stays unknown until
 * the last page. `remaining` is an upper bound (the device's own writes it already holds are
 * counted, not sent), so the last page sets the total to what came; records written meanwhile by
 * others can make more come than announced, so the total never falls below what is done.
 */
export function downloadTotal(
  known: number | null,
  doneBefore: number,
  page: Pick<PullResponse, 'changes' | 'hasMore' | 'remaining'>,
): number | null {
  const done = doneBefore + page.changes.length;
  if (!page.hasMore) return done;
  if (known !== null) return Math.max(known, done);
  return page.remaining === undefined ? null : done + page.remaining;
}
