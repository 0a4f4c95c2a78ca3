import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { requireUser } from '../auth/middleware';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { ApiError } from '../errors';
import { clientIp } from '../middleware/client-ip';
import { formatIssue, validate } from '../middleware/validate';
import {
  DashboardQuery,
  ExportCsvQuery,
  QueueFilters,
  QueueQuery,
  ReviewMutationRequest,
  type MutationResult,
  type DashboardResponse,
  type QueueResponse,
  type ReportBundle,
  type ReviewTeamsResponse,
} from '../protocol';
import { dashboard, manifestPrevalence, type PrevalenceOf } from '../services/review-dashboard';
import { writeAudit } from '../services/audit';
import { csvChunks, exportPages, fhirChunks, textStream } from '../services/review-export';
import { REVIEW_SIDE_TABLES } from '../services/review-index';
import { listReviewTeams, queue, reportBundle } from '../services/review-queue';
import { scopeOf } from '../services/scope';
import { push } from '../services/sync';
import { contactOf } from './sync';

/** Parses the query string with a protocol schema; a bad value is a 400 naming the parameter. */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  query: Record<string, string>,
): z.output<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new ApiError(400, 'invalid_request', formatIssue(parsed.error.issues[0]!, query));
  }
  return parsed.data;
}

/** A generator whose first item was already taken, whole again (and closed with it). */
async function* resume<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    if (first.done) return;
    yield first.value;
    for (let n = await rest.next(); !n.done; n = await rest.next()) yield n.value;
  } finally {
    await rest.return?.(undefined);
  }
}

/** HTTP status of a rejected review-side write on the direct route. */
const REJECT_STATUS = { invalid: 400, forbidden: 403, append_only: 409 } as const;

/**
 * /api/review (issue 11): the supervisor's queue, report page and direct writes, within the teams
 * they supervise (every team for an admin). The protocol is described in protocol/review.ts.
 */
export const reviewRoutes = (
  { repos, env, now }: AppDeps,
  prevalenceOf: PrevalenceOf = manifestPrevalence(),
) => {
  /**
   * The start of an export: the caller's first page is read now, so that a 403 is an answer and
   * not a broken download, and the export is audited with its filters.
   */
  const callerOf = (c: Context<AppEnv & AuthedEnv>) => ({
    userId: c.get('user')!.id,
    ip: clientIp(c, env.TRUST_PROXY),
  });
  const startExport = async (
    caller: { userId: string; ip: string },
    format: 'csv' | 'fhir',
    q: Parameters<typeof exportPages>[2],
  ) => {
    const at = now();
    const pages = exportPages(repos, await scopeOf(repos, caller.userId), q);
    const first = await pages.next();
    await writeAudit(repos, { ...caller, at }, 'review.export', null, { format, filters: q });
    return { rows: resume(first, pages), at };
  };
  return new Hono<AppEnv>()
    .use(requireUser)
    .get('/dashboard', async (c) => {
      const q = parseQuery(DashboardQuery, c.req.query());
      const scope = await scopeOf(repos, c.get('user')!.id);
      const body = await dashboard(repos, scope, q, now(), prevalenceOf);
      return c.json(body satisfies DashboardResponse, 200);
    })
    .get('/queue', async (c) => {
      const q = parseQuery(QueueQuery, c.req.query());
      const body = await queue(repos, await scopeOf(repos, c.get('user')!.id), q, now());
      return c.json(body satisfies QueueResponse, 200);
    })
    .get('/export.csv', async (c) => {
      const q = parseQuery(ExportCsvQuery, c.req.query());
      const { rows, at } = await startExport(callerOf(c), 'csv', q);
      return c.body(textStream(csvChunks(rows, q.rows, at)), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="fielddx-reports-${at.toISOString().slice(0, 10)}.csv"`,
      });
    })
    .get('/export.fhir', async (c) => {
      const q = parseQuery(QueueFilters, c.req.query());
      const { rows, at } = await startExport(callerOf(c), 'fhir', q);
      return c.body(textStream(fhirChunks(rows, env.PUBLIC_ORIGIN, at)), 200, {
        'Content-Type': 'application/fhir+json; charset=utf-8',
        'Content-Disposition': `attachment; filename="fielddx-reports-${at.toISOString().slice(0, 10)}.fhir.json"`,
      });
    })
    .get('/teams', async (c) => {
      const body = await listReviewTeams(repos, await scopeOf(repos, c.get('user')!.id));
      return c.json(body satisfies ReviewTeamsResponse, 200);
    })
    .get('/reports/:id', async (c) => {
      const at = now();
      const scope = await scopeOf(repos, c.get('user')!.id);
      const body = await reportBundle(repos, scope, c.req.param('id'), at);
      // Who read which patient's report, and when: the audit log's answer to a data-protection
      // officer (only reads that succeeded; a refused one read nothing).
      await writeAudit(repos, { ...callerOf(c), at }, 'review.read', body.report.id, {
        teamId: body.report.teamId,
        revision: body.report.revision,
      });
      return c.json(body satisfies ReportBundle, 200);
    })
    .post('/mutations', validate('json', ReviewMutationRequest), async (c) => {
      const { deviceId, mutation } = c.req.valid('json');
      const table = (mutation as { table?: unknown }).table;
      if (typeof table !== 'string' || !REVIEW_SIDE_TABLES.has(table as never)) {
        throw new ApiError(
          400,
          'invalid_request',
          'mutation.table: must be reviews, comments or followups',
        );
      }
      const user = c.get('user')!;
      const at = now();
      const ip = clientIp(c, env.TRUST_PROXY);
      // One transaction (one commit) for the device's visit and the write: push notes the
      // contact inside its own.
      const [result] = await push(
        repos.sync,
        {
          scope: await scopeOf(repos, user.id),
          deviceId,
          now: at,
          ip,
          touch: { userId: user.id, contact: contactOf(c) },
        },
        [mutation],
      );
      if (result!.status === 'rejected') {
        const status = REJECT_STATUS[result!.code as keyof typeof REJECT_STATUS] ?? 400;
        throw new ApiError(
          status,
          status === 403 ? 'forbidden' : status === 409 ? 'rejected' : 'invalid_request',
          result!.reason,
        );
      }
      return c.json(result! satisfies MutationResult, 200);
    });
};
