import { z } from 'zod';
import { Timestamp } from './common';

/*
 * Supervisor review (issue 11): the synced records it adds and the query API of the supervisor's
 * screens.
 *
 * SYNCED RECORDS (through POST /api/sync/push and GET /api/sync/pull, with their idempotency,
 * outbox and merge; a record on the wire is its meta fields, DESIGN 2, plus the fields below):
 *
 * - reports (existing table) gain `revision` (ReportReviewFields), owned by the server: 0 while the
 *   report was never shared; +1 on each write that shares it, i.e. a write with status 'shared'
 *   (or 'reviewed') when the previous version was not shared, or was shared with another
 *   `sharedAt`. So a clinician re-shares a returned report by writing status 'shared' with a new
 *   `sharedAt` (a write to a shared report that keeps its sharedAt edits the same revision).
 * - reviews (ReviewFields): append-only. Written by a supervisor of the report's team (or an
 *   admin); never by a clinician. The report must exist in that team and have been shared
 *   (revision >= 1); `revision` is the revision judged (<= the report's current revision; an older
 *   one is kept and shown as a review of that revision). `comment` is required when returned.
 *   Each verdict names a diagnosis listed in the report's diagnosisIds, at most once.
 * - comments (CommentFields): append-only thread per report; written by a clinician of the team
 *   or a supervisor of the team (or an admin); a supervisor only on a shared report.
 * - followups (FollowupFields): created by a supervisor (or admin) of the team with status 'open'
 *   and a dueDate not before the server's current UTC date. A clinician of the team may only mark
 *   it done (status 'done', doneEncounterId = an encounter of the same patient in the team,
 *   doneAt). A supervisor may change reason, dueDate (not in the past) or set status 'cancelled'.
 *   Never deleted.
 * Server-owned fields (authorId, authorName, authorRole, createdBy) are overwritten with the
 * authenticated user whatever the device sent, like updatedBy. Rejections come back as
 * `rejected` results (code 'invalid' or 'forbidden', or 'append_only' for a changed review or
 * comment) with a reason in words.
 *
 * PULL SCOPE: a clinician of a team pulls all of its records (drafts included). A supervisor of a
 * team (who is not also its clinician) pulls only its reviews, comments and followups; clinical
 * records reach a supervisor only through the routes below, and only shared reports and what they
 * reference. A change of the caller's teams OR roles makes a pull from an older cursor answer
 * `reset: true`: the device must then drop every synced record that has no pending edit and pull
 * again from cursor 0 (records no longer in scope are not sent as deletions).
 *
 * ROUTES (all JSON unless said; every error is `{"error": {"code", "message"}}` with a 4xx):
 *
 * GET  /api/review/queue?QueueQuery -> QueueResponse
 *      Supervisor of the team(s), or admin (any team). Shared reports only, filtered, sorted and
 *      paginated on the server (keyset `cursor`), with counts per state for the same filters.
 * GET  /api/review/reports/:id -> ReportBundle
 *      Supervisor of the report's team, or admin. 404 for a draft, another team's or no report.
 * GET  /api/review/dashboard?DashboardQuery -> DashboardResponse
 *      Supervisor (their teams) or admin (any team). Aggregates over shared reports.
 * GET  /api/review/export.csv?ExportCsvQuery -> text/csv, streamed; one row per report (rows=reports,
 *      default) or per diagnosis (rows=diagnoses), of the queue filtered as /queue (no paging).
 * GET  /api/review/export.fhir?QueueFilters -> application/fhir+json, streamed: a FHIR R4 Bundle
 *      (type collection) with Patient, Encounter, Observation (vitals), DiagnosticReport,
 *      RiskAssessment per model result (model id and version in method/basis) and Media per image.
 * GET  /api/review/teams -> ReviewTeamsResponse: the teams the caller may review (for the filter).
 * POST /api/review/mutations {deviceId, mutation} -> MutationResult (applied/merged)
 *      The push of one review, comment or followup for a connected screen: the same checks and
 *      idempotency as /api/sync/push, but a rejection is a 4xx with its reason (400 invalid, 403
 *      forbidden, 404 unknown report, 409 append_only).
 * GET  /api/blobs/:sha256 serves a supervisor only the images of diagnoses of shared reports of the
 *      teams they supervise.
 *
 * Every review, comment, follow-up written and every export is in the audit log (ids only).
 */

