import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { CONFLICT_STATUSES, REVIEW_STATE_VALUES, ROLES, SYNC_TABLE_NAMES } from './schema';

// The PostgreSQL twin of schema.ts: same tables, columns, keys, constraints and indexes, checked by
// schema-drift.test.ts (against schema.ts) and schema.pg.test.ts (against the migrated catalog).
// Migrations: `pnpm --filter sync-server db:generate:pg` writes them to ./drizzle-pg. Why each
// SQLite type maps to the PostgreSQL type below: docs/postgresql.md.

/**
 * Milliseconds since the epoch in a bigint, read and written as a Date: the same value SQLite's
 * `timestamp_ms` columns hold and the same JS type drizzle gives services, so hand-written SQL that
 * compares or divides times (stats.ts SQL_WEEK) means the same thing on both dialects.
 */
const timestampMs = customType<{ data: Date; driverData: string | number }>({
  dataType: () => 'bigint',
  toDriver: (value) => value.getTime(),
  fromDriver: (value) => new Date(Number(value)),
});
const timestamp = (name: string) => timestampMs(name);
/** A plain millisecond time or another count that outgrows int4 (2^31 ms is under 25 days). */
const big = (name: string) => bigint(name, { mode: 'number' });
/**
 * Text in byte order (COLLATE "C"), as SQLite compares it, whatever the database's locale: for a
 * key that orders pages and is the last column of their indexes, so that the index's order is the
 * order the queries ask for (they say COLLATE "C" themselves) and no sort is added among equal
 * leading keys.
 */
const byteText = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    isAdmin: boolean('is_admin').notNull().default(false),
    disabledAt: timestamp('disabled_at'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [check('users_email_lower', sql`${t.email} = lower(${t.email})`)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
    createdAt: timestamp('created_at').notNull(),
    deviceId: text('device_id'),
  },
  (t) => [index('sessions_user_id').on(t.userId), index('sessions_device_id').on(t.deviceId)],
);

export const teams = pgTable(
  'teams',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    lockMinutes: integer('lock_minutes').notNull().default(5),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [uniqueIndex('teams_name_unique').on(sql`lower(${t.name})`)],
);

export const teamMemberships = pgTable(
  'team_memberships',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.userId] }),
    index('team_memberships_user_id').on(t.userId),
    check('team_memberships_role', sql`${t.role} in ('clinician', 'supervisor')`),
  ],
);

