/**
 * Words for values the records keep in English (a review state, a report's status): each reader
 * sees them in their language; a value the app does not know is shown as kept.
 */
import { m } from '$lib/paraglide/messages';

const REVIEW_STATE: Record<string, () => string> = {
  awaiting: m.review_state_awaiting,
  approved: m.review_state_approved,
  returned: m.review_state_returned,
};

const REPORT_STATUS: Record<string, () => string> = {
  draft: m.report_status_draft,
  shared: m.report_status_shared,
  reviewed: m.report_status_reviewed,
};

export const reviewStateLabel = (state: string) => REVIEW_STATE[state]?.() ?? state;
export const reportStatusLabel = (status: string) => REPORT_STATUS[status]?.() ?? status;

const RECORD: Record<string, () => string> = {
  patients: m.cf_table_patients,
  encounters: m.cf_table_encounters,
  diagnoses: m.cf_table_diagnoses,
  reports: m.cf_table_reports,
};

/** A table's record in words ("encounters" → "encounter"). */
export const recordWord = (table: string) => RECORD[table]?.() ?? table.replace(/s$/, '');

const INPUT_ISSUE: Record<string, () => string> = {
  blank: m.input_blank,
  underexposed: m.input_underexposed,
  overexposed: m.input_overexposed,
  unusual: m.input_unusual,
};

/** An image check's finding (inference/input-check.ts, worded in English there) in words. */
export const inputIssueMessage = (issue: { code: string; message: string }) =>
  INPUT_ISSUE[issue.code]?.() ?? issue.message;

const ROLE: Record<string, () => string> = {
  clinician: m.role_clinician,
  supervisor: m.role_supervisor,
};

/** A team role ("clinician", "supervisor") in words. */
export const roleLabel = (role: string) => ROLE[role]?.() ?? role;
