import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

// Timestamps are integer milliseconds since the epoch (drizzle maps them to Date).
const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const ROLES = ['clinician', 'supervisor'] as const;

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(), // UUID
    email: text('email').notNull().unique(), // always lower-cased
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(), // argon2id PHC string
    isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
    disabledAt: timestamp('disabled_at'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [check('users_email_lower', sql`${t.email} = lower(${t.email})`)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(), // hex SHA-256 of the token; the token itself is never stored
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
    createdAt: timestamp('created_at').notNull(),
    /** The device this session last synced from: revoking the device ends the session. */
    deviceId: text('device_id'),
  },
  (t) => [index('sessions_user_id').on(t.userId), index('sessions_device_id').on(t.deviceId)],
);

export const teams = sqliteTable(
  'teams',
  {
    id: text('id').primaryKey(), // UUID
    name: text('name').notNull(),
    /** Minutes idle (or hidden) before the team's tablets lock (issue 15); an admin sets it. */
    lockMinutes: integer('lock_minutes').notNull().default(5),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  // Unique regardless of case: "Clinic A" and "clinic a" are the same team name.
  (t) => [uniqueIndex('teams_name_unique').on(sql`lower(${t.name})`)],
);

export const teamMemberships = sqliteTable(
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

export const invitations = sqliteTable(
  'invitations',
  {
    code: text('code').primaryKey(), // XXXX-XXXX-XXXX
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

/** Who did what, when, from where. Never secrets or patient data in `detail`. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    // No foreign key: the log outlives whatever it mentions.
    userId: text('user_id'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  // Append-only: triggers in drizzle/0008_audit_append_only.sql refuse UPDATE and DELETE.
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_user_id').on(t.userId),
    index('audit_log_action_at').on(t.action, t.at),
  ],
);

/**
 * One-time password reset codes an admin issues to a user who forgot their password. Only the
 * SHA-256 of the code is kept (the code has 60 random bits and lives 24 hours); a code is used at
 * most once, and a newer code for the same user replaces the older one.
 */
export const passwordResetCodes = sqliteTable(
  'password_reset_codes',
  {
    id: text('id').primaryKey(), // UUID
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull().unique(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    /** Replaced by a newer code before it was used. */
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [index('password_reset_codes_user_id').on(t.userId)],
);

/** Failed login attempts only, kept for the rate-limit window and pruned after it. */
export const loginAttempts = sqliteTable(
  'login_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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

/**
 * Attempts counted by a sliding-window limiter (auth/attempt-limiter.ts), per scope ('signup') and
 * key (an IP): one row per reserved attempt, withdrawn on success and pruned once out of the
 * window. In the database, not in a process's memory, so every server instance counts the same
 * attempts.
 */
export const limiterAttempts = sqliteTable(
  'limiter_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
// Sync (DESIGN 4)

export const SYNC_TABLE_NAMES = [
  'patients',
  'encounters',
  'diagnoses',
  'reports',
  'reviews',
  'attachments',
  'comments',
  'followups',
] as const;

/**
 * The current state of every synced record, of all six tables, keyed by (table, id).
 *
 * One generic table rather than six: the server never queries inside a record (scope is the
 * team_id column, order is seq), every table follows the same push/merge/pull path, and a pull
 * reads one index in seq order instead of merging six. The record's own fields stay in `data`, the
 * JSON the device sent (with the meta fields the server owns overwritten), so a new field on the
 * device needs no migration here. Team ids have no foreign key: clinical records outlive teams.
 */
export const records = sqliteTable(
  'records',
  {
    /**
     * The global change sequence number of the record's latest write: unique and increasing, the
     * order of pulls. It is the rowid, so the table is stored in pull order and max(seq) is free.
     */
    seq: integer('seq').primaryKey(),
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    id: text('id').notNull(),
    teamId: text('team_id').notNull(),
    /** 1 on the first write, +1 on each write. */
    version: integer('version').notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull(),
    /** Server clock (the record's own `updatedAt` inside data is the device's). */
    updatedAt: timestamp('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
    /** The whole record as JSON, meta fields included, exactly what a pull returns. */
    data: text('data').notNull(),
  },
  // records_team_seq: a pull reads each of the caller's teams in seq order from it and merges
  // them, so its cost follows the caller's own changes, not every team's on the server (a quiet
  // team's cursor stays on its own last change, and a walk of the rowid range went through every
  // other team's writes since, at every sync). table_name in the key lets a supervisor's pull keep
  // review-side rows without reading the rest. A push of 10,000 pays 0–10 % more for it
  // (bench:sync-repository, docs/postgresql.md).
  (t) => [
    uniqueIndex('records_table_id').on(t.tableName, t.id),
    index('records_team_seq').on(t.teamId, t.seq, t.tableName),
  ],
);

/**
 * Every version ever written (the current one included): the base of three-way merges, and the
 * proof that an acknowledged edit was kept. `deviceId` / `mutationId` say which push wrote it.
 */
export const recordHistory = sqliteTable(
  'record_history',
  {
    /** The seq of the write that made this version (every write makes exactly one). */
    seq: integer('seq').primaryKey(),
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    id: text('id').notNull(),
    version: integer('version').notNull(),
    teamId: text('team_id').notNull(),
    data: text('data').notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull(),
    at: timestamp('at').notNull(),
    by: text('by').notNull(),
    deviceId: text('device_id').notNull(),
    mutationId: text('mutation_id').notNull(),
  },
  (t) => [uniqueIndex('record_history_version').on(t.tableName, t.id, t.version)],
);

/** The result of every mutation a device pushed, so that a retry returns it again. */
export const appliedMutations = sqliteTable(
  'applied_mutations',
  {
    deviceId: text('device_id').notNull(),
    mutationId: text('mutation_id').notNull(),
    userId: text('user_id').notNull(),
    /** StoredResult as JSON (a merged/conflict record is read back from history). */
    result: text('result').notNull(),
    at: timestamp('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.mutationId] })],
);

export const CONFLICT_STATUSES = ['open', 'resolved'] as const;

/** A device edit whose fields overlapped changes it had not seen: kept until resolved. */
export const conflicts = sqliteTable(
  'conflicts',
  {
    id: text('id').primaryKey(), // UUID
    tableName: text('table_name', { enum: SYNC_TABLE_NAMES }).notNull(),
    recordId: text('record_id').notNull(),
    teamId: text('team_id').notNull(),
    deviceId: text('device_id').notNull(),
    userId: text('user_id').notNull(),
    mutationId: text('mutation_id').notNull(),
    baseVersion: integer('base_version').notNull(),
    serverVersion: integer('server_version').notNull(),
    fields: text('fields', { mode: 'json' }).$type<string[]>().notNull(),
    /** The device's record as pushed (JSON). */
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

/**
 * Content-addressed files under DATA_DIR/blobs/ab/cd/<sha256>. `teamId` is the first team that
 * uploaded it; blob_teams lists every team allowed to read it (the same photo may reach two teams,
 * each of which proved it holds the bytes by uploading them).
 */
export const blobs = sqliteTable('blobs', {
  sha256: text('sha256').primaryKey(),
  bytes: integer('bytes').notNull(),
  mime: text('mime').notNull(),
  teamId: text('team_id').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at').notNull(),
});

export const blobTeams = sqliteTable(
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

/**
 * Devices that pushed or pulled. No foreign key on user_id: a device whose user was deleted must
 * still be recognised (and refused). `scope` is the sorted list of teams the device was last served
 * from cursor 0 with; when the caller's teams differ, the pull asks the device to start over.
 */
export const devices = sqliteTable('devices', {
  id: text('id').primaryKey(),
  userId: text('user_id').notNull(),
  createdAt: timestamp('created_at').notNull(),
  lastSeenAt: timestamp('last_seen_at').notNull(),
  lastPulledCursor: integer('last_pulled_cursor'),
  scope: text('scope', { mode: 'json' }).$type<string[]>(),
  /** The last push the server accepted: the dashboard's "last backup". */
  lastPushAt: timestamp('last_push_at'),
  /** The last push or pull the server answered (the user's and admin's device lists). */
  lastSyncAt: timestamp('last_sync_at'),
  /** "Chrome 131 on Android": a summary of the User-Agent, never the whole string. */
  userAgent: text('user_agent'),
  /** Revoked (lost or stolen): every call naming it is refused and it wipes itself. */
  revokedAt: timestamp('revoked_at'),
  revokedBy: text('revoked_by'),
});

/**
 * The model catalogue (docs/architecture.md §6): every version of every model the server publishes.
 * Files are content-addressed in the blob store (services/models.ts); `files` maps the names the manifest
 * uses (the ONNX file, the input check) to their sha256. At most one version of a model is active.
 */
export const modelVersions = sqliteTable(
  'model_versions',
  {
    id: text('id').notNull(),
    version: text('version').notNull(),
    name: text('name').notNull(),
    modality: text('modality', { enum: ['image', 'tabular'] }).notNull(),
    task: text('task').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    status: text('status', { enum: ['staged', 'active', 'retired'] }).notNull(),
    releaseNotes: text('release_notes').notNull().default(''),
    manifest: text('manifest', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    files: text('files', { mode: 'json' }).$type<Record<string, string>>().notNull(),
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

export type ModelVersionRow = typeof modelVersions.$inferSelect;

/** A team's local prevalence of a model's condition (docs/architecture.md §6), in (0, 1). */
export const teamModelSettings = sqliteTable(
  'team_model_settings',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    prevalence: real('prevalence').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.modelId] })],
);
// ---------------------------------------------------------------------------------------------
// Supervisor review (issue 11). Read models of the synced records, kept in the push transaction
// by services/review-index.ts, so that the queue, the dashboard and the exports are plain indexed
// SQL instead of JSON scans of `records`. Only shared reports (revision >= 1) are indexed: a
// draft never reaches these tables, so no supervisor query can return one.

export const REVIEW_STATE_VALUES = ['awaiting', 'approved', 'returned'] as const;

/** One row per shared report (its current revision), with what the queue filters and sorts on. */
export const reviewReports = sqliteTable(
  'review_reports',
  {
    reportId: text('report_id').primaryKey(),
    teamId: text('team_id').notNull(),
    patientId: text('patient_id').notNull(),
    encounterId: text('encounter_id'),
    /** The clinician whose write shared the current revision. */
    clinicianId: text('clinician_id').notNull(),
    patientName: text('patient_name').notNull(),
    sex: text('sex').notNull(),
    birthDate: text('birth_date'),
    village: text('village').notNull(),
    /** lower(village), for the case-insensitive filter. */
    villageKey: text('village_key').notNull(),
    revision: integer('revision').notNull(),
    state: text('state', { enum: REVIEW_STATE_VALUES }).notNull(),
    /** Server time of the share of the current revision (ms). */
    sharedAt: integer('shared_at').notNull(),
    firstSharedAt: integer('first_shared_at').notNull(),
    /** Server time of the latest review of the current revision (ms). */
    reviewedAt: integer('reviewed_at'),
    everReturned: integer('ever_returned').notNull(),
    positive: integer('positive').notNull(),
    abnormal: integer('abnormal').notNull(),
    disagreement: integer('disagreement').notNull(),
    priority: integer('priority').notNull(),
    /**
     * The report's model results as `|<modelId>:<0|1>|...|` (1 = positive): the model and finding
     * filters test this row alone instead of joining review_diagnoses for each report.
     */
    models: text('models').notNull().default(''),
    /** -priority: the priority sort is ascending on every column, so one index serves it. */
    rank: integer('rank').notNull(),
  },
  // The queue reads one team at a time in index order (routes merge the teams), so every sort
  // and the state filter have a (team_id, ...) index. Each also carries the columns of the
  // state, disagreement, model and finding filters: a rare filter skips non-matching reports in
  // the index without reading their rows, and a period's counts per state read the index alone.
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

/**
 * How many shared reports each team has per state and per value of the other filters that have
 * few values (disagreement, finding, the report's models): counters kept with review_reports by
 * services/review-index.ts, so the queue's counts per state read a few hundred rows instead of
 * counting every report, unless a clinician, village or period filter is set.
 */
export const reviewCounts = sqliteTable(
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

/** The diagnoses a shared report lists (a diagnosis may be listed by several reports). */
export const reviewDiagnoses = sqliteTable(
  'review_diagnoses',
  {
    reportId: text('report_id').notNull(),
    diagnosisId: text('diagnosis_id').notNull(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    modelName: text('model_name').notNull(),
    positive: integer('positive').notNull(),
    /** The clinician's assessment verdict: agree, disagree, unsure, or null. */
    assessment: text('assessment'),
    imageSha256: text('image_sha256'),
    /** Server time the diagnosis was first written (ms): the week of the model run. */
    ranAt: integer('ran_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.reportId, t.diagnosisId] }),
    index('review_diagnoses_diagnosis').on(t.diagnosisId),
    index('review_diagnoses_image').on(t.imageSha256),
  ],
);

/** Every review, as the queue and the dashboard read them (the record itself is in `records`). */
export const reviewEvents = sqliteTable(
  'review_events',
  {
    reviewId: text('review_id').primaryKey(),
    reportId: text('report_id').notNull(),
    teamId: text('team_id').notNull(),
    revision: integer('revision').notNull(),
    decision: text('decision', { enum: ['approved', 'returned'] }).notNull(),
    authorId: text('author_id').notNull(),
    /** Server time (ms). */
    at: integer('at').notNull(),
    /** Server time the judged revision was shared (ms), for share-to-review times. */
    revisionSharedAt: integer('revision_shared_at').notNull(),
    /** 1 for the first review of its (report, revision): share-to-review times count those. */
    firstOfRevision: integer('first_of_revision').notNull(),
    /** What the reviewer judged (services/review-model.ts snapshotOf), the base of the diff. */
    snapshot: text('snapshot').notNull(),
  },
  (t) => [
    index('review_events_report').on(t.reportId, t.at),
    index('review_events_team_at').on(t.teamId, t.at, t.firstOfRevision, t.revisionSharedAt),
  ],
);

/** One row per verdict on an AI result: the field ground truth of model monitoring. */
export const reviewVerdicts = sqliteTable(
  'review_verdicts',
  {
    reviewId: text('review_id').notNull(),
    diagnosisId: text('diagnosis_id').notNull(),
    reportId: text('report_id').notNull(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    /** The model's finding at its threshold. */
    modelPositive: integer('model_positive').notNull(),
    verdict: text('verdict', { enum: ['right', 'wrong', 'cant_tell'] }).notNull(),
    referenceOutcome: text('reference_outcome'),
    at: integer('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.reviewId, t.diagnosisId] }),
    index('review_verdicts_diagnosis').on(t.diagnosisId, t.at),
  ],
);

/**
 * Per clinician, team and week (weeks as in services/stats.ts SQL_WEEK): visits recorded, reports
 * first shared, and of those the ones returned at least once (counted in the week of the share).
 * Counters kept at write time, so the dashboard reads a few thousand rows, not every record.
 */
export const clinicianActivity = sqliteTable(
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

/** Every model result that was part of a shared report, once (the base of model_weekly). */
export const modelRuns = sqliteTable('model_runs', {
  diagnosisId: text('diagnosis_id').primaryKey(),
  teamId: text('team_id').notNull(),
  modelId: text('model_id').notNull(),
  modelVersion: text('model_version').notNull(),
  week: integer('week').notNull(),
  positive: integer('positive').notNull(),
  assessment: text('assessment'),
});

/** Runs, positives and clinician assessments per team, model version and week (counters). */
export const modelWeekly = sqliteTable(
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

/** The latest supervisor verdict on each model result: the field truth of model monitoring. */
export const verdictLatest = sqliteTable(
  'verdict_latest',
  {
    diagnosisId: text('diagnosis_id').primaryKey(),
    teamId: text('team_id').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    modelPositive: integer('model_positive').notNull(),
    verdict: text('verdict', { enum: ['right', 'wrong', 'cant_tell'] }).notNull(),
    at: integer('at').notNull(),
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

/** The report each comment and follow-up belongs to, for the report page. */
export const reviewRefs = sqliteTable(
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

export type ReviewReportRow = typeof reviewReports.$inferSelect;

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type InvitationRow = typeof invitations.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type RecordRow = typeof records.$inferSelect;
export type RecordHistoryRow = typeof recordHistory.$inferSelect;
export type ConflictRow = typeof conflicts.$inferSelect;
export type BlobRow = typeof blobs.$inferSelect;
export type DeviceRow = typeof devices.$inferSelect;
export type PasswordResetCodeRow = typeof passwordResetCodes.$inferSelect;