export const invitations = pgTable(
  'invitations',
  {
    code: text('code').primaryKey(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    usedBy: text('used_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [
    index('invitations_team_id').on(t.teamId),
    index('invitations_created_at').on(t.createdAt),
    check('invitations_role', sql`${t.role} in ('clinician', 'supervisor')`),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    // By default, not always: a move from SQLite keeps the ids (and then moves the sequence on).
    id: big('id').primaryKey().generatedByDefaultAsIdentity(),
    at: timestamp('at').notNull(),
    userId: text('user_id'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  // Append-only: the trigger function in drizzle-pg/0001_audit_append_only.sql refuses UPDATE,
  // DELETE and TRUNCATE.
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_user_id').on(t.userId),
    index('audit_log_action_at').on(t.action, t.at),
  ],
);

export const passwordResetCodes = pgTable(
  'password_reset_codes',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull().unique(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [index('password_reset_codes_user_id').on(t.userId)],
);

export const loginAttempts = pgTable(
  'login_attempts',
  {
    id: big('id').primaryKey().generatedByDefaultAsIdentity(),
    at: timestamp('at').notNull(),
    email: text('email').notNull(),
    ip: text('ip').notNull(),
  },
  (t) => [
    index('login_attempts_email_at').on(t.email, t.at),
    index('login_attempts_ip_at').on(t.ip, t.at),
    index('login_attempts_at').on(t.at),
  ],
);

/** Sliding-window limiter attempts (schema.ts limiterAttempts; locking: docs/postgresql.md). */
export const limiterAttempts = pgTable(
  'limiter_attempts',
  {
    id: big('id').primaryKey().generatedByDefaultAsIdentity(),
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    at: timestamp('at').notNull(),
  },
  (t) => [
    index('limiter_attempts_scope_key_at').on(t.scope, t.key, t.at),
    index('limiter_attempts_scope_at').on(t.scope, t.at),
  ],
);

// ---------------------------------------------------------------------------------------------
// Sync

export const records = pgTable(
  'records',
  {
    // Assigned by the push (no default), as on SQLite.
    seq: big('seq').primaryKey(),
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    id: text('id').notNull(),
    teamId: text('team_id').notNull(),
    version: integer('version').notNull(),
    deleted: boolean('deleted').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
    // text, not jsonb: the exact JSON the device sent, streamed back by pulls without parsing.
    data: text('data').notNull(),
  },
  // records_team_seq: see schema.ts.
  (t) => [
    uniqueIndex('records_table_id').on(t.tableName, t.id),
    index('records_team_seq').on(t.teamId, t.seq, t.tableName),
  ],
);

export const recordHistory = pgTable(
  'record_history',
  {
    seq: big('seq').primaryKey(),
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    id: text('id').notNull(),
    version: integer('version').notNull(),
    teamId: text('team_id').notNull(),
    data: text('data').notNull(),
    deleted: boolean('deleted').notNull(),
    at: timestamp('at').notNull(),
    by: text('by').notNull(),
    deviceId: text('device_id').notNull(),
    mutationId: text('mutation_id').notNull(),
  },
  (t) => [uniqueIndex('record_history_version').on(t.tableName, t.id, t.version)],
);

export const appliedMutations = pgTable(
  'applied_mutations',
  {
    deviceId: text('device_id').notNull(),
    mutationId: text('mutation_id').notNull(),
    userId: text('user_id').notNull(),
    result: text('result').notNull(),
    at: timestamp('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.mutationId] })],
);

export const conflicts = pgTable(
  'conflicts',
  {
    id: text('id').primaryKey(),
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    recordId: text('record_id').notNull(),
    teamId: text('team_id').notNull(),
    deviceId: text('device_id').notNull(),
    userId: text('user_id').notNull(),
    mutationId: text('mutation_id').notNull(),
    baseVersion: integer('base_version').notNull(),
    serverVersion: integer('server_version').notNull(),
    fields: jsonb('fields').$type<string[]>().notNull(),
    data: text('data').notNull(),
    status: text('status', { enum: CONFLICT_STATUSES }).notNull(),
    createdAt: timestamp('created_at').notNull(),
    resolvedAt: timestamp('resolved_at'),
    resolvedByMutation: text('resolved_by_mutation'),
  },
  (t) => [
    index('conflicts_team_status').on(t.teamId, t.status),
    index('conflicts_record').on(t.tableName, t.recordId),
    check('conflicts_status', sql`${t.status} in ('open', 'resolved')`),
  ],
);

export const blobs = pgTable('blobs', {
  sha256: text('sha256').primaryKey(),
  bytes: big('bytes').notNull(),
  mime: text('mime').notNull(),
  teamId: text('team_id').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at').notNull(),
});

export const blobTeams = pgTable(
  'blob_teams',
  {
    sha256: text('sha256')
      .notNull()
      .references(() => blobs.sha256, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sha256, t.teamId] })],
);

export const devices = pgTable('devices', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull(),
  createdAt: timestamp('created_at').notNull(),
  lastSeenAt: timestamp('last_seen_at').notNull(),
  lastPulledCursor: big('last_pulled_cursor'),
  scope: jsonb('scope').$type<string[]>(),
  lastPushAt: timestamp('last_push_at'),
  lastSyncAt: timestamp('last_sync_at'),
  userAgent: text('user_agent'),
  revokedAt: timestamp('revoked_at'),
  revokedBy: text('revoked_by'),
});

export const modelVersions = pgTable(
  'model_versions',
  {
    id: text('id').notNull(),
    version: text('version').notNull(),
    name: text('name').notNull(),
    modality: text('modality', { enum: ['image', 'tabular'] }).notNull(),
    task: text('task').notNull(),
    bytes: big('bytes').notNull(),
    sha256: text('sha256').notNull(),
    status: text('status', { enum: ['staged', 'active', 'retired'] }).notNull(),
    releaseNotes: text('release_notes').notNull().default(''),
    manifest: jsonb('manifest').$type<Record<string, unknown>>().notNull(),
    files: jsonb('files').$type<Record<string, string>>().notNull(),
    source: text('source', { enum: ['bundled', 'uploaded'] }).notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at').notNull(),
    activatedAt: timestamp('activated_at'),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.version] }),
    uniqueIndex('model_versions_one_active')
      .on(t.id)
      .where(sql`${t.status} = 'active'`),
  ],
);

