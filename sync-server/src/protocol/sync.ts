import { z } from 'zod';
import { Timestamp } from './common';

/**
 * Sync (DESIGN 4): push, pull, conflicts and blobs. A record on the wire is the device's synced
 * fields exactly as `web/src/lib/domain/records.ts` defines them (id, teamId, version, updatedAt,
 * updatedBy, deleted, plus the table's own fields).
 */

export const SYNC_TABLES = [
  'patients',
  'encounters',
  'diagnoses',
  'reports',
  'reviews',
  'attachments',
  'comments',
  'followups',
] as const;
export const SyncTable = z.enum(SYNC_TABLES, { error: `must be one of ${SYNC_TABLES.join(', ')}` });
export type SyncTable = z.infer<typeof SyncTable>;

/** At most this many mutations in one push. */
export const MAX_PUSH_MUTATIONS = 3000;
/** A push body may be this large (the other JSON routes allow 1 MiB). */
export const PUSH_BODY_LIMIT = 5 * 1024 * 1024;
/** One record's JSON may be this large (UTF-8 bytes): the largest of RECORD_LIMITS. */
export const MAX_RECORD_BYTES = 256 * 1024;

/**
 * Bounds per table on a record's JSON: size in UTF-8 bytes, and nesting depth (the record object
 * is depth 1). The app's records nest 3 deep at most (a diagnosis's explanation values); SQLite's
 * JSON functions stop at 1,000, and a pull must never fail on stored data. Diagnoses carry an
 * occlusion heatmap, hence their larger size.
 */
export const RECORD_LIMITS: Record<SyncTable, { maxBytes: number; maxDepth: number }> = {
  patients: { maxBytes: 64 * 1024, maxDepth: 8 },
  encounters: { maxBytes: 128 * 1024, maxDepth: 8 },
  diagnoses: { maxBytes: MAX_RECORD_BYTES, maxDepth: 8 },
  reports: { maxBytes: 128 * 1024, maxDepth: 8 },
  reviews: { maxBytes: 64 * 1024, maxDepth: 8 },
  attachments: { maxBytes: 64 * 1024, maxDepth: 8 },
  comments: { maxBytes: 64 * 1024, maxDepth: 8 },
  followups: { maxBytes: 64 * 1024, maxDepth: 8 },
};

/**
 * Whether `value` nests deeper than `max` objects/arrays, without recursion (a hostile record may
 * nest thousands deep) and stopping as soon as the answer is known.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
/** Largest blob PUT /api/blobs/:sha256 accepts. */
export const MAX_BLOB_BYTES = 25 * 1024 * 1024;
/** Pull page size: default and maximum. */
export const PULL_DEFAULT_LIMIT = 500;
export const PULL_MAX_LIMIT = 1000;
/**
 * A pull page also stops once its records reach this many bytes (a page always carries at least
 * one record, so a pull always makes progress): 1,000 records of 256 KB would be 256 MB.
 */
export const PULL_PAGE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * A pull page also stops after looking at this many rows, counting the device's own writes it
 * leaves out (`acked`): those cost no bytes, but the walk stays bounded. The cursor moves past them.
 */
export const PULL_MAX_EXAMINED = 20_000;
/** The header that names the device on GET requests (push carries `deviceId` in its body). */
export const DEVICE_ID_HEADER = 'x-device-id';
/** The header (or `?teamId=`) that names the team a blob upload belongs to. */
export const TEAM_ID_HEADER = 'x-team-id';

/** Made once per installation on the device (a UUID is fine). */
export const DeviceId = z
  .string({ error: 'is required' })
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 letters, digits, - or _');

const WireId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  // The ids are keys in the database, which on PostgreSQL cannot hold U+0000 (protocol/nul.ts).
  .refine((id) => !id.includes('\0'), 'must not contain a NUL character (U+0000)');

