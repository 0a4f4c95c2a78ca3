import type { Diagnosis, Encounter, Report } from './records';

/** What a clinician's day still asks of them, from the records on the device. */
export interface Worklist {
  /** Visits dated today, newest first. */
  today: Encounter[];
  /** Earlier visits left unfinished: a value still marked as wrong, or no complaint recorded. */
  unfinished: Encounter[];
  /** Model results saved without the clinician's assessment. */
  awaitingAssessment: Diagnosis[];
  /** Reports written but not shared with the supervisor. */
  draftReports: Report[];
}

export interface WorklistInput {
  encounters: readonly Encounter[];
  diagnoses: readonly Diagnosis[];
  reports: readonly Report[];
  /** Visits whose form keeps a value not saved yet (a draft with marked fields). */
  visitsWithDraft: ReadonlySet<string>;
  /** The clinician: the team's records arrive by sync, the worklist keeps those they last edited. */
  userId: string;
}

const newestFirst = (a: { id: string }, b: { id: string }) => b.id.localeCompare(a.id);

/** The worklist for `today` (YYYY-MM-DD, as visits are dated). Deleted records never show. */
export function buildWorklist(input: WorklistInput, today: string): Worklist {
  const mine = <R extends { deleted: boolean; updatedBy: string }>(r: R) =>
    !r.deleted && r.updatedBy === input.userId;
  const visits = input.encounters.filter(mine);
  return {
    today: visits.filter((e) => e.date === today).sort(newestFirst),
    unfinished: visits
      .filter((e) => e.date !== today && (input.visitsWithDraft.has(e.id) || !e.complaint.trim()))
      .sort((a, b) => b.date.localeCompare(a.date) || newestFirst(a, b)),
    awaitingAssessment: input.diagnoses.filter((d) => mine(d) && !d.assessment).sort(newestFirst),
    draftReports: input.reports.filter((r) => mine(r) && r.status === 'draft').sort(newestFirst),
  };
}