export const teamModelSettings = pgTable(
  'team_model_settings',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    prevalence: doublePrecision('prevalence').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.modelId] })],
);

// ---------------------------------------------------------------------------------------------
// Supervisor review read models. The 0/1 flags stay integers (not boolean) as on SQLite: they are
// summed into counters and sit in index keys that the queue's filters compare with numbers.

export const reviewReports = pgTable(
  'review_reports',
  {
    reportId: byteText('report_id').primaryKey(),
    teamId: text('team_id').notNull(),
    patientId: text('patient_id').notNull(),
    encounterId: text('encounter_id'),
    clinicianId: text('clinician_id').notNull(),
    patientName: text('patient_name').notNull(),
    sex: text('sex').notNull(),
    birthDate: text('birth_date'),
    village: text('village').notNull(),
    villageKey: text('village_key').notNull(),
    revision: integer('revision').notNull(),
    state: text('state', { enum: REVIEW_STATE_VALUES }).notNull(),
    sharedAt: big('shared_at').notNull(),
    firstSharedAt: big('first_shared_at').notNull(),
    reviewedAt: big('reviewed_at'),
    everReturned: integer('ever_returned').notNull(),
    positive: integer('positive').notNull(),
    abnormal: integer('abnormal').notNull(),
    disagreement: integer('disagreement').notNull(),
    priority: integer('priority').notNull(),
    models: text('models').notNull().default(''),
    rank: integer('rank').notNull(),
  },
  (t) => [
    index('review_reports_team_shared').on(
      t.teamId,
      t.sharedAt,
      t.reportId,
      t.state,
      t.disagreement,
      t.positive,
      t.models,
    ),
    index('review_reports_team_rank').on(
      t.teamId,
      t.rank,
      t.sharedAt,
      t.reportId,
      t.state,
      t.disagreement,
      t.positive,
      t.models,
    ),
    index('review_reports_team_state_shared').on(
      t.teamId,
      t.state,
      t.sharedAt,
      t.reportId,
      t.disagreement,
      t.positive,
      t.models,
    ),
    index('review_reports_team_state_rank').on(
      t.teamId,
      t.state,
      t.rank,
      t.sharedAt,
      t.reportId,
      t.disagreement,
      t.positive,
      t.models,
    ),
    index('review_reports_clinician').on(t.clinicianId, t.sharedAt),
    index('review_reports_team_village').on(
      t.teamId,
      t.villageKey,
      t.sharedAt,
      t.reportId,
      t.state,
      t.disagreement,
      t.positive,
      t.models,
    ),
    index('review_reports_patient').on(t.patientId),
    index('review_reports_encounter').on(t.encounterId),
  ],
);

export const reviewCounts = pgTable(
  'review_counts',
  {
    teamId: text('team_id').notNull(),
    state: text('state', { enum: REVIEW_STATE_VALUES }).notNull(),
    disagreement: integer('disagreement').notNull(),
    positive: integer('positive').notNull(),
    models: text('models').notNull(),
    n: integer('n').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.state, t.disagreement, t.positive, t.models] })],
);

