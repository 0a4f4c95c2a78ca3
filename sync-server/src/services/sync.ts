import type Database from 'better-sqlite3';
import { and, asc, eq, inArray, isNull, ne, or } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import {
  conflicts,
  devices,
  sessions,
  users,
  type ConflictRow,
  type DeviceRow,
} from '../db/schema';
import { ApiError } from '../errors';
import {
  Mutation,
  nestsDeeperThan,
  PULL_MAX_EXAMINED,
  PULL_PAGE_MAX_BYTES,
  RECORD_LIMITS,
  type Conflict,
  type MutationResult,
  type RejectCode,
  type SyncTable,
} from '../protocol';
import { writeAudit, type AuditAction } from './audit';
import { deviceRevoked } from './devices';
import { changedFields, checkPolicy, jsonEqual, merge, type RecordData } from './merge';
import {
  afterWrite,
  checkReviewSide,
  REVIEW_SIDE_TABLES,
  stampReviewSide,
  writeRight,
} from './review-index';
import { nextRevision } from './review-model';
import { canRead, type Scope } from './scope';

/*
 * Push and pull (DESIGN 4). A push is one IMMEDIATE transaction that applies its mutations in
 * order and stores each result under (deviceId, mutationId): a retried mutation gets the stored
 * result back and writes nothing, and a push cut short (crash, error) commits none of them.
 * Mutations write nothing before their last check, so a rejected one leaves no trace but its result. Every write takes the next number of one global sequence (max(seq) + 1 of
 * `records`, read inside the same transaction) and appends the new version to `record_history`.
 */

/** The result as stored; a merged/conflict record is read back from history on a retry. */
type StoredResult =
  /** `seq` only when the write stored the device's record exactly (see MutationResult). */
  | { status: 'applied'; version: number; seq?: number }
  | { status: 'merged'; table: SyncTable; id: string; version: number }
  | {
      status: 'conflict';
      table: SyncTable;
      id: string;
      version: number;
      conflictId: string;
      fields: string[];
    }
  | { status: 'rejected'; code: RejectCode; reason: string };

/** A row of `records` as the hot statements read it (columns named as in the drizzle schema). */
interface CurrentRow {
  teamId: string;
  version: number;
  deleted: 0 | 1;
  data: string;
}

interface PageRow {
  tableName: SyncTable;
  id: string;
  version: number;
  seq: number;
  deleted: 0 | 1;
  /** Null for the device's own acknowledged write, which the page leaves out (see pull()). */
  data: string | null;
}

/**
 * The statements of push and pull, prepared once per connection on the driver itself: drizzle's
 * per-call mapping was a visible share of a push in a profile of bench/sync.bench.ts. Table and
 * column names are those of src/db/schema.ts (records, record_history, applied_mutations, …).
 */
