import type { Mutation, PushRequest, PushResponse } from 'sync-server/protocol';
import { ApiError } from '$lib/api/errors';
import { blobOf, type FieldDxDatabase, type OutboxRow } from '$lib/db/database';
import {
  applyPullPage,
  applyPushResults,
  dropForReset,
  readAcked,
  readCursor,
  type PushOutcome,
} from './apply';
import { PullPages } from './pages';
import { downloadTotal, type SyncProgress } from './progress';
import type { SyncTransport } from './transport';

export type { SyncProgress } from './progress';

/**
 * Mutations per push (the server takes at most 3,000 and 5 MiB). Each request costs a round trip,
 * a transaction on both sides and the pipeline's turn-around: 3,000 took a 10,000-record push from
 * ~1.20 to ~1.07 s on loopback (1,000: 10 requests). On a slow uplink a cut request is sent again
 * whole, so PUSH_MAX_BYTES bounds what a cut can waste (about 0.5 MB gzip-encoded).
 */
export const PUSH_BATCH = 3000;
/** Bytes of UTF-8 JSON per push: the server takes 5 MiB; the rest is room for the envelope. */
export const PUSH_MAX_BYTES = 4 * 1024 * 1024;
/** The server's largest page: fewer round trips and transactions on the device. */
export const PULL_PAGE = 1000;
/**
 * Pages downloaded ahead of storing (about 1 MB each at most). Storing several pages in one
 * transaction is also cheaper for IndexedDB than one transaction each.
 */
export const PULL_PAGES_AHEAD = 5;
/** Images uploaded at once: each costs the server a file write, so a few overlap well. */
const BLOB_UPLOADS_AT_ONCE = 3;

export interface SyncSummary extends PushOutcome {
  pushed: number;
  pulled: number;
  bytesUp: number;
  bytesDown: number;
}

/** This installation's id, made once; the server remembers each push by (device, mutation). */
export async function deviceId(db: FieldDxDatabase): Promise<string> {
  const stored = (await db.syncState.get('deviceId'))?.value;
  if (typeof stored === 'string') return stored;
  const id = crypto.randomUUID();
  await db.syncState.put({ key: 'deviceId', value: id });
  return id;
}

/** An outbox row as the push protocol carries it. */
export function toWireMutation(row: OutboxRow): Mutation {
  return {
    mutationId: row.mutationId,
    table: row.table,
    id: row.recordId,
    baseVersion: row.baseVersion,
    op: row.op,
    data: row.data,
    ...(row.resolvesConflictId ? { resolvesConflictId: row.resolvesConflictId } : {}),
  };
}

/**
 * The JSON of each row's wire mutation, made once: nextBatch measures it against the size limit and
 * pushBody joins it into the request (serialising 10,000 records twice cost ~50 ms of a push).
 */
const wireJson = new WeakMap<OutboxRow, string>();
function wireJsonOf(row: OutboxRow): string {
  let json = wireJson.get(row);
  if (json === undefined) wireJson.set(row, (json = JSON.stringify(toWireMutation(row))));
  return json;
}

// JSON text holds no raw control characters: anything outside space..U+007F is not ASCII.
const NON_ASCII = /[^ -\u007f]/;

const utf8 = new TextEncoder();
const SCRATCH_MAX = 1024 * 1024;
let scratch = new Uint8Array(0);
/**
 * Bytes of a string in UTF-8 (the server's limit is in bytes). Most records are ASCII; an
 * accented one is encoded into a reused buffer (allocating a copy of each cost ~50 ms of a
 * 10,000-record push, and a JavaScript loop over its characters ~40).
 */
export function utf8Bytes(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  // At most 3 bytes per UTF-16 unit (a surrogate pair's 4 bytes are 2 per unit). A record is
  // at most 256 KiB; anything larger is encoded on its own rather than kept as a buffer.
  const most = text.length * 3;
  if (most > SCRATCH_MAX) return utf8.encode(text).byteLength;
  if (scratch.length < most) scratch = new Uint8Array(most);
  return utf8.encodeInto(text, scratch).written;
}

/** The JSON of a push of these rows: JSON.stringify of the request, from each row's wire JSON. */
export function pushBody(deviceId: string, batch: readonly OutboxRow[]): string {
  return `{"deviceId":${JSON.stringify(deviceId)},"mutations":[${batch.map(wireJsonOf).join(',')}]}`;
}