/** A record as JSON: a plain object. The server checks `id` and `teamId`; the rest is the device's. */
export const RecordData = z.record(z.string(), z.unknown(), { error: 'must be an object' });
export type RecordData = z.infer<typeof RecordData>;

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

/** One outbox row of the device. */
export const Mutation = z.object({
  mutationId: WireId,
  table: SyncTable,
  id: WireId,
  /** The server version the edit started from (0 = a record new on the device). */
  baseVersion: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be 0 or more'),
  op: z.enum(['put', 'delete'], { error: "must be 'put' or 'delete'" }),
  data: RecordData,
  /** Set on the edit that resolves a conflict the server reported; closes it when accepted. */
  resolvesConflictId: WireId.optional(),
});
export type Mutation = z.infer<typeof Mutation>;

export const PushRequest = z.object({
  deviceId: DeviceId,
  mutations: z
    .array(Mutation)
    .max(MAX_PUSH_MUTATIONS, `must hold at most ${MAX_PUSH_MUTATIONS} mutations`),
});
export type PushRequest = z.input<typeof PushRequest>;

/**
 * What the server parses a push with: only `deviceId` and each `mutationId` can fail the whole
 * request; every other problem of a mutation (unknown table, bad data, …) rejects that mutation
 * alone, with a reason, after `Mutation` checked it.
 */
export const PushEnvelope = z.object({
  deviceId: DeviceId,
  mutations: z
    .array(z.looseObject({ mutationId: WireId }), { error: 'must be an array' })
    .max(MAX_PUSH_MUTATIONS, `must hold at most ${MAX_PUSH_MUTATIONS} mutations`),
});

/** Why a mutation was rejected, for the client to branch on; `reason` says it in words. */
export const RejectCode = z.enum([
  'invalid', // the mutation or its data is malformed (unknown table, data.id ≠ id, too large, …)
  'forbidden', // outside the caller's scope or role
  'immutable', // a saved diagnosis changes anything but its assessment
  'append_only', // a review is changed or deleted
  'unknown_conflict', // resolvesConflictId names no conflict of this record
  'mutation_id_reused', // the (deviceId, mutationId) was used by another user
]);
export type RejectCode = z.infer<typeof RejectCode>;

export const MutationResult = z.discriminatedUnion('status', [
  /**
   * Written as sent: the record is now at `version`. `seq` (the write's change sequence) is given
   * only when the server stored exactly the device's record (no server-owned field changed it): the
   * device then holds the server's copy, records `version`, and may name `seq` in `acked` on its
   * pulls so that this write is not sent back to it (docs/sync-no-echo.md).
   */
  z.object({
    mutationId: z.string(),
    status: z.literal('applied'),
    version: z.number().int(),
    seq: z.number().int().optional(),
  }),
  /** The server had other changes; they and this edit did not overlap. `record` is the result. */
  z.object({
    mutationId: z.string(),
    status: z.literal('merged'),
    version: z.number().int(),
    record: RecordData,
  }),
  /**
   * The edit overlapped changes the device had not seen. `record` is the server's record, with the
   * device's non-overlapping changes merged in; the device's values of `fields` are kept in the
   * conflict `conflictId` (GET /api/sync/conflicts) for the clinician to resolve.
   */
  z.object({
    mutationId: z.string(),
    status: z.literal('conflict'),
    version: z.number().int(),
    record: RecordData,
    conflictId: z.string(),
    fields: z.array(z.string()),
  }),
  /** Nothing was written. */
  z.object({
    mutationId: z.string(),
    status: z.literal('rejected'),
    code: RejectCode,
    reason: z.string(),
  }),
]);
export type MutationResult = z.infer<typeof MutationResult>;

/** One result per mutation, in the order of the request. */
/**
 * Given when the push's writes, all stored exactly as sent, are the only changes the device's pull
 * would walk between `from` and `to`: a device whose pull cursor is at least `from` and below `to`
 * may move it to `to`, since it holds every one of them (docs/sync-no-echo.md, "Cursor advance").
 * An older server never sends it.
 */
