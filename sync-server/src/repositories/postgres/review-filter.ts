import { sql, type SQL } from 'drizzle-orm';
import { modelNeedle, periodOf, type ParsedFilters } from '../review-queue.repository';

/*
 * The review filters as SQL over review_reports (or review_counts) AS r, shared by the queue
 * (review-queue.ts) and the exports (review-reports.ts): the twin of sqlite/review-filter.ts.
 * - The village filter compares village_key, lower-cased by JavaScript on both dialects
 *   (review-index.ts), with the filter lower-cased by JavaScript too: no lower() of either
 *   database, whose case tables differ outside ASCII.
 * - strpos for SQLite's instr: both are case-sensitive.
 */

const list = (values: readonly unknown[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** The filters over review_reports (or review_counts) AS r. */
export function whereOf(teams: readonly string[], f: ParsedFilters, withState: boolean): SQL {
  const terms: SQL[] = [
    teams.length === 1 ? sql`r.team_id = ${teams[0]}` : sql`r.team_id IN (${list(teams)})`,
  ];
  if (withState && f.state) terms.push(sql`r.state = ${f.state}`);
  if (f.clinicianId) terms.push(sql`r.clinician_id = ${f.clinicianId}`);
  if (f.village) terms.push(sql`r.village_key = ${f.village.toLowerCase()}`);
  const period = periodOf(f);
  if (period.from !== undefined) terms.push(sql`r.shared_at >= ${period.from}`);
  if (period.to !== undefined) terms.push(sql`r.shared_at < ${period.to}`);
  if (f.disagreement) terms.push(sql`r.disagreement = ${f.disagreement === 'true' ? 1 : 0}`);
  if (f.modelId) {
    terms.push(sql`strpos(r.models, ${modelNeedle(f)}) > 0`);
  } else if (f.finding === 'positive') {
    terms.push(sql`r.positive = 1`);
  } else if (f.finding === 'negative') {
    terms.push(sql`r.positive = 0 AND r.models <> ''`);
  }
  return sql.join(terms, sql` AND `);
}
