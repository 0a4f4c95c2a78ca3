import type { ConflictRow, DeviceRow } from '../db/schema';
import type { PageRow, PushKey, SyncRepository } from '../repositories/sync.repository';
import { ApiError } from '../errors';
import {
  Mutation,
  nestsDeeperThan,
  PULL_MAX_EXAMINED,
  PULL_PAGE_MAX_BYTES,
  RECORD_LIMITS,
  type Conflict,
  type CursorAdvance,
  type MutationResult,
  type RejectCode,
  type SyncTable,
} from '../protocol';
import type { AuditAction } from './audit';
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
import { hasNulCharacter, NUL_MESSAGE } from '../protocol/nul';

/*
 * Push and pull (DESIGN 4). A push is one write transaction of the sync repository (BEGIN
 * IMMEDIATE on SQLite, under the write lock on PostgreSQL: repositories/) that applies its
 * mutations in order and stores each result under (deviceId, mutationId): a retried mutation gets
 * the stored result back and writes nothing, and a push cut short (crash, error) commits none of
 * them. Mutations write nothing before their last check, so a rejected one leaves no trace but its
 * result. Every write takes the next number of one global sequence (max(seq) + 1 of `records`,
 * read inside the same transaction) and appends the new version to `record_history`. The database
 * is reached only through the repository, so this file is the one code path of both dialects. A
 * push first tells the repository what its mutations name (preparePush), so that PostgreSQL can read
 * it for the whole batch in a few queries and write it back in one (docs/postgresql.md).
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
  repo: SyncRepository,
  deviceId: string,
  userId: string,
  now: Date,
  contact: DeviceContact = {},
): Promise<DeviceRow> {
  return repo.transaction((tx) => touchDeviceIn(tx, deviceId, userId, now, contact));
}

/** The row of a device seen for the first time: it has pulled and pushed nothing yet. */
export function newDeviceRow(
  id: string,
  userId: string,
  now: Date,
  userAgent: string | null = null,
): DeviceRow {
  return {
    id,
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
}

/** touchDevice inside a transaction the caller holds. */
async function touchDeviceIn(
  tx: SyncRepository,
  deviceId: string,
  userId: string,
  now: Date,
  contact: DeviceContact,
): Promise<DeviceRow> {
  const row = await tx.getDevice(deviceId);
  // A revoked device is refused whoever presents it (services/devices.ts).
  if (row?.revokedAt) throw deviceRevoked();
  if (contact.sessionId) await tx.bindSession(contact.sessionId, deviceId);
  const userAgent = contact.userAgent ?? row?.userAgent ?? null;
  if (!row) {
    const device = newDeviceRow(deviceId, userId, now, userAgent);
    await tx.insertDevice(device);
    return device;
  }
  if (row.userId !== userId) {
    const owner = await tx.userDisabledAt(row.userId);
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
  await tx.noteSync(deviceId, now, userAgent);
  return { ...row, lastSeenAt: now, lastSyncAt: now, userAgent };
}

// ---------------------------------------------------------------------------------------------
// Push

export interface PushContext {
  scope: Scope;
  deviceId: string;
  now: Date;
  /** For the audit log of review-side writes. */
  ip?: string;
  /** The request body is known to hold no U+0000 (gzipBody): the per-record search is skipped. */
  nulFree?: boolean;
  /**
   * When set, the device's contact (touchDevice) is noted in the push's own transaction, as the
   * review route does for its single write: one commit for both.
   */
  touch?: { userId: string; contact: DeviceContact };
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
export async function push(
  repo: SyncRepository,
  ctx: PushContext,
  mutations: readonly { mutationId: string }[],
): Promise<MutationResult[]> {
  return (await pushBatch(repo, ctx, mutations)).results;
}

/** A push's answer: the results, and how far the device's pull cursor may move (see pushBatch). */
export interface PushOutcome {
  results: MutationResult[];
  cursorAdvance?: CursorAdvance;
}

/**
 * push(), also telling the device when its pull may skip this push's writes altogether
 * (docs/sync-no-echo.md, "Cursor advance"): when every change the push made to the sequence is one
 * of its own writes stored exactly as sent (each answered with its `seq`), everything a pull of
 * the caller's would walk between `from` (its last change before the push) and `to` (the push's
 * last write) is records the device holds as they are. A device whose pull cursor is at least
 * `from` and below `to` may set it to `to`; its next pull then starts after them instead of walking
 * past them. Only for a device whose last pull from 0 was made in the caller's current scope
 * (else that pull answers `reset` whatever the cursor).
 */
export function pushBatch(
  repo: SyncRepository,
  ctx: PushContext,
  mutations: readonly { mutationId: string }[],
): Promise<PushOutcome> {
  // The whole push in one transaction: one commit instead of one per mutation.
  return repo.transaction(async (tx) => {
    const device = ctx.touch
      ? await touchDeviceIn(tx, ctx.deviceId, ctx.touch.userId, ctx.now, ctx.touch.contact)
      : undefined;
    await tx.preparePush(ctx.deviceId, mutations.map(pushKey));
    // Inside the sync write transaction: nobody else moves the sequence until it commits.
    const before = await tx.maxSeq();
    const results: MutationResult[] = [];
    for (const raw of mutations) results.push(await applyOne(tx, ctx, raw));
    await tx.notePush(ctx.deviceId, ctx.now.getTime());
    const after = await tx.maxSeq();
    // Every write takes the next seq, so `after - before` writes were made; a retried mutation's
    // stored answer names a seq at or below `before`.
    const asSent = results.filter((r) => r.status === 'applied' && (r.seq ?? 0) > before).length;
    const scopeKnown = device !== undefined && sameTeams(device.scope, ctx.scope.fingerprint);
    if (after === before || asSent !== after - before || !scopeKnown) return { results };
    // Below the push, the device stands wherever its pull walked the caller's last change: on a
    // server of many teams that is seldom the end of the sequence. One index read per team.
    const { clinical, supervisedOnly } = pullTeams(ctx.scope);
    const from = await tx.lastChangeInScope(before, clinical, supervisedOnly);
    return { results, cursorAdvance: { from, to: after } };
  });
}

/**
 * What a mutation names, read before it is validated: only a table and an id that the mutation's
 * own schema accepts (a query could not take every string: PostgreSQL's text refuses U+0000). A
 * mutation naming any other is rejected alone when it is validated.
 */
function pushKey(raw: { mutationId: string }): PushKey {
  const { table, id } = raw as { table?: unknown; id?: unknown };
  const tableOk = Mutation.shape.table.safeParse(table);
  const idOk = Mutation.shape.id.safeParse(id);
  return {
    mutationId: raw.mutationId,
    ...(tableOk.success ? { table: tableOk.data } : {}),
    ...(idOk.success ? { id: idOk.data } : {}),
  };
}

async function applyOne(
  s: SyncRepository,
  ctx: PushContext,
  raw: { mutationId: string },
): Promise<MutationResult> {
  const prior = await s.getApplied(ctx.deviceId, raw.mutationId);
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
  const { stored, record } = await applyMutation(s, ctx, raw);
  await s.insertApplied(
    ctx.deviceId,
    raw.mutationId,
    ctx.scope.userId,
    JSON.stringify(stored),
    ctx.now.getTime(),
  );
  return toWire(s, raw.mutationId, stored, record);
}

async function toWire(
  s: SyncRepository,
  mutationId: string,
  stored: StoredResult,
  record?: RecordData,
): Promise<MutationResult> {
  switch (stored.status) {
    case 'applied':
      return stored.seq === undefined
        ? { mutationId, status: 'applied', version: stored.version }
        : { mutationId, status: 'applied', version: stored.version, seq: stored.seq };
    case 'rejected':
      return { mutationId, status: 'rejected', code: stored.code, reason: stored.reason };
    default: {
      const rec = record ?? (await historyRecord(s, stored.table, stored.id, stored.version));
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

async function historyRecord(
  s: SyncRepository,
  table: SyncTable,
  id: string,
  version: number,
): Promise<RecordData> {
  const data = await s.getHistoryData(table, id, version);
  if (data === undefined) throw new Error(`history of ${table}/${id} lacks version ${version}`);
  return parseData(data);
}

/**
 * The version the device's copy of a record is known to contain: the one it pulled (baseVersion),
 * or a later version that is its own edit stored exactly as sent. A device learns the versions of
 * its accepted edits when it pulls them back, so an edit made before that names an older base; it
 * still contains the device's own earlier edit. (A merged version is not such a base: the device's
 * copy lacks what the merge brought in until it receives the merged record.)
 */
async function mergeBase(
  s: SyncRepository,
  ctx: PushContext,
  m: Mutation,
  currentVersion: number,
): Promise<number> {
  // A base beyond the server's latest is unknown: merge against an empty base.
  const pulled = m.baseVersion <= currentVersion ? m.baseVersion : 0;
  if (pulled === currentVersion) return pulled;
  return Math.max(pulled, (await s.latestAppliedAsSent(m.table, m.id, ctx.deviceId)) ?? 0);
}

async function applyMutation(
  s: SyncRepository,
  ctx: PushContext,
  raw: unknown,
): Promise<{ stored: StoredResult; record?: RecordData }> {
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
  if (!ctx.nulFree && hasNulCharacter(m)) {
    return { stored: reject('invalid', `the record ${NUL_MESSAGE}`) };
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

  const current = await s.getRecord(m.table, m.id);
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
  const device: RecordData = await stampReviewSide(s, m.table, scope, teamId, server, {
    ...m.data,
    deleted: m.op === 'delete' || m.data.deleted === true,
  });
  if (m.table === 'reports') device.revision = server?.revision ?? 0;

  const policy = checkPolicy(m.table, server, device);
  if (policy.kind === 'reject') return { stored: reject(policy.code, policy.reason) };
  if (policy.kind === 'unchanged')
    return { stored: { status: 'applied', version: current!.version } };

  if (m.resolvesConflictId !== undefined) {
    const c = await s.getConflict(m.resolvesConflictId);
    if (!c || c.tableName !== m.table || c.recordId !== m.id) {
      return {
        stored: reject('unknown_conflict', 'resolvesConflictId names no conflict of this record'),
      };
    }
  }

  // What would be stored: the device's record, or its merge with the server's.
  const base = current ? await mergeBase(s, ctx, m, current.version) : 0;
  let merged: ReturnType<typeof merge> | null = null;
  if (current && server && base < current.version) {
    const baseData = base > 0 ? await s.getHistoryData(m.table, m.id, base) : undefined;
    merged = merge(baseData === undefined ? null : parseData(baseData), server, device);
  }
  const candidate = merged ? merged.record : device;
  if (REVIEW_SIDE_TABLES.has(m.table)) {
    const problem = await checkReviewSide(s, m.table, scope, teamId, server, candidate, ctx.now);
    if (problem) return { stored: reject(problem.code, problem.reason) };
  }

  let writtenSeq = 0;
  const write = async (content: RecordData, version: number): Promise<RecordData> => {
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
    const seq = (await s.maxSeq()) + 1;
    writtenSeq = seq;
    const at = ctx.now.getTime();
    await s.writeRecord({
      seq,
      table: m.table,
      id: m.id,
      teamId,
      version,
      deleted: record.deleted === true ? 1 : 0,
      at,
      by: scope.userId,
      data,
      deviceId: ctx.deviceId,
      mutationId: m.mutationId,
    });
    await afterWrite(s, m.table, record, version === 1, ctx.now, scope.userId);
    if (REVIEW_SIDE_TABLES.has(m.table)) {
      await s.insertAudit({
        at,
        userId: scope.userId,
        ip: ctx.ip ?? '',
        action: AUDIT_ACTION[m.table]![version === 1 ? 0 : 1],
        target: m.id,
        detail: { teamId, reportId: record.reportId ?? null, version },
      });
    }
    return record;
  };

  let stored: StoredResult;
  let record: RecordData | undefined;
  if (!current || !server || !merged) {
    const version = current && server ? current.version + 1 : 1;
    const written = await write(candidate, version);
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
    record = changed ? await write(candidate, current.version + 1) : server;
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
      await s.insertConflict(row);
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
    await s.resolveConflict(m.resolvesConflictId, ctx.now.getTime(), m.mutationId);
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

export function currentMaxSeq(repo: SyncRepository): Promise<number> {
  return repo.maxSeq();
}

/** What a pull reads: every table of these teams, and only the review side of those. */
function pullTeams(scope: Scope): { clinical: string[]; supervisedOnly: string[] } {
  return {
    clinical: [...scope.clinicianTeams],
    supervisedOnly: [...scope.supervisorTeams].filter((t) => !scope.clinicianTeams.has(t)),
  };
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
export async function pull(
  repo: SyncRepository,
  scope: Scope,
  device: DeviceRow,
  cursor: number,
  limit: number,
  { acked = 0, maxBytes = PULL_PAGE_MAX_BYTES, maxExamined = PULL_MAX_EXAMINED } = {},
): Promise<PullPage> {
  const s = repo;
  const fingerprint = scope.fingerprint;
  const { clinical, supervisedOnly } = pullTeams(scope);
  // A cursor this caller was served is the seq of a record it may pull, and that record (or its
  // later version) is still there. Checked against what the caller may pull, not the global
  // sequence, so that probing cursors does not reveal how much other teams write. After a change
  // of scope the reset below answers instead.
  const known = cursor === 0 || (await s.cursorKnown(cursor, clinical, supervisedOnly));
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
    await s.scanChanges(
      {
        acked,
        deviceId: device.id,
        cursor,
        clinical,
        supervisedOnly,
        limit: Math.max(limit, maxExamined) + 1,
      },
      (row) => {
        bytes += row.data?.length ?? 0;
        if (
          rows.length === limit ||
          examined === maxExamined ||
          (rows.length > 0 && bytes > maxBytes)
        ) {
          hasMore = true;
          return false;
        }
        examined++;
        next = row.seq;
        if (row.data !== null) rows.push(row as PageRow & { data: string });
        return true;
      },
    );
  }

  await s.notePull(device.id, next, cursor === 0 ? [...fingerprint] : null);

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
export async function listOpenConflicts(repo: SyncRepository, scope: Scope): Promise<Conflict[]> {
  const teams = [...scope.clinicianTeams];
  if (teams.length === 0) return [];
  const rows = await repo.openConflicts(teams, MAX_LISTED_CONFLICTS);
  return rows.map((c) => ({
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