export const CursorAdvance = z.object({
  from: z.number().int().min(0),
  to: z.number().int().min(0),
});
export type CursorAdvance = z.infer<typeof CursorAdvance>;

export const PushResponse = z.object({
  results: z.array(MutationResult),
  cursorAdvance: CursorAdvance.optional(),
});
export type PushResponse = z.infer<typeof PushResponse>;

const QueryInt = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `between ${min} and ${max}`;
  return z
    .string()
    .regex(/^\d{1,16}$/, `must be a whole number ${range}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be ${range}`).max(max, `must be ${range}`))
    .default(fallback);
};

/** GET /api/sync/pull?cursor=N&limit=500&acked=M (query strings). */
export const PullQuery = z.object({
  cursor: QueryInt(0, 0),
  limit: QueryInt(PULL_DEFAULT_LIMIT, 1, PULL_MAX_LIMIT),
  /**
   * The highest `seq` of an applied push answer this device has recorded (0: none). The pull
   * leaves out this device's own writes stored as sent at or below it, while they are still the
   * record's latest version: the device already holds them (docs/sync-no-echo.md).
   */
  acked: QueryInt(0, 0),
  /**
   * `1`: the answer also says how many records are still to come (`remaining`). A device asks on
   * the first page of a sync only: the count walks everything after the cursor. Servers before
   * this field ignore it.
   */
  remaining: z
    .enum(['0', '1'], { error: 'must be 0 or 1' })
    .optional()
    .transform((v) => v === '1'),
});
export type PullQuery = z.input<typeof PullQuery>;

export const PullChange = z.object({
  table: SyncTable,
  id: z.string(),
  version: z.number().int(),
  /** The server's sequence number of this change; pages are ordered by it. */
  seq: z.number().int(),
  deleted: z.boolean(),
  /** The whole record (a tombstone when deleted). */
  record: RecordData,
});
export type PullChange = z.infer<typeof PullChange>;

export const PullResponse = z.object({
  changes: z.array(PullChange),
  /** Store it with the page; the next pull sends it. */
  cursor: z.number().int(),
  hasMore: z.boolean(),
  /**
   * The caller's teams changed since this device's cursor was issued: no changes are sent; pull
   * again from cursor 0 (and drop local records of teams no longer listed by /api/auth/me).
   */
  reset: z.boolean(),
  /**
   * Asked with `remaining=1` (absent otherwise, and from servers before it): how many records of
   * the caller's scope come after this page, an upper bound (the device's own writes the pull
   * leaves out are counted; exact on a first download). 0 when `hasMore` is false; absent on a
   * reset. For progress only: the device still pulls until `hasMore` is false.
   */
  remaining: z.number().int().min(0).optional(),
});
export type PullResponse = z.infer<typeof PullResponse>;

export const Conflict = z.object({
  id: z.string(),
  table: SyncTable,
  recordId: z.string(),
  teamId: z.string(),
  deviceId: z.string(),
  userId: z.string(),
  /** The version the device's edit started from. */
  baseVersion: z.number().int(),
  /** The record's version right after the conflicting push: resolve with this as baseVersion. */
  serverVersion: z.number().int(),
  /** The fields both sides changed, to different values. */
  fields: z.array(z.string()),
  /** The device's record as it pushed it (its values of `fields` were not applied). */
  data: RecordData,
  createdAt: Timestamp,
});
export type Conflict = z.infer<typeof Conflict>;

export const ConflictListResponse = z.object({ conflicts: z.array(Conflict) });
export type ConflictListResponse = z.infer<typeof ConflictListResponse>;

export const BlobPutResponse = z.object({
  sha256: Sha256Hex,
  bytes: z.number().int(),
  mime: z.string(),
  /** False when the server already held the blob for this team (nothing was written). */
  created: z.boolean(),
});
export type BlobPutResponse = z.infer<typeof BlobPutResponse>;