/**
 * The next batch of the outbox after the row `after` (a seq), oldest first, within the server's
 * count and size limits.
 */
export async function nextBatch(db: FieldDxDatabase, after = 0): Promise<OutboxRow[]> {
  const batch: OutboxRow[] = [];
  let bytes = 0;
  // Pages of the primary key (one IndexedDB request each). Rejected rows wait for the user and
  // are passed over; the batch stops at the first row that does not fit, to keep the edits' order.
  for (;;) {
    const rows = await db.outbox.where('seq').above(after).limit(PUSH_BATCH).toArray();
    if (rows.length === 0) return batch;
    for (const row of rows) {
      if (row.rejected) continue;
      const size = utf8Bytes(wireJsonOf(row));
      if (batch.length > 0 && bytes + size > PUSH_MAX_BYTES) return batch;
      bytes += size;
      batch.push(row);
      if (batch.length === PUSH_BATCH) return batch;
    }
    after = rows[rows.length - 1]!.seq!;
  }
}

/**
 * One sync: drain the outbox in order (each attachment's bytes before its record), then pull
 * pages until the server has no more. Throws on the first failure; what was acknowledged before
 * it stays acknowledged, and a retry resumes.
 */
export async function syncOnce(
  db: FieldDxDatabase,
  transport: SyncTransport,
  onProgress: (progress: SyncProgress) => void = () => {},
): Promise<SyncSummary> {
  try {
    return await syncAs(db, transport, onProgress, await deviceId(db));
  } catch (error) {
    // The id is another user's (an install from before ids were renewed on a user switch): the
    // server accepted nothing under it from this user, so the next sync starts with a new one.
    if (error instanceof ApiError && error.code === 'device_in_use') {
      await db.syncState.delete('deviceId');
    }
    // A cursor the server never gave (restored from a backup older than this device's last
    // pull): the next sync downloads everything again; records are applied only when newer.
    if (error instanceof ApiError && error.code === 'invalid_cursor') {
      await db.syncState.bulkPut([
        { key: 'cursor', value: 0 },
        // The device's store may be older than its answers (a restore): take nothing as held.
        { key: 'acked', value: 0 },
      ]);
    }
    throw error;
  }
}

async function syncAs(
  db: FieldDxDatabase,
  transport: SyncTransport,
  onProgress: (progress: SyncProgress) => void,
  device: string,
): Promise<SyncSummary> {
  const summary: SyncSummary = {
    applied: 0,
    merged: 0,
    conflicts: 0,
    rejected: [],
    pushed: 0,
    pulled: 0,
    bytesUp: 0,
    bytesDown: 0,
  };

  await pushOutbox(db, transport, device, summary, onProgress);

  // Downloads overlap storing; the pages that arrived meanwhile are stored in one transaction.
  // The device's own writes it recorded from push answers are left out (docs/sync-no-echo.md);
  // after a reset nothing is (the records were dropped).
  let acked = await readAcked(db);
  // The first page of each download says how many records are still to come (counting costs the
  // server a walk of everything after the cursor: once, not per page).
  let counted = false;
  const fetchPage = (from: number) => {
    const first = !counted;
    counted = true;
    return transport.pull(device, from, PULL_PAGE, acked, first);
  };
  let downloaded = 0;
  let total: number | null = null;
  let cursor = await readCursor(db);
  let pages = new PullPages(fetchPage, cursor, PULL_PAGES_AHEAD);
  try {
    for (let batch = await pages.take(); batch.length > 0; batch = await pages.take()) {
      const resetAt = batch.findIndex((page) => page.reset);
      const toStore = resetAt === -1 ? batch : batch.slice(0, resetAt);
      if (toStore.length > 0) {
        const changes = toStore.flatMap((page) => page.changes);
        cursor = toStore[toStore.length - 1]!.cursor;
        await applyPullPage(db, changes, cursor);
        summary.pulled += changes.length;
        for (const page of toStore) {
          summary.bytesDown += JSON.stringify(page.changes).length;
          total = downloadTotal(total, downloaded, page);
          downloaded += page.changes.length;
        }
        onProgress({ phase: 'download', done: downloaded, total, bytes: summary.bytesDown });
      }
      if (resetAt !== -1) {
        // The user's teams or roles changed: what they may see now is downloaded again from the
        // start, and what they may no longer see leaves the device.
        if (cursor === 0)
          throw new Error('The server asked to restart a download that had just started.');
        pages.stop();
        await dropForReset(db);
        cursor = 0;
        acked = 0;
        counted = false;
        downloaded = 0;
        total = null;
        pages = new PullPages(fetchPage, cursor, PULL_PAGES_AHEAD);
      }
    }
  } finally {
    pages.stop();
  }
  await db.syncState.put({ key: 'lastSuccessAt', value: new Date().toISOString() });
  return summary;
}

