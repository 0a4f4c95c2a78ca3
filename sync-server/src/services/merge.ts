/**
 * The merge rules of sync (DESIGN 4), pure: no database, no clock.
 *
 * Records are compared field by field at the top level; a field's value is compared whole (deep
 * JSON equality, key order ignored), so two edits inside the same nested object (e.g. `vitals`)
 * overlap even when they touch different sub-fields. The meta fields the server owns
 * (`version`, `updatedAt`, `updatedBy`) are ignored.
 */

export type RecordData = Record<string, unknown>;

/** Fields the server sets on every write; never a reason to merge or conflict. */
export const META_FIELDS: ReadonlySet<string> = new Set(['version', 'updatedAt', 'updatedBy']);

/** Deep equality of JSON values; object key order is ignored, and a missing key equals undefined. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k in ao) if (ao[k] !== undefined && !jsonEqual(ao[k], bo[k])) return false;
  for (const k in bo) if (bo[k] !== undefined && !(k in ao && ao[k] !== undefined)) return false;
  return true;
}

/** A record's tombstone flag; a missing flag means not deleted. */
export const isDeleted = (r: RecordData | null): boolean => r?.deleted === true;

const valueOf = (r: RecordData, key: string): unknown =>
  key === 'deleted' ? r.deleted === true : r[key];

function contentKeys(...rs: RecordData[]): Set<string> {
  const keys = new Set<string>();
  for (const r of rs) for (const k in r) if (!META_FIELDS.has(k)) keys.add(k);
  keys.add('deleted');
  return keys;
}

/** The content fields where `a` and `b` differ (meta fields ignored, `deleted` compared as a flag). */
export function changedFields(a: RecordData, b: RecordData): string[] {
  const out: string[] = [];
  for (const k of contentKeys(a, b)) if (!jsonEqual(valueOf(a, k), valueOf(b, k))) out.push(k);
  return out;
}

export type MergeResult =
  | { kind: 'merged'; record: RecordData }
  | {
      kind: 'conflict';
      /** The server's record with the device's non-overlapping changes merged in. */
      record: RecordData;
      /** Overlapping fields: both sides changed them, to different values. */
      fields: string[];
    };

/**
 * Three-way merge of a device's edit into the server's record.
 *
 * - `base`: the version the device started from, or null when unknown (a record the device made
 *   whose id the server already holds, or a base the server lacks): every field then counts as
 *   changed on both sides, so only differing values conflict.
 * - Each side's changes are the fields where it differs from base. A field changed on one side
 *   only takes that side's value; changed on both to the same value is no conflict; changed on
 *   both to different values is a conflict and keeps the server's value.
 * - Deletes: a delete (the `deleted` flag turned on) against any content change of the other side
 *   is a conflict on `deleted`, whichever side deleted: the server's flag is kept. Delete against
 *   delete is no conflict.
 * - The device's non-overlapping changes are merged even when there is a conflict, so no edit of
 *   the device is lost: the overlapping values are what the caller stores in the conflict.
 *
 * Meta fields of the result are the server's; the caller sets them when it writes.
 */
export function merge(
  base: RecordData | null,
  server: RecordData,
  device: RecordData,
): MergeResult {
  const b = base ?? {};
  const keys = contentKeys(b, server, device);
  const serverChanged = new Set<string>();
  const deviceChanged = new Set<string>();
  for (const k of keys) {
    const bv = valueOf(b, k);
    if (!jsonEqual(valueOf(server, k), bv)) serverChanged.add(k);
    if (!jsonEqual(valueOf(device, k), bv)) deviceChanged.add(k);
  }
  const overlap = new Set<string>();
  for (const k of deviceChanged) {
    if (serverChanged.has(k) && !jsonEqual(valueOf(server, k), valueOf(device, k))) overlap.add(k);
  }
  const baseDeleted = isDeleted(b);
  const hasOtherThanDeleted = (s: Set<string>) => s.size > (s.has('deleted') ? 1 : 0);
  // A delete on one side against content changes on the other.
  if (!baseDeleted && isDeleted(device) && !isDeleted(server) && hasOtherThanDeleted(serverChanged))
    overlap.add('deleted');
  if (!baseDeleted && isDeleted(server) && !isDeleted(device) && hasOtherThanDeleted(deviceChanged))
    overlap.add('deleted');

  const record: RecordData = { ...server };
  for (const k of deviceChanged) {
    if (overlap.has(k)) continue;
    const v = valueOf(device, k);
    if (v === undefined) delete record[k];
    else record[k] = v;
  }
  if (overlap.size === 0) return { kind: 'merged', record };
  return { kind: 'conflict', record, fields: [...overlap].sort() };
}

export type PolicyTable =
  | 'patients'
  | 'encounters'
  | 'diagnoses'
  | 'reports'
  | 'reviews'
  | 'attachments'
  | 'comments'
  | 'followups';

/** Tables whose records, once saved, never change (and are never deleted). */
const APPEND_ONLY: ReadonlySet<PolicyTable> = new Set(['reviews', 'comments']);

export type PolicyVerdict =
  | { kind: 'ok' }
  /** The write would change nothing the policy allows to change: answer with the current version. */
  | { kind: 'unchanged' }
  | { kind: 'reject'; code: 'immutable' | 'append_only'; reason: string };

/** Fields of a saved diagnosis that may still change. */
const DIAGNOSIS_MUTABLE = new Set(['assessment', 'deleted']);

/**
 * Per-table rules that hold whatever the versions: `current` is the server's record (null when
 * new), `device` the pushed record (with `deleted` already set for a delete).
 *
 * - diagnoses: once saved, only `assessment` may change (and the record may be deleted or brought
 *   back); any other changed field rejects the whole mutation.
 * - reviews and comments: append-only. A new one is accepted (not as a tombstone); the same review pushed
 *   again with identical content is `unchanged`; any change or delete of a saved one is rejected.
 */
export function checkPolicy(
  table: PolicyTable,
  current: RecordData | null,
  device: RecordData,
): PolicyVerdict {
  if (table === 'diagnoses' && current) {
    const changed = changedFields(current, device).filter((k) => !DIAGNOSIS_MUTABLE.has(k));
    if (changed.length > 0) {
      return {
        kind: 'reject',
        code: 'immutable',
        reason: `a saved diagnosis is immutable apart from its assessment (changed: ${changed.join(', ')})`,
      };
    }
  }
  if (APPEND_ONLY.has(table)) {
    if (!current) {
      if (isDeleted(device)) {
        return { kind: 'reject', code: 'append_only', reason: `${table} cannot be deleted` };
      }
      return { kind: 'ok' };
    }
    if (changedFields(current, device).length === 0) return { kind: 'unchanged' };
    return {
      kind: 'reject',
      code: 'append_only',
      reason: isDeleted(device)
        ? `${table} cannot be deleted`
        : `${table} are append-only: a saved one cannot be changed`,
    };
  }
  return { kind: 'ok' };
}
