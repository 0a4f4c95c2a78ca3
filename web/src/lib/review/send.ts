import type { FieldDxDatabase } from '$lib/db/database';
import { sendStates } from '$lib/db/review';
import { syncStatus } from '$lib/sync/status.svelte';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the reviews, comments and follow-ups waiting on this device now, for a supervisor at a
 * desk: a sync already running (the one at start, or another tab's) is waited for, then another
 * runs. True when nothing waits any more; false when the server cannot be reached (it all stays
 * in the outbox, shown as waiting, and goes with a later sync).
 */
export async function sendReviewWork(db: FieldDxDatabase, timeoutMs = 20_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const states = await sendStates(db, ['reviews', 'comments', 'followups']);
    if (![...states.values()].some((s) => s.kind === 'waiting')) return true;
    if (syncStatus.running) {
      await pause(150);
      continue;
    }
    await syncStatus.syncNow();
    if (syncStatus.lastError && !syncStatus.running) return false;
    await pause(50);
  }
  return false;
}