// ---------------------------------------------------------------------------------------------
// Synced records

export const REVIEW_STATES = ['awaiting', 'approved', 'returned'] as const;
export const ReviewState = z.enum(REVIEW_STATES, {
  error: `must be one of ${REVIEW_STATES.join(', ')}`,
});
export type ReviewState = z.infer<typeof ReviewState>;

export const ReviewDecision = z.enum(['approved', 'returned'], {
  error: "must be 'approved' or 'returned'",
});
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const AiVerdict = z.enum(['right', 'wrong', 'cant_tell'], {
  error: "must be 'right', 'wrong' or 'cant_tell'",
});
export type AiVerdict = z.infer<typeof AiVerdict>;

export const MAX_COMMENT_CHARS = 4000;
export const MAX_REFERENCE_OUTCOME_CHARS = 500;
export const MAX_FOLLOWUP_REASON_CHARS = 1000;

const RecordRef = z.string({ error: 'must be a string' }).min(1, 'is required').max(100);
const IsoDate = z
  .string({ error: 'must be a date' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)');

/** The server-owned field a report gains (see the top of this file). */
export const ReportReviewFields = z.object({ revision: z.number().int().min(0) });
export type ReportReviewFields = z.infer<typeof ReportReviewFields>;

export const DiagnosisVerdict = z.object({
  diagnosisId: RecordRef,
  verdict: AiVerdict,
  /** What the field found, e.g. "pneumonia confirmed by radiologist", "lab-negative". */
  referenceOutcome: z
    .string({ error: 'must be a string' })
    .max(MAX_REFERENCE_OUTCOME_CHARS, `must be at most ${MAX_REFERENCE_OUTCOME_CHARS} characters`)
    .nullable()
    .optional(),
});
export type DiagnosisVerdict = z.infer<typeof DiagnosisVerdict>;

export const ReviewFields = z
  .object({
    reportId: RecordRef,
    /** The report revision this review judged. */
    revision: z.number({ error: 'must be a number' }).int('must be a whole number').min(1),
    decision: ReviewDecision,
    /** What to correct (required when returned). */
    comment: z
      .string({ error: 'must be a string' })
      .max(MAX_COMMENT_CHARS, `must be at most ${MAX_COMMENT_CHARS} characters`),
    verdicts: z.array(DiagnosisVerdict).max(100, 'must hold at most 100 verdicts'),
    /** Device clock, informational. */
    createdAt: Timestamp,
    /** Server-owned: the authenticated author. */
    authorId: z.string().optional(),
    authorName: z.string().optional(),
  })
  .refine((r) => r.decision !== 'returned' || r.comment.trim().length > 0, {
    message: 'a returned report needs a comment saying what to correct',
    path: ['comment'],
  });
export type ReviewFields = z.infer<typeof ReviewFields>;

export const CommentFields = z.object({
  reportId: RecordRef,
  body: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_COMMENT_CHARS, `must be at most ${MAX_COMMENT_CHARS} characters`),
  createdAt: Timestamp,
  /** Server-owned. */
  authorId: z.string().optional(),
  authorName: z.string().optional(),
  authorRole: z.enum(['clinician', 'supervisor']).optional(),
});
export type CommentFields = z.infer<typeof CommentFields>;

export const FOLLOWUP_STATUSES = ['open', 'done', 'cancelled'] as const;
export const FollowupStatus = z.enum(FOLLOWUP_STATUSES, {
  error: `must be one of ${FOLLOWUP_STATUSES.join(', ')}`,
});
export type FollowupStatus = z.infer<typeof FollowupStatus>;

export const FollowupFields = z.object({
  patientId: RecordRef,
  reportId: RecordRef.nullable(),
  reason: z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_FOLLOWUP_REASON_CHARS, `must be at most ${MAX_FOLLOWUP_REASON_CHARS} characters`),
  dueDate: IsoDate,
  status: FollowupStatus,
  /** Set by the clinician when done: the encounter that followed the patient up. */
  doneEncounterId: RecordRef.nullable(),
  doneAt: Timestamp.nullable(),
  createdAt: Timestamp,
  /** Server-owned: the supervisor who asked for it. */
  createdBy: z.string().optional(),
  createdByName: z.string().optional(),
});
export type FollowupFields = z.infer<typeof FollowupFields>;

