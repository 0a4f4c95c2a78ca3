import type {
  CommentFields,
  FollowupFields,
  ReviewFields as WireReviewFields,
} from 'sync-server/protocol';

/**
 * The records of DESIGN 2 as the device holds them. Pure types and constructors: no Dexie, no fetch.
 */
export type SyncedTable =
  | 'patients'
  | 'encounters'
  | 'diagnoses'
  | 'reports'
  | 'reviews'
  | 'attachments'
  | 'comments'
  | 'followups';

/** Fields every synced record carries. */
export interface RecordMeta {
  /** UUIDv7, made on the device. */
  id: string;
  teamId: string;
  /** Assigned by the server; 0 = never synced. */
  version: number;
  /** Device clock, informational only. */
  updatedAt: string;
  updatedBy: string;
  deleted: boolean;
}

export type Sex = 'female' | 'male' | 'other' | 'unknown';

export interface Identifier {
  /** e.g. "National ID", "Clinic number". */
  kind: string;
  value: string;
}

export interface PatientFields {
  givenName: string;
  familyName: string;
  sex: Sex;
  /** ISO date (YYYY-MM-DD); derived from the estimated age when the exact date is unknown. */
  birthDate: string | null;
  birthDateEstimated: boolean;
  village: string;
  phone: string;
  identifiers: Identifier[];
}

export interface Patient extends RecordMeta, PatientFields {}

export interface Vitals {
  temperatureC: number | null;
  pulseBpm: number | null;
  respiratoryRate: number | null;
  spo2: number | null;
  systolicBp: number | null;
  diastolicBp: number | null;
  weightKg: number | null;
  heightCm: number | null;
  muacMm: number | null;
}

export interface EncounterFields {
  patientId: string;
  /** ISO date of the visit. */
  date: string;
  complaint: string;
  vitals: Vitals;
  symptoms: string[];
  notes: string;
}

export interface Encounter extends RecordMeta, EncounterFields {}

export type Verdict = 'agree' | 'disagree' | 'unsure';

export interface Assessment {
  verdict: Verdict;
  note: string;
  at: string;
  by: string;
}

export type DiagnosisInputs =
  | { kind: 'tabular'; values: Record<string, number | null> }
  | { kind: 'image'; attachmentId: string; sha256: string };

export interface DiagnosisFields {
  patientId: string;
  encounterId: string | null;
  modelId: string;
  modelVersion: string;
  /** The exact model file that made it (absent on results saved before the catalogue). */
  modelSha256?: string;
  modelName: string;
  inputs: DiagnosisInputs;
  /** Probability per label. */
  outputs: Record<string, number>;
  positiveLabel: string;
  threshold: number;
  /** Why the result looks as it does (DESIGN 6): per-field changes, or an occlusion map. */
  explanation: DiagnosisExplanation | null;
  /** The model's intended use and limitations as shown with the result, kept with it. */
  modelNotice: { intendedUse: string; limitations: string };
  /** The clinician's view of the result; required before it counts as reviewed by the clinician. */
  assessment: Assessment | null;
  /**
   * Why the result may not hold, as the clinician was warned before running it (patient outside
   * the model's eligibility, an image that did not look like the training images).
   */
  warnings?: string[];
}

export interface Diagnosis extends RecordMeta, DiagnosisFields {}

export type DiagnosisExplanation =
  /** Change in the positive probability when each field is left out (key → delta). */
  | { kind: 'contributions'; values: Record<string, number> }
  /** Occlusion sensitivity over the exact model input (both row-major, width × height). */
  | {
      kind: 'heatmap';
      width: number;
      height: number;
      channels: 1 | 3;
      input: number[];
      values: number[];
      maxAbs: number;
    };

export type ReportStatus = 'draft' | 'shared' | 'reviewed';

export interface ReportFields {
  patientId: string;
  encounterId: string | null;
  diagnosisIds: string[];
  summary: string;
  plan: string;
  status: ReportStatus;
  authorName: string;
  /** The user who created the report (absent on reports created before it was recorded). */
  authorId?: string;
  sharedAt: string | null;
  /** The user who shared the current revision (absent until shared, and on older reports). */
  sharedBy?: string;
  /**
   * Owned by the server (sync-server/protocol/review.ts): 0 until shared, +1 on each share. Absent
   * on a report the server has not sent back yet.
   */
  revision?: number;
}

export interface Report extends RecordMeta, ReportFields {}

/** A supervisor's judgement of one report revision (append-only). */
export type ReviewFields = WireReviewFields;
export interface Review extends RecordMeta, ReviewFields {}

/** One message of a report's thread, clinician ↔ supervisor (append-only). */
export interface Comment extends RecordMeta, CommentFields {}

/** A supervisor's request to see a patient again; a clinician closes it with an encounter. */
export interface Followup extends RecordMeta, FollowupFields {}

export interface AttachmentFields {
  patientId: string;
  sha256: string;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
}

export interface Attachment extends RecordMeta, AttachmentFields {}

export interface TableRecord {
  patients: Patient;
  encounters: Encounter;
  diagnoses: Diagnosis;
  reports: Report;
  reviews: Review;
  attachments: Attachment;
  comments: Comment;
  followups: Followup;
}

export const EMPTY_VITALS: Vitals = {
  temperatureC: null,
  pulseBpm: null,
  respiratoryRate: null,
  spo2: null,
  systolicBp: null,
  diastolicBp: null,
  weightKg: null,
  heightCm: null,
  muacMm: null,
};

/** Who is writing and for which team: every new record needs both. */
export interface Author {
  userId: string;
  teamId: string;
}

/** Common fields of a record made on this device now. */
export function newMeta(id: string, author: Author, now: Date): RecordMeta {
  return {
    id,
    teamId: author.teamId,
    version: 0,
    updatedAt: now.toISOString(),
    updatedBy: author.userId,
    deleted: false,
  };
}
