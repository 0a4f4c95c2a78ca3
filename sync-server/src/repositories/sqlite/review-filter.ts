import { modelNeedle, periodOf, type ParsedFilters } from '../review-queue.repository';

/*
 * The review filters (the queue's query string) as SQL over review_reports (or review_counts) AS
 * r: the one builder that the queue (review-queue.ts) and the exports (review-reports.ts) share,
 * so that an export holds exactly the reports its queue lists. postgres/review-filter.ts is its
 * twin.
 */

/** WHERE clause and parameters of the filters over review_reports (or review_counts) AS r. */
export function whereOf(
  teams: readonly string[],
  f: ParsedFilters,
  withState: boolean,
): { sql: string; params: unknown[] } {
  const terms = [
    teams.length === 1 ? 'r.team_id = ?' : `r.team_id IN (${teams.map(() => '?').join(', ')})`,
  ];
  const params: unknown[] = [...teams];
  if (withState && f.state) {
    terms.push('r.state = ?');
    params.push(f.state);
  }
  if (f.clinicianId) {
    terms.push('r.clinician_id = ?');
    params.push(f.clinicianId);
  }
  if (f.village) {
    // village_key is the village lower-cased by JavaScript (review-index.ts), and so is this.
    terms.push('r.village_key = ?');
    params.push(f.village.toLowerCase());
  }
  const period = periodOf(f);
  if (period.from !== undefined) {
    terms.push('r.shared_at >= ?');
    params.push(period.from);
  }
  if (period.to !== undefined) {
    terms.push('r.shared_at < ?');
    params.push(period.to);
  }
  if (f.disagreement) {
    terms.push('r.disagreement = ?');
    params.push(f.disagreement === 'true' ? 1 : 0);
  }
  // Model and finding: a substring of review_reports.models (|<modelId>:<0|1>|...|).
  if (f.modelId) {
    terms.push('instr(r.models, ?) > 0');
    params.push(modelNeedle(f));
  } else if (f.finding === 'positive') {
    terms.push('r.positive = 1');
  } else if (f.finding === 'negative') {
    terms.push("r.positive = 0 AND r.models <> ''");
  }
  return { sql: terms.join(' AND '), params };
}