/**
 * The state of a report as the tablet shows it, from its revision and the reviews it holds: the
 * decision of the latest review of the current revision, else awaiting (also for a returned
 * report shared again). Reviews are ordered by createdAt, then id.
 */
export function reviewStateOf(
  revision: number,
  reviews: readonly { revision: number; decision: ReviewDecision; createdAt: string; id: string }[],
): ReviewState | null {
  if (revision < 1) return null;
  let latest: (typeof reviews)[number] | undefined;
  for (const r of reviews) {
    if (r.revision !== revision) continue;
    if (
      !latest ||
      r.createdAt > latest.createdAt ||
      (r.createdAt === latest.createdAt && r.id > latest.id)
    )
      latest = r;
  }
  return latest ? latest.decision : 'awaiting';
}

// ---------------------------------------------------------------------------------------------
// Query API

const QueryBool = z.enum(['true', 'false'], { error: "must be 'true' or 'false'" });
const QueryDate = IsoDate;

/** Filters shared by the queue and the exports (query-string values). */
export const QueueFilters = z.object({
  state: ReviewState.optional(),
  teamId: RecordRef.optional(),
  clinicianId: RecordRef.optional(),
  /** Exact village, case-insensitive. */
  village: z.string().trim().min(1).max(200).optional(),
  /** Reports with a diagnosis of this model. */
  modelId: RecordRef.optional(),
  /** With modelId: that model's result; alone: any diagnosis of the report. */
  finding: z
    .enum(['positive', 'negative'], { error: "must be 'positive' or 'negative'" })
    .optional(),
  /** Shared (latest revision) on or after / on or before this UTC date. */
  from: QueryDate.optional(),
  to: QueryDate.optional(),
  /** A diagnosis whose clinician assessment disagrees with the model (true) or none (false). */
  disagreement: QueryBool.optional(),
});
export type QueueFilters = z.input<typeof QueueFilters>;

export const QUEUE_DEFAULT_LIMIT = 50;
export const QUEUE_MAX_LIMIT = 200;