function prepare(db: Db) {
  // drizzle() returns the database with its driver as $client; the Db type leaves it out.
  const c = (db as Db & { $client: Database.Database }).$client;
  const statements = {
    getApplied: c.prepare<[string, string], { userId: string; result: string }>(
      'SELECT user_id AS userId, result FROM applied_mutations WHERE device_id = ? AND mutation_id = ?',
    ),
    insertApplied: c.prepare<[string, string, string, string, number]>(
      'INSERT INTO applied_mutations (device_id, mutation_id, user_id, result, at) VALUES (?, ?, ?, ?, ?)',
    ),
    getRecord: c.prepare<[string, string], CurrentRow>(
      'SELECT team_id AS teamId, version, deleted, data FROM records WHERE table_name = ? AND id = ?',
    ),
    getHistoryData: c.prepare<[string, string, number], { data: string }>(
      'SELECT data FROM record_history WHERE table_name = ? AND id = ? AND version = ?',
    ),
    /**
     * The latest version of a record that is a device's own edit as it sent it (applied without a
     * merge), or null.
     */
    latestAppliedAsSent: c
      .prepare<[string, string, string], number | null>(
        `SELECT max(h.version) FROM record_history h
         JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
         WHERE h.table_name = ? AND h.id = ? AND h.device_id = ?
           AND json_extract(a.result, '$.status') = 'applied'`,
      )
      .pluck(),
    maxSeq: c.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM records').pluck(),
    notePush: c.prepare<[number, string]>('UPDATE devices SET last_push_at = ? WHERE id = ?'),
    upsertRecord: c.prepare<
      [number, string, string, string, number, 0 | 1, number, string, string]
    >(
      `INSERT INTO records (seq, table_name, id, team_id, version, deleted, updated_at, updated_by, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (table_name, id) DO UPDATE SET seq = excluded.seq, version = excluded.version,
         deleted = excluded.deleted, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by, data = excluded.data`,
    ),
    insertHistory: c.prepare<
      [number, string, string, number, string, string, 0 | 1, number, string, string, string]
    >(
      `INSERT INTO record_history
         (seq, table_name, id, version, team_id, data, deleted, at, by, device_id, mutation_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getConflict: c.prepare<[string], { tableName: string; recordId: string }>(
      'SELECT table_name AS tableName, record_id AS recordId FROM conflicts WHERE id = ?',
    ),
    /**
     * The changes after a cursor: every table of the teams where the caller is a clinician (a JSON
     * array), and only the review-side tables of the teams they only supervise (another array), in
     * seq order: a walk of the rowid range after the cursor, stopping after `limit` matches. A row
     * at or below the device's `acked` whose latest write is that device's own push stored as sent
     * (its answer carried this very seq) comes without its data: the device already holds it.
     */
    pullPage: c.prepare<[number, string, number, string, string, number], PageRow>(
      `SELECT table_name AS tableName, id, version, seq, deleted,
         CASE WHEN seq <= ? AND EXISTS (
           SELECT 1 FROM record_history h
           JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
           WHERE h.seq = records.seq AND h.device_id = ?
             AND json_extract(a.result, '$.seq') = records.seq
         ) THEN NULL ELSE data END AS data
       FROM records
       WHERE seq > ?
         AND (team_id IN (SELECT value FROM json_each(?))
              OR (table_name IN ('reviews', 'comments', 'followups')
                  AND team_id IN (SELECT value FROM json_each(?))))
       ORDER BY seq LIMIT ?`,
    ),
    /** Whether a record pullPage would return (same arrays) has a seq at or after the cursor. */
    cursorKnown: c
      .prepare<[number, string, string], 1>(
        `SELECT 1 FROM records
         WHERE seq >= ?
           AND (team_id IN (SELECT value FROM json_each(?))
                OR (table_name IN ('reviews', 'comments', 'followups')
                    AND team_id IN (SELECT value FROM json_each(?))))
         LIMIT 1`,
      )
      .pluck(),
    insertConflict: (row: ConflictRow) => db.insert(conflicts).values(row).run(),
    resolveConflict: (id: string, at: Date, mutationId: string) =>
      db
        .update(conflicts)
        .set({ status: 'resolved', resolvedAt: at, resolvedByMutation: mutationId })
        .where(and(eq(conflicts.id, id), eq(conflicts.status, 'open')))
        .run(),
  };
  return {
    ...statements,
    db,
    /** A whole push in one IMMEDIATE transaction: one commit instead of one per mutation. */
    inTransaction: c.transaction(<T>(fn: () => T): T => fn()).immediate as <T>(fn: () => T) => T,
  };
}

type Statements = ReturnType<typeof prepare>;
const statementCache = new WeakMap<Db, Statements>();
function statements(db: Db): Statements {
  let s = statementCache.get(db);
  if (!s) statementCache.set(db, (s = prepare(db)));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Devices

/**
 * Registers the device on first sight and notes when it was last seen. A device id is bound to
 * the user who first used it: anyone else presenting it is refused (409 device_in_use), so nobody
 * who learns a device id can take it over and reset its owner's pulls. On a shared tablet the app
 * makes a new device id when another user signs in (web/src/lib/db/ownership.ts). A device last
 * used by a user who is now disabled or deleted, or revoked (services/devices.ts), is refused (403
 * device_revoked). Each contact is a sync: it notes when, the User-Agent's summary, and the session.
 */
export interface DeviceContact {
  /** The session syncing from it: revoking the device ends that session. */
  sessionId?: string;
  /** A short summary of the User-Agent (services/devices.ts userAgentSummary). */
  userAgent?: string | null;
}

export function touchDevice(
  db: Db,
  deviceId: string,
  userId: string,
  now: Date,
  contact: DeviceContact = {},
): DeviceRow {
  return db.transaction(
    (tx) => {
      const row = tx.select().from(devices).where(eq(devices.id, deviceId)).get();
      // A revoked device is refused whoever presents it (services/devices.ts).
      if (row?.revokedAt) throw deviceRevoked();
      if (contact.sessionId) {
        tx.update(sessions)
          .set({ deviceId })
          .where(
            and(
              eq(sessions.id, contact.sessionId),
              or(isNull(sessions.deviceId), ne(sessions.deviceId, deviceId)),
            ),
          )
          .run();
      }
      const userAgent = contact.userAgent ?? row?.userAgent ?? null;
      if (!row) {
        const device: DeviceRow = {
          id: deviceId,
          userId,
          createdAt: now,
          lastSeenAt: now,
          lastPulledCursor: null,
          scope: null,
          lastPushAt: null,
          lastSyncAt: now,
          userAgent,
          revokedAt: null,
          revokedBy: null,
        };
        tx.insert(devices).values(device).run();
        return device;
      }
      if (row.userId !== userId) {
        const owner = tx
          .select({ disabledAt: users.disabledAt })
          .from(users)
          .where(eq(users.id, row.userId))
          .get();
        if (!owner || owner.disabledAt) {
          throw new ApiError(
            403,
            'device_revoked',
            'This device belongs to a disabled or deleted account; reset the app on it',
          );
        }
        throw new ApiError(
          409,
          'device_in_use',
          'This device id is registered to another user; sign out and in again for a new one',
        );
      }
      tx.update(devices)
        .set({ lastSeenAt: now, lastSyncAt: now, userAgent })
        .where(eq(devices.id, deviceId))
        .run();
      return { ...row, lastSeenAt: now, lastSyncAt: now, userAgent };
    },
    { behavior: 'immediate' },
  );
}

// ---------------------------------------------------------------------------------------------
// Push

export interface PushContext {
  scope: Scope;
  deviceId: string;
  now: Date;
  /** For the audit log of review-side writes. */
  ip?: string;
}

const reject = (code: RejectCode, reason: string): StoredResult => ({
  status: 'rejected',
  code,
  reason,
});

/** `data.teamId: must be a string`, from the first zod issue of a mutation. */
function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  const field = issue.path.map(String).join('.');
  return field ? `${field}: ${issue.message}` : issue.message;
}

function parseData(json: string): RecordData {
  return JSON.parse(json) as RecordData;
}

/**
 * Applies a push: one result per mutation, in order. `mutations` are the envelope's items (only
 * `mutationId` checked); each is validated here so that a bad one is rejected on its own.
 */
export function push(
  db: Db,
  ctx: PushContext,
  mutations: readonly { mutationId: string }[],
): MutationResult[] {
  const s = statements(db);
  return s.inTransaction(() => {
    const results = mutations.map((raw) => applyOne(s, ctx, raw));
    s.notePush.run(ctx.now.getTime(), ctx.deviceId);
    return results;
  });
}

function applyOne(s: Statements, ctx: PushContext, raw: { mutationId: string }): MutationResult {
  const prior = s.getApplied.get(ctx.deviceId, raw.mutationId);
  if (prior) {
    if (prior.userId !== ctx.scope.userId) {
      return toWire(
        s,
        raw.mutationId,
        reject('mutation_id_reused', 'this mutation id was already used by another user'),
      );
    }
    return toWire(s, raw.mutationId, JSON.parse(prior.result) as StoredResult);
  }
  const { stored, record } = applyMutation(s, ctx, raw);
  s.insertApplied.run(
    ctx.deviceId,
    raw.mutationId,
    ctx.scope.userId,
    JSON.stringify(stored),
    ctx.now.getTime(),
  );
  return toWire(s, raw.mutationId, stored, record);
}

function toWire(
  s: Statements,
  mutationId: string,
  stored: StoredResult,
  record?: RecordData,
): MutationResult {
  switch (stored.status) {
    case 'applied':
      return stored.seq === undefined
        ? { mutationId, status: 'applied', version: stored.version }
        : { mutationId, status: 'applied', version: stored.version, seq: stored.seq };
    case 'rejected':
      return { mutationId, status: 'rejected', code: stored.code, reason: stored.reason };
    default: {
      const rec = record ?? historyRecord(s, stored.table, stored.id, stored.version);
      if (stored.status === 'merged') {
        return { mutationId, status: 'merged', version: stored.version, record: rec };
      }
      return {
        mutationId,
        status: 'conflict',
        version: stored.version,
        record: rec,
        conflictId: stored.conflictId,
        fields: stored.fields,
      };
    }
  }
}

function historyRecord(s: Statements, table: string, id: string, version: number): RecordData {
  const row = s.getHistoryData.get(table, id, version);
  if (!row) throw new Error(`history of ${table}/${id} lacks version ${version}`);
  return parseData(row.data);
}

/**
 * The version the device's copy of a record is known to contain: the one it pulled (baseVersion),
 * or a later version that is its own edit stored exactly as sent. A device learns the versions of
 * its accepted edits when it pulls them back, so an edit made before that names an older base; it
 * still contains the device's own earlier edit. (A merged version is not such a base: the device's
 * copy lacks what the merge brought in until it receives the merged record.)
 */
function mergeBase(s: Statements, ctx: PushContext, m: Mutation, currentVersion: number): number {
  // A base beyond the server's latest is unknown: merge against an empty base.
  const pulled = m.baseVersion <= currentVersion ? m.baseVersion : 0;
  if (pulled === currentVersion) return pulled;
  return Math.max(pulled, s.latestAppliedAsSent.get(m.table, m.id, ctx.deviceId) ?? 0);
}

function applyMutation(
  s: Statements,
  ctx: PushContext,
  raw: unknown,
): { stored: StoredResult; record?: RecordData } {
  const parsed = Mutation.safeParse(raw);
  if (!parsed.success) {
    return { stored: reject('invalid', describeIssue(parsed.error.issues[0]!)) };
  }
  const m = parsed.data;
  const { scope } = ctx;
  if (m.data.id !== m.id) return { stored: reject('invalid', 'data.id must equal id') };
  const teamId = m.data.teamId;
  if (typeof teamId !== 'string' || teamId === '') {
    return { stored: reject('invalid', 'data.teamId: must be a team id') };
  }
  const limits = RECORD_LIMITS[m.table];
  // Depth first: it is checked without recursion, and bounds what JSON.stringify walks.
  if (nestsDeeperThan(m.data, limits.maxDepth)) {
    return {
      stored: reject(
        'invalid',
        `the record is nested more than ${limits.maxDepth} levels deep (${m.table})`,
      ),
    };
  }
  const size = Buffer.byteLength(JSON.stringify(m.data));
  if (size > limits.maxBytes) {
    return {
      stored: reject(
        'invalid',
        `the record is ${size} bytes; at most ${limits.maxBytes} are allowed (${m.table})`,
      ),
    };
  }

  // Role and team.
  const denied = writeRight(m.table, scope, teamId);
  if (denied) return { stored: reject('forbidden', denied) };

  const current = s.getRecord.get(m.table, m.id);
  if (current && current.teamId !== teamId) {
    // A record of a team the caller cannot read gets the answer a write into that team gets, so
    // that an id learnt elsewhere is not confirmed; the caller's own record is told why.
    return {
      stored: reject(
        'forbidden',
        canRead(scope, current.teamId)
          ? "a record's team cannot change"
          : 'you may not write records of this team',
      ),
    };
  }
  const server = current ? parseData(current.data) : null;
  // Fields the server owns (a report's revision, the author of a review-side record) are never an
  // edit of the device's: they take the server's values (the caller's, on a new record).
  const device: RecordData = stampReviewSide(s.db, m.table, scope, teamId, server, {
    ...m.data,
    deleted: m.op === 'delete' || m.data.deleted === true,
  });
  if (m.table === 'reports') device.revision = server?.revision ?? 0;

  const policy = checkPolicy(m.table, server, device);
  if (policy.kind === 'reject') return { stored: reject(policy.code, policy.reason) };
  if (policy.kind === 'unchanged')
    return { stored: { status: 'applied', version: current!.version } };

  if (m.resolvesConflictId !== undefined) {
    const c = s.getConflict.get(m.resolvesConflictId);
    if (!c || c.tableName !== m.table || c.recordId !== m.id) {
      return {
        stored: reject('unknown_conflict', 'resolvesConflictId names no conflict of this record'),
      };
    }
  }

  // What would be stored: the device's record, or its merge with the server's.
  const base = current ? mergeBase(s, ctx, m, current.version) : 0;
  const merged =
    current && server && base < current.version
      ? merge(
          base > 0
            ? (() => {
                const row = s.getHistoryData.get(m.table, m.id, base);
                return row ? parseData(row.data) : null;
              })()
            : null,
          server,
          device,
        )
      : null;
  const candidate = merged ? merged.record : device;
  if (REVIEW_SIDE_TABLES.has(m.table)) {
    const problem = checkReviewSide(s.db, m.table, scope, teamId, server, candidate, ctx.now);
    if (problem) return { stored: reject(problem.code, problem.reason) };
  }

  let writtenSeq = 0;
  const write = (content: RecordData, version: number): RecordData => {
    const record: RecordData = {
      ...content,
      id: m.id,
      teamId,
      version,
      updatedAt: typeof device.updatedAt === 'string' ? device.updatedAt : ctx.now.toISOString(),
      // The authenticated user, whatever the device claimed.
      updatedBy: scope.userId,
      deleted: content.deleted === true,
    };
    if (m.table === 'reports') record.revision = nextRevision(server, record);
    const data = JSON.stringify(record);
    const seq = s.maxSeq.get()! + 1;
    writtenSeq = seq;
    const deleted = record.deleted === true ? 1 : 0;
    const at = ctx.now.getTime();
    s.upsertRecord.run(seq, m.table, m.id, teamId, version, deleted, at, scope.userId, data);
    s.insertHistory.run(
      seq,
      m.table,
      m.id,
      version,
      teamId,
      data,
      deleted,
      at,
      scope.userId,
      ctx.deviceId,
      m.mutationId,
    );
    afterWrite(s.db, m.table, record, version === 1, ctx.now, scope.userId);
    if (REVIEW_SIDE_TABLES.has(m.table)) {
      writeAudit(
        s.db,
        { userId: scope.userId, ip: ctx.ip ?? '', at: ctx.now },
        AUDIT_ACTION[m.table]![version === 1 ? 0 : 1],
        m.id,
        { teamId, reportId: record.reportId ?? null, version },
      );
    }
    return record;
  };

  let stored: StoredResult;
  let record: RecordData | undefined;
  if (!current || !server || !merged) {
    const version = current && server ? current.version + 1 : 1;
    const written = write(candidate, version);
    // Only an edit of the server's latest version: an older edit of the device's that arrives
    // after a newer one (a request it gave up on) must come back even if stored as sent, because
    // the device may never see its answer and holds the newer edit.
    const inOrder = !current || m.baseVersion === current.version;
    stored =
      inOrder && storedAsSent(written, m.data)
        ? { status: 'applied', version, seq: writtenSeq }
        : { status: 'applied', version };
  } else {
    const changed = changedFields(server, candidate).length > 0;
    record = changed ? write(candidate, current.version + 1) : server;
    const version = changed ? current.version + 1 : current.version;
    if (merged.kind === 'merged') {
      stored = { status: 'merged', table: m.table, id: m.id, version };
    } else {
      const conflictId = crypto.randomUUID();
      const row: ConflictRow = {
        id: conflictId,
        tableName: m.table,
        recordId: m.id,
        teamId,
        deviceId: ctx.deviceId,
        userId: scope.userId,
        mutationId: m.mutationId,
        baseVersion: m.baseVersion,
        serverVersion: version,
        fields: merged.fields,
        data: JSON.stringify(m.data),
        status: 'open',
        createdAt: ctx.now,
        resolvedAt: null,
        resolvedByMutation: null,
      };
      s.insertConflict(row);
      stored = {
        status: 'conflict',
        table: m.table,
        id: m.id,
        version,
        conflictId,
        fields: merged.fields,
      };
    }
  }

  if (m.resolvesConflictId !== undefined) {
    s.resolveConflict(m.resolvesConflictId, ctx.now, m.mutationId);
  }
  return { stored, record };
}

/**
 * Whether the server stored exactly the record the device sent (its version aside): no field the
 * server owns (a report's revision, a review's author, updatedBy) took another value. Only then
 * does the device hold the server's copy once it records the version, and the write need not be
 * sent back to it.
 */
function storedAsSent(written: RecordData, sent: RecordData): boolean {
  return (
    changedFields(written, sent).length === 0 &&
    jsonEqual(written.updatedAt, sent.updatedAt) &&
    jsonEqual(written.updatedBy, sent.updatedBy)
  );
}

/** Audit actions of review-side writes: [create, update]. */
const AUDIT_ACTION: Partial<Record<SyncTable, [AuditAction, AuditAction]>> = {
  reviews: ['review.create', 'review.create'],
  comments: ['comment.create', 'comment.create'],
  followups: ['followup.create', 'followup.update'],
};

// ---------------------------------------------------------------------------------------------
// Pull

export interface PullPage {
  /** The response body, spliced from the stored JSON of each record (see pull()). */
  body: string;
  cursor: number;
  count: number;
  hasMore: boolean;
  reset: boolean;
}

export function currentMaxSeq(db: DbOrTx): number {
  return statements(db).maxSeq.get()!;
}

const sameTeams = (a: readonly string[] | null, b: readonly string[]) =>
  a !== null && a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * One page of the caller's changes after `cursor`, in seq order.
 *
 * Memory stays flat however much there is to pull: one page is read (LIMIT), and its body is built
 * from the stored JSON of each record without parsing it again.
 *
 * Scope changes: the device's row remembers the scope (teams and the role in each,
 * Scope.fingerprint) it was last served from cursor 0 with. When the caller's scope differs (added
 * to or removed from a team, or a role changed), a pull with cursor > 0 returns no changes and
 * `reset: true`: the device drops its synced records and pulls again from 0, which records the new
 * scope. A lost reset answer is harmless: the next pull with the old cursor gets it again.
 *
 * No echo (docs/sync-no-echo.md): with `acked` > 0 the page leaves out the device's own writes
 * that it already holds: the record's latest write came from this device's push, stored exactly as
 * sent, and its answer (with this seq) is at or below `acked`. Any later write, by anyone, moves
 * the record to a new seq that the device has not acknowledged, so it comes back.
 *
 * A supervisor pulls only the reviews, comments and follow-ups of the teams they supervise:
 * clinical records reach them through /api/review, and only those of shared reports.
 */
export function pull(
  db: Db,
  scope: Scope,
  device: DeviceRow,
  cursor: number,
  limit: number,
  { acked = 0, maxBytes = PULL_PAGE_MAX_BYTES, maxExamined = PULL_MAX_EXAMINED } = {},
): PullPage {
  const s = statements(db);
  const fingerprint = scope.fingerprint;
  const clinical = JSON.stringify([...scope.clinicianTeams]);
  const supervisedOnly = JSON.stringify(
    [...scope.supervisorTeams].filter((t) => !scope.clinicianTeams.has(t)),
  );
  // A cursor this caller was served is the seq of a record it may pull, and that record (or its
  // later version) is still there. Checked against what the caller may pull, not the global
  // sequence, so that probing cursors does not reveal how much other teams write. After a change
  // of scope the reset below answers instead.
  const known = cursor === 0 || s.cursorKnown.get(cursor, clinical, supervisedOnly) === 1;
  if (!known && (device.scope === null || sameTeams(device.scope, fingerprint))) {
    throw new ApiError(
      400,
      'invalid_cursor',
      `cursor ${cursor} is not one this server gave you; pull again from 0`,
    );
  }
  if (cursor > 0 && !sameTeams(device.scope, fingerprint)) {
    return {
      body: JSON.stringify({ changes: [], cursor: 0, hasMore: true, reset: true }),
      cursor: 0,
      count: 0,
      hasMore: true,
      reset: true,
    };
  }
  // Read row by row, stopping at `limit` records, `maxBytes` or `maxExamined` rows looked at, so
  // memory and time stay bounded too. The device's own acknowledged writes are left out, but the
  // cursor moves past them: the next page starts after the last row looked at.
  const rows: (PageRow & { data: string })[] = [];
  let hasMore = false;
  let next = cursor;
  if (scope.readTeams.length > 0) {
    let bytes = 0;
    let examined = 0;
    const page = s.pullPage.iterate(
      acked,
      device.id,
      cursor,
      clinical,
      supervisedOnly,
      Math.max(limit, maxExamined) + 1,
    );
    for (const row of page) {
      bytes += row.data?.length ?? 0;
      if (
        rows.length === limit ||
        examined === maxExamined ||
        (rows.length > 0 && bytes > maxBytes)
      ) {
        hasMore = true;
        break; // ends the statement's iteration
      }
      examined++;
      next = row.seq;
      if (row.data !== null) rows.push(row as PageRow & { data: string });
    }
  }

  db.update(devices)
    .set({ lastPulledCursor: next, ...(cursor === 0 ? { scope: [...fingerprint] } : {}) })
    .where(eq(devices.id, device.id))
    .run();

  const parts: string[] = [];
  for (const r of rows) {
    parts.push(
      `{"table":"${r.tableName}","id":${JSON.stringify(r.id)},"version":${r.version},` +
        `"seq":${r.seq},"deleted":${r.deleted === 1},"record":${r.data}}`,
    );
  }
  const body = `{"changes":[${parts.join(',')}],"cursor":${next},"hasMore":${hasMore},"reset":false}`;
  return { body, cursor: next, count: rows.length, hasMore, reset: false };
}

// ---------------------------------------------------------------------------------------------
// Conflicts

export const MAX_LISTED_CONFLICTS = 500;

/** Open conflicts of the teams where the caller is a clinician (the only writers that conflict). */
export function listOpenConflicts(db: Db, scope: Scope): Conflict[] {
  const teams = [...scope.clinicianTeams];
  if (teams.length === 0) return [];
  return db
    .select()
    .from(conflicts)
    .where(and(inArray(conflicts.teamId, teams), eq(conflicts.status, 'open')))
    .orderBy(asc(conflicts.createdAt), asc(conflicts.id))
    .limit(MAX_LISTED_CONFLICTS)
    .all()
    .map((c) => ({
      id: c.id,
      table: c.tableName,
      recordId: c.recordId,
      teamId: c.teamId,
      deviceId: c.deviceId,
      userId: c.userId,
      baseVersion: c.baseVersion,
      serverVersion: c.serverVersion,
      fields: c.fields,
      data: parseData(c.data),
      createdAt: c.createdAt.toISOString(),
    }));
}