export const reviewDiagnoses = pgTable(
  'review_diagnoses',
  {
    reportId: text('report_id').notNull(),
    diagnosisId: text('diagnosis_id').notNull(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    modelName: text('model_name').notNull(),
    positive: integer('positive').notNull(),
    assessment: text('assessment'),
    imageSha256: text('image_sha256'),
    ranAt: big('ran_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.reportId, t.diagnosisId] }),
    index('review_diagnoses_diagnosis').on(t.diagnosisId),
    index('review_diagnoses_image').on(t.imageSha256),
  ],
);

export const reviewEvents = pgTable(
  'review_events',
  {
    reviewId: text('review_id').primaryKey(),
    reportId: text('report_id').notNull(),
    teamId: text('team_id').notNull(),
    revision: integer('revision').notNull(),
    decision: text('decision', { enum: ['approved', 'returned'] }).notNull(),
    authorId: text('author_id').notNull(),
    at: big('at').notNull(),
    revisionSharedAt: big('revision_shared_at').notNull(),
    firstOfRevision: integer('first_of_revision').notNull(),
    snapshot: text('snapshot').notNull(),
  },
  (t) => [
    index('review_events_report').on(t.reportId, t.at),
    index('review_events_team_at').on(t.teamId, t.at, t.firstOfRevision, t.revisionSharedAt),
  ],
);

export const reviewVerdicts = pgTable(
  'review_verdicts',
  {
    reviewId: text('review_id').notNull(),
    diagnosisId: text('diagnosis_id').notNull(),
    reportId: text('report_id').notNull(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    modelPositive: integer('model_positive').notNull(),
    verdict: text('verdict', { enum: ['right', 'wrong', 'cant_tell'] }).notNull(),
    referenceOutcome: text('reference_outcome'),
    at: big('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.reviewId, t.diagnosisId] }),
    index('review_verdicts_diagnosis').on(t.diagnosisId, t.at),
  ],
);

export const clinicianActivity = pgTable(
  'clinician_activity',
  {
    teamId: text('team_id').notNull(),
    userId: text('user_id').notNull(),
    week: integer('week').notNull(),
    encounters: integer('encounters').notNull().default(0),
    shared: integer('shared').notNull().default(0),
    returned: integer('returned').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId, t.week] })],
);

export const modelRuns = pgTable('model_runs', {
  diagnosisId: text('diagnosis_id').primaryKey(),
  teamId: text('team_id').notNull(),
  modelId: text('model_id').notNull(),
  modelVersion: text('model_version').notNull(),
  week: integer('week').notNull(),
  positive: integer('positive').notNull(),
  assessment: text('assessment'),
});

export const modelWeekly = pgTable(
  'model_weekly',
  {
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    week: integer('week').notNull(),
    modelName: text('model_name').notNull(),
    runs: integer('runs').notNull(),
    positives: integer('positives').notNull(),
    assessed: integer('assessed').notNull(),
    agreed: integer('agreed').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.modelId, t.modelVersion, t.week] })],
);

export const verdictLatest = pgTable(
  'verdict_latest',
  {
    diagnosisId: text('diagnosis_id').primaryKey(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    modelPositive: integer('model_positive').notNull(),
    verdict: text('verdict', { enum: ['right', 'wrong', 'cant_tell'] }).notNull(),
    at: big('at').notNull(),
  },
  (t) => [
    index('verdict_latest_team_at').on(
      t.teamId,
      t.at,
      t.modelId,
      t.modelVersion,
      t.modelPositive,
      t.verdict,
    ),
  ],
);

export const reviewRefs = pgTable(
  'review_refs',
  {
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    id: text('id').notNull(),
    reportId: text('report_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tableName, t.id] }),
    index('review_refs_report').on(t.reportId, t.tableName),
  ],
);

// The shared blob store (src/blob-store/postgres.ts; docs/postgresql.md says why PostgreSQL and
// not S3). PostgreSQL only: on SQLite the bytes stay files under DATA_DIR/blobs, so these tables
// have no twin in schema.ts, and schema-drift.test.ts names them in PG_ONLY_TABLES.
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** A stored blob's bytes are complete once this row exists (written with its chunks, atomically). */
export const blobContents = pgTable('blob_contents', {
  sha256: text('sha256').primaryKey(),
  bytes: big('bytes').notNull(),
  chunks: integer('chunks').notNull(),
  createdAt: timestamp('created_at').notNull(),
});

/** The bytes of a stored blob, in chunks of at most BLOB_CHUNK_BYTES, numbered from 0. */
export const blobChunks = pgTable(
  'blob_chunks',
  {
    sha256: text('sha256')
      .notNull()
      .references(() => blobContents.sha256, { onDelete: 'cascade' }),
    n: integer('n').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sha256, t.n] })],
);

/**
 * An upload being received, chunk by chunk as it arrives (no transaction stays open for a slow
 * uplink); moved into blob_chunks once its bytes hash to the name. What a killed instance leaves
 * is deleted by the sweep once no chunk was written for UPLOAD_IDLE_MS.
 */
export const blobUploadChunks = pgTable(
  'blob_upload_chunks',
  {
    uploadId: text('upload_id').notNull(),
    n: integer('n').notNull(),
    data: bytea('data').notNull(),
    writtenAt: timestamp('written_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.n] })],
);

/** Tables of schema.pg.ts with no twin in schema.ts, on purpose (schema-drift.test.ts). */
export const PG_ONLY_TABLES: readonly string[] = [
  'blob_contents',
  'blob_chunks',
  'blob_upload_chunks',
];
