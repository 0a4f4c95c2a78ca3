import { newMeta, type Attachment, type Author } from '$lib/domain/records';
import { blobOf, type BlobRow, type FieldDxDatabase } from './database';
import { guardQuota } from './errors';
import { newId, writeRecord } from './records';

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Keeps an image with a patient: the bytes once per content (blobs, by sha256) and the metadata
 * as a synced attachment record, in one transaction.
 */
export async function saveAttachment(
  db: FieldDxDatabase,
  patientId: string,
  blob: Blob,
  size: { width: number | null; height: number | null },
  author: Author,
  now = new Date(),
): Promise<Attachment> {
  const sha256 = await sha256Hex(blob);
  const attachment: Attachment = {
    ...newMeta(newId(), author, now),
    patientId,
    sha256,
    mime: blob.type || 'application/octet-stream',
    bytes: blob.size,
    width: size.width,
    height: size.height,
  };
  // Read before the transaction: IndexedDB commits a transaction that awaits anything else.
  const row = await blobRow(sha256, blob);
  return guardQuota(() =>
    db.transaction('rw', [db.blobs, db.attachments, db.outbox, db.pushedVersions], async () => {
      if ((await db.blobs.where('sha256').equals(sha256).count()) === 0) await db.blobs.put(row);
      return writeRecord(db, 'attachments', attachment);
    }),
  );
}

/** An image as the blobs table keeps it (sealed by the database's middleware). */
export async function blobRow(sha256: string, blob: Blob): Promise<BlobRow> {
  return {
    sha256,
    bytes: new Uint8Array(await blob.arrayBuffer()),
    mime: blob.type || 'application/octet-stream',
  };
}

export async function getAttachmentBlob(
  db: FieldDxDatabase,
  sha256: string,
): Promise<Blob | undefined> {
  const row = await db.blobs.get(sha256);
  return row ? blobOf(row) : undefined;
}

/** Whether the device holds an image's bytes (a key read: no decryption). */
export async function hasBlob(db: FieldDxDatabase, sha256: string): Promise<boolean> {
  return (await db.blobs.where('sha256').equals(sha256).count()) > 0;
}

export function getAttachment(db: FieldDxDatabase, id: string) {
  return db.attachments.get(id);
}

/**
 * An attachment's bytes: from this device, or downloaded on demand (then verified against the
 * hash and kept for offline use). `download` is the sync transport's blob fetch.
 */
export async function loadAttachmentBlob(
  db: FieldDxDatabase,
  sha256: string,
  download: (sha256: string) => Promise<Blob>,
): Promise<Blob> {
  const local = await getAttachmentBlob(db, sha256);
  if (local) return local;
  const blob = await download(sha256);
  if ((await sha256Hex(blob)) !== sha256) {
    throw new Error('The downloaded image does not match its fingerprint; it was not kept.');
  }
  const row = await blobRow(sha256, blob);
  await guardQuota(() => db.blobs.put(row));
  return blob;
}

/** Downloads every image of this device's records that is not here yet (for a day offline). */
export async function downloadAllAttachments(
  db: FieldDxDatabase,
  download: (sha256: string) => Promise<Blob>,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<number> {
  const wanted = new Set(
    (await db.attachments.toArray()).filter((a) => !a.deleted).map((a) => a.sha256),
  );
  const missing: string[] = [];
  for (const sha256 of wanted) if (!(await hasBlob(db, sha256))) missing.push(sha256);
  for (const [index, sha256] of missing.entries()) {
    await loadAttachmentBlob(db, sha256, download);
    onProgress(index + 1, missing.length);
  }
  return missing.length;
}
