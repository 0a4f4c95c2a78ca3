import { Hono } from 'hono';
import { requireUser } from '../auth/middleware';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { clientIp } from '../middleware/client-ip';
import { validate } from '../middleware/validate';
import { ModelId, ModelPrevalenceRequest } from '../protocol';
import { manageableSettings, setPrevalence } from '../services/prevalence';
import { scopeOf } from '../services/scope';

/** /api/teams/:teamId/...: team settings that supervisors may change, not only admins. */
export const teamRoutes = ({ repos, env, now }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireUser)
    .get('/settings', async (c) => {
      const user = c.get('user')!;
      return c.json(
        await manageableSettings(repos, await scopeOf(repos, user.id), user.isAdmin),
        200,
      );
    })
    .put(
      '/:teamId/models/:modelId/prevalence',
      validate('json', ModelPrevalenceRequest),
      async (c) => {
        const user = c.get('user')!;
        const modelId = ModelId.safeParse(c.req.param('modelId'));
        if (!modelId.success) throw new ApiError(404, 'not_found', 'No such model');
        const settings = await setPrevalence(
          repos,
          { userId: user.id, ip: clientIp(c, env.TRUST_PROXY), at: now() },
          await scopeOf(repos, user.id),
          user.isAdmin,
          c.req.param('teamId'),
          modelId.data,
          c.req.valid('json').prevalence,
        );
        return c.json({ modelPrevalence: settings }, 200);
      },
    );