/**
 * Drains the outbox in order, one batch per request. While the server works on a batch the next
 * one is read, and while it travels the answer to the one before is recorded (one transaction
 * after the other, in order). Reading ahead, an edit that the previous answer then rebases is sent
 * as read: the server merges it against the same base, so nothing is lost (see sync.test.ts).
 */
async function pushOutbox(
  db: FieldDxDatabase,
  transport: SyncTransport,
  device: string,
  summary: SyncSummary,
  onProgress: (progress: SyncProgress) => void,
) {
  // The same figure as the status bar's "waiting" (refused edits included): a native count,
  // where reading every row to leave the few refused ones out cost ~150 ms per 10,000.
  const waiting = await db.outbox.count();
  const record = async (
    sent: OutboxRow[],
    { results, cursorAdvance }: PushResponse,
    bytes: number,
  ) => {
    const outcome = await applyPushResults(db, sent, results, cursorAdvance);
    summary.applied += outcome.applied;
    summary.merged += outcome.merged;
    summary.conflicts += outcome.conflicts;
    summary.rejected.push(...outcome.rejected);
    summary.pushed += sent.length;
    summary.bytesUp += bytes;
    onProgress({
      phase: 'upload',
      done: summary.pushed,
      total: Math.max(waiting, summary.pushed),
      bytes: summary.bytesUp,
    });
  };
  /** A batch read from the outbox and its request, encoded once (JSON, and gzip by the transport). */
  const outgoing = async (after?: number) => {
    const batch = await nextBatch(db, after);
    const request: PushRequest = { deviceId: device, mutations: batch.map(toWireMutation) };
    const text = batch.length > 0 ? pushBody(device, batch) : '';
    if (batch.length > 0) transport.prepare?.(request, text);
    return { batch, request, bytes: text.length };
  };
  let recording: Promise<void> = Promise.resolve();
  try {
    for (let next = await outgoing(); next.batch.length > 0;) {
      const { batch, request, bytes } = next;
      const images = batch.filter((row) => row.table === 'attachments' && row.op === 'put');
      for (let i = 0; i < images.length; i += BLOB_UPLOADS_AT_ONCE) {
        const group = images.slice(i, i + BLOB_UPLOADS_AT_ONCE);
        await Promise.all(group.map((row) => uploadBlob(db, transport, row, summary)));
      }
      const answer = transport.push(request);
      const lastSeq = batch[batch.length - 1]!.seq;
      // The next batch is read and encoded while this one travels and the server applies it.
      const following = outgoing(lastSeq);
      following.catch(() => {}); // awaited below, or dropped when this push fails
      const answered = await answer;
      recording = recording.then(() => record(batch, answered, bytes));
      recording.catch(() => {}); // awaited below or in finally
      next = await following;
      if (next.batch.length === 0) {
        // Edits made during the last push (and rebased by its answer) come after what was read.
        await recording;
        next = await outgoing(lastSeq);
      }
    }
  } finally {
    await recording;
  }
}

async function uploadBlob(
  db: FieldDxDatabase,
  transport: SyncTransport,
  row: OutboxRow,
  summary: SyncSummary,
) {
  const sha256 = row.data.sha256 as string;
  const stored = await db.blobs.get(sha256);
  // Without its bytes the record would point at nothing on the server: the push then fails here
  // and the clinician sees why (this happens only if the device lost the blob).
  if (!stored) throw new Error(`The image ${sha256.slice(0, 8)}… is missing on this device.`);
  const blob = blobOf(stored);
  await transport.putBlob(sha256, blob, row.data.teamId as string);
  summary.bytesUp += blob.size;
}
