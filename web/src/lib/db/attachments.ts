import { newMeta, type Attachment, type Author } from '$lib/domain/records';
import type { FieldDxDatabase } from './database';
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
  return guardQuota(() =>
    db.transaction('rw', [db.blobs, db.attachments, db.outbox], async () => {
      if (!(await db.blobs.get(sha256))) await db.blobs.put({ sha256, blob });
      return writeRecord(db, 'attachments', attachment);
    }),
  );
}

export async function getAttachmentBlob(
  db: FieldDxDatabase,
  sha256: string,
): Promise<Blob | undefined> {
  return (await db.blobs.get(sha256))?.blob;
}

export function getAttachment(db: FieldDxDatabase, id: string) {
  return db.attachments.get(id);
}
