import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireUser } from '../auth/middleware';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { ApiError } from '../errors';
import { clientIp } from '../middleware/client-ip';
import { gzipBody } from '../middleware/gzip-body';
import { formatIssue, validate } from '../middleware/validate';
import {
  DEVICE_ID_HEADER,
  DeviceId,
  PUSH_BODY_LIMIT,
  PullQuery,
  PushEnvelope,
  type ConflictListResponse,
  type PushResponse,
} from '../protocol';
import { pullRemaining, withRemaining } from '../services/pull-remaining';
import { scopeOf } from '../services/scope';
import { userAgentSummary } from '../services/devices';
import {
  listOpenConflicts,
  pull,
  pushBatch,
  touchDevice,
  type DeviceContact,
} from '../services/sync';

/** What a sync call tells about its device: the session it syncs with and its browser. */
export const contactOf = (c: Context<AppEnv & AuthedEnv>): DeviceContact => ({
  sessionId: c.get('session').id,
  userAgent: userAgentSummary(c.req.header('user-agent')),
});

const PUSH_TOO_LARGE = 'A push body may be at most 5 MiB (once inflated, when sent gzip-encoded)';

/**
 * /api/sync (DESIGN 4): push, pull and the open conflicts, for a signed-in user, within the scope
 * their team memberships give (services/scope.ts).
 */
export const syncRoutes = ({ repos, env, now }: AppDeps) => {
  const repo = repos.sync;
  return new Hono<AppEnv>()
    .use(requireUser)
    .post(
      '/push',
      // The limit is on the inflated body: gzipBody reads and inflates at most PUSH_BODY_LIMIT.
      gzipBody(PUSH_BODY_LIMIT, PUSH_TOO_LARGE),
      bodyLimit({
        maxSize: PUSH_BODY_LIMIT,
        onError: () => {
          throw new ApiError(413, 'payload_too_large', PUSH_TOO_LARGE);
        },
      }),
      // Each mutation is checked for U+0000 on its own (services/sync.ts).
      validate('json', PushEnvelope, { nulCheckedLater: true }),
      async (c) => {
        const { deviceId, mutations } = c.req.valid('json');
        const user = c.get('user')!;
        // The device's contact is noted in the push's own transaction: one commit, not two.
        const outcome = await pushBatch(
          repo,
          {
            scope: await scopeOf(repos, user.id),
            deviceId,
            now: now(),
            ip: clientIp(c, env.TRUST_PROXY),
            nulFree: c.get('bodyNulFree') === true,
            touch: { userId: user.id, contact: contactOf(c) },
          },
          mutations,
        );
        return c.json(outcome satisfies PushResponse, 200);
      },
    )
    .get('/pull', async (c) => {
      const query = c.req.query();
      const parsed = PullQuery.safeParse(query);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const code = issue.path[0] === 'cursor' ? 'invalid_cursor' : 'invalid_request';
        throw new ApiError(400, code, formatIssue(issue, query));
      }
      const deviceId = DeviceId.safeParse(c.req.header(DEVICE_ID_HEADER));
      if (!deviceId.success) {
        throw new ApiError(
          400,
          'invalid_request',
          `${DEVICE_ID_HEADER}: ${deviceId.error.issues[0]!.message}`,
        );
      }
      const user = c.get('user')!;
      const device = await touchDevice(repo, deviceId.data, user.id, now(), contactOf(c));
      const { cursor, limit, acked, remaining } = parsed.data;
      const scope = await scopeOf(repos, user.id);
      const page = await pull(repo, scope, device, cursor, limit, { acked });
      const body =
        remaining && !page.reset
          ? withRemaining(
              page.body,
              page.hasMore ? await pullRemaining(repo, scope, page.cursor) : 0,
            )
          : page.body;
      return c.body(body, 200, { 'Content-Type': 'application/json; charset=UTF-8' });
    })
    .get('/conflicts', async (c) => {
      const scope = await scopeOf(repos, c.get('user')!.id);
      return c.json(
        { conflicts: await listOpenConflicts(repo, scope) } satisfies ConflictListResponse,
        200,
      );
    });
};