export const QueueQuery = QueueFilters.extend({
  /** age: oldest share first; priority: most flags (positive, abnormal vitals, disagreement) first, then oldest. */
  sort: z.enum(['age', 'priority'], { error: "must be 'age' or 'priority'" }).default('age'),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `must be a whole number between 1 and ${QUEUE_MAX_LIMIT}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, `must be between 1 and ${QUEUE_MAX_LIMIT}`)
        .max(QUEUE_MAX_LIMIT, `must be between 1 and ${QUEUE_MAX_LIMIT}`),
    )
    .default(QUEUE_DEFAULT_LIMIT),
  /** nextCursor of the previous page (opaque). */
  cursor: z.string().max(500).optional(),
});
export type QueueQuery = z.input<typeof QueueQuery>;

export const QueueModel = z.object({
  diagnosisId: z.string(),
  modelId: z.string(),
  modelVersion: z.string(),
  positive: z.boolean(),
  /** The clinician's assessment of the result, if given. */
  assessment: z.enum(['agree', 'disagree', 'unsure']).nullable(),
});
export type QueueModel = z.infer<typeof QueueModel>;

export const QueueItem = z.object({
  reportId: z.string(),
  teamId: z.string(),
  teamName: z.string(),
  patientId: z.string(),
  patientName: z.string(),
  sex: z.string(),
  ageYears: z.number().int().nullable(),
  village: z.string(),
  clinicianId: z.string(),
  clinicianName: z.string(),
  revision: z.number().int(),
  state: ReviewState,
  /** Server time of the share of the current revision. */
  sharedAt: Timestamp,
  firstSharedAt: Timestamp,
  /** Server time of the latest review of the current revision. */
  reviewedAt: Timestamp.nullable(),
  positive: z.boolean(),
  abnormalVitals: z.boolean(),
  disagreement: z.boolean(),
  /** positive + abnormalVitals + disagreement (0..3). */
  priority: z.number().int(),
  diagnoses: z.array(QueueModel),
});
export type QueueItem = z.infer<typeof QueueItem>;

export const StateCounts = z.object({
  awaiting: z.number().int(),
  approved: z.number().int(),
  returned: z.number().int(),
});
export type StateCounts = z.infer<typeof StateCounts>;

export const QueueResponse = z.object({
  items: z.array(QueueItem),
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: z.string().nullable(),
  /** Counts per state for the same filters (the state filter left out). */
  counts: StateCounts,
});
export type QueueResponse = z.infer<typeof QueueResponse>;

export const ReviewTeamsResponse = z.object({
  teams: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      clinicians: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  ),
});
export type ReviewTeamsResponse = z.infer<typeof ReviewTeamsResponse>;

export const VitalFlagWire = z.object({
  level: z.enum(['warning', 'danger']),
  message: z.string(),
});

export const ReviewRecord = z.object({
  id: z.string(),
  reportId: z.string(),
  revision: z.number().int(),
  decision: ReviewDecision,
  comment: z.string(),
  verdicts: z.array(DiagnosisVerdict),
  authorId: z.string(),
  authorName: z.string(),
  /** Server time the review arrived. */
  at: Timestamp,
});
export type ReviewRecord = z.infer<typeof ReviewRecord>;

export const CommentRecord = z.object({
  id: z.string(),
  reportId: z.string(),
  body: z.string(),
  authorId: z.string(),
  authorName: z.string(),
  authorRole: z.enum(['clinician', 'supervisor']),
  at: Timestamp,
});
export type CommentRecord = z.infer<typeof CommentRecord>;

export const FollowupRecord = z.object({
  id: z.string(),
  patientId: z.string(),
  reportId: z.string().nullable(),
  reason: z.string(),
  dueDate: z.string(),
  status: FollowupStatus,
  doneEncounterId: z.string().nullable(),
  doneAt: Timestamp.nullable(),
  createdBy: z.string(),
  createdByName: z.string(),
  version: z.number().int(),
});
export type FollowupRecord = z.infer<typeof FollowupRecord>;

export const FieldChange = z.object({
  /** e.g. `report.summary`, `encounter.vitals.spo2`, `diagnosis:<id>.assessment`, `report.diagnosisIds`. */
  path: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
export type FieldChange = z.infer<typeof FieldChange>;

export const ReportBundle = z.object({
  report: z.object({
    id: z.string(),
    teamId: z.string(),
    teamName: z.string(),
    version: z.number().int(),
    revision: z.number().int(),
    state: ReviewState,
    status: z.string(),
    summary: z.string(),
    plan: z.string(),
    authorName: z.string(),
    clinicianId: z.string(),
    clinicianName: z.string(),
    sharedAt: Timestamp,
    firstSharedAt: Timestamp,
  }),
  /** No phone or identifiers: what a reviewer needs. */
  patient: z.object({
    id: z.string(),
    name: z.string(),
    sex: z.string(),
    birthDate: z.string().nullable(),
    birthDateEstimated: z.boolean(),
    ageYears: z.number().int().nullable(),
    village: z.string(),
  }),
  encounter: z
    .object({
      id: z.string(),
      date: z.string(),
      complaint: z.string(),
      vitals: z.record(z.string(), z.number().nullable()),
      symptoms: z.array(z.string()),
      notes: z.string(),
      /** Abnormal vitals for the patient's age (the tablet's rules). */
      flags: z.record(z.string(), VitalFlagWire),
    })
    .nullable(),
  /** The diagnoses the report lists, in its order (the tablet's records as they are). */
  diagnoses: z.array(
    z.object({
      id: z.string(),
      modelId: z.string(),
      modelVersion: z.string(),
      modelName: z.string(),
      inputs: z.unknown(),
      outputs: z.record(z.string(), z.number()),
      positiveLabel: z.string(),
      threshold: z.number(),
      positive: z.boolean(),
      explanation: z.unknown(),
      modelNotice: z.unknown(),
      assessment: z.unknown(),
      /** The input image, if any: GET it from /api/blobs/:sha256. */
      image: z.object({ sha256: z.string(), mime: z.string().nullable() }).nullable(),
    }),
  ),
  /** Oldest first; `revision` says which revision each judged. */
  reviews: z.array(ReviewRecord),
  comments: z.array(CommentRecord),
  followups: z.array(FollowupRecord),
  /** What changed since the revision last returned (null when none was returned before). */
  diff: z
    .object({
      fromRevision: z.number().int(),
      toRevision: z.number().int(),
      changes: z.array(FieldChange),
    })
    .nullable(),
});
export type ReportBundle = z.infer<typeof ReportBundle>;

export const ReviewMutationRequest = z.object({
  deviceId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 letters, digits, - or _'),
  mutation: z.looseObject({ mutationId: z.string().min(1).max(100) }),
});
export type ReviewMutationRequest = z.input<typeof ReviewMutationRequest>;

export const ExportCsvQuery = QueueFilters.extend({
  rows: z
    .enum(['reports', 'diagnoses'], { error: "must be 'reports' or 'diagnoses'" })
    .default('reports'),
});
export type ExportCsvQuery = z.input<typeof ExportCsvQuery>;

// ---------------------------------------------------------------------------------------------
// Dashboard

export const DashboardQuery = z.object({
  teamId: RecordRef.optional(),
  /** Period (UTC dates, inclusive); default the 12 weeks up to today. */
  from: QueryDate.optional(),
  to: QueryDate.optional(),
  /** A device not backed up for more than this many days is an alert. */
  backupAlertDays: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number of days')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(365, 'must be at most 365'))
    .default(3),
});
export type DashboardQuery = z.input<typeof DashboardQuery>;

/** A proportion with its 95 % Wilson score interval; null value when n = 0. */
export const Proportion = z.object({
  n: z.number().int(),
  k: z.number().int(),
  value: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
});
export type Proportion = z.infer<typeof Proportion>;

/** Weeks are named by their Monday (UTC), YYYY-MM-DD. */
const Week = z.string();

export const DashboardResponse = z.object({
  period: z.object({ from: z.string(), to: z.string() }),
  teams: z.array(z.object({ id: z.string(), name: z.string() })),
  workload: z.object({
    sharedPerWeek: z.array(
      z.object({
        week: Week,
        teamId: z.string(),
        clinicianId: z.string(),
        count: z.number().int(),
      }),
    ),
    /** Reports awaiting review now (period ignored) by age since their share. */
    queueAge: z.object({
      awaiting: z.number().int(),
      medianHours: z.number().nullable(),
      oldestHours: z.number().nullable(),
      buckets: z.array(z.object({ label: z.string(), count: z.number().int() })),
    }),
    /** From the share of a revision to its first review, over reviews in the period. */
    medianShareToReviewHours: z.number().nullable(),
  }),
  clinicians: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      teamId: z.string(),
      encountersPerWeek: z.array(z.object({ week: Week, count: z.number().int() })),
      reportsPerWeek: z.array(z.object({ week: Week, count: z.number().int() })),
      reports: z.number().int(),
      /** Reports of the period returned at least once. */
      returned: z.number().int(),
      returnedRate: z.number().nullable(),
    }),
  ),
  devices: z.array(
    z.object({
      deviceId: z.string(),
      userId: z.string(),
      userName: z.string(),
      teamId: z.string(),
      /** Last push the server accepted (null: never pushed). */
      lastBackupAt: Timestamp.nullable(),
      daysSinceBackup: z.number().nullable(),
      alert: z.boolean(),
    }),
  ),
  backupAlertDays: z.number().int(),
  models: z.array(
    z.object({
      modelId: z.string(),
      modelVersion: z.string(),
      modelName: z.string(),
      runs: z.number().int(),
      positiveRate: Proportion,
      /** positives / n of the manifest's validation split (null when the server lacks it). */
      validationPrevalence: z.number().nullable(),
      runsPerWeek: z.array(
        z.object({
          week: Week,
          runs: z.number().int(),
          positives: z.number().int(),
          positiveRate: Proportion,
          /** The week's 95 % interval excludes the validation prevalence. */
          alert: z.boolean(),
        }),
      ),
      /** Assessed results where the clinician agreed. */
      agreement: Proportion,
      verdicts: z.object({
        right: z.number().int(),
        wrong: z.number().int(),
        cantTell: z.number().int(),
      }),
      accuracy: Proportion,
      sensitivity: Proportion,
      specificity: Proportion,
      alert: z.boolean(),
    }),
  ),
});
export type DashboardResponse = z.infer<typeof DashboardResponse>;
