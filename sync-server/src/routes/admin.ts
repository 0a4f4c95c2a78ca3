import { Hono, type Context } from 'hono';
import { requireAdmin } from '../auth/middleware';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { clientIp } from '../middleware/client-ip';
import { validate } from '../middleware/validate';
import {
  AuditQuery,
  InvitationCreateRequest,
  MembershipUpsertRequest,
  TeamCreateRequest,
  TeamLockRequest,
  TeamUpdateRequest,
  UserUpdateRequest,
  type AuditListResponse,
  type DeviceListResponse,
  type ResetCodeResponse,
  type InvitationListResponse,
  type TeamListResponse,
  type UserListResponse,
} from '../protocol';
import { createResetCode } from '../services/accounts';
import { listAudit, type Actor } from '../services/audit';
import { listDevices, revokeDevice } from '../services/devices';
import { createInvitation, listInvitations, revokeInvitation } from '../services/invitations';
import {
  createTeam,
  listTeams,
  removeMembership,
  renameTeam,
  setLockMinutes,
  upsertMembership,
} from '../services/teams';
import { listUsers, setUserDisabled } from '../services/users';
import { currentDeviceOf } from './devices';

/** Everything under /api/admin: 401 when signed out, 403 when not an admin. */
export const adminRoutes = ({ repos, env, now }: AppDeps) => {
  const actor = (c: Context<AuthedEnv>): Actor & { userId: string } => ({
    userId: c.get('user').id,
    ip: clientIp(c, env.TRUST_PROXY),
    at: now(),
  });
  return (
    new Hono<AppEnv>()
      .use(requireAdmin)
      // Teams
      .get('/teams', async (c) =>
        c.json({ teams: await listTeams(repos) } satisfies TeamListResponse, 200),
      )
      .post('/teams', validate('json', TeamCreateRequest), async (c) =>
        c.json(await createTeam(repos, c.req.valid('json').name, actor(c)), 201),
      )
      .patch('/teams/:id', validate('json', TeamUpdateRequest), async (c) =>
        c.json(await renameTeam(repos, c.req.param('id'), c.req.valid('json').name, actor(c)), 200),
      )
      .put('/teams/:id/lock', validate('json', TeamLockRequest), async (c) =>
        c.json(
          await setLockMinutes(repos, c.req.param('id'), c.req.valid('json').lockMinutes, actor(c)),
          200,
        ),
      )
      .post('/teams/:id/members', validate('json', MembershipUpsertRequest), async (c) => {
        const { userId, role } = c.req.valid('json');
        return c.json(
          await upsertMembership(repos, c.req.param('id'), userId, role, actor(c)),
          200,
        );
      })
      .delete('/teams/:id/members/:userId', async (c) => {
        await removeMembership(repos, c.req.param('id'), c.req.param('userId'), actor(c));
        return c.body(null, 204);
      })
      // Invitations
      .get('/invitations', async (c) =>
        c.json(
          { invitations: await listInvitations(repos, now()) } satisfies InvitationListResponse,
          200,
        ),
      )
      .post('/invitations', validate('json', InvitationCreateRequest), async (c) =>
        c.json(await createInvitation(repos, c.req.valid('json'), actor(c)), 201),
      )
      .delete('/invitations/:code', async (c) =>
        c.json(await revokeInvitation(repos, c.req.param('code'), actor(c)), 200),
      )
      // Users
      .get('/users', async (c) =>
        c.json({ users: await listUsers(repos) } satisfies UserListResponse, 200),
      )
      .patch('/users/:id', validate('json', UserUpdateRequest), async (c) =>
        c.json(
          await setUserDisabled(repos, c.req.param('id'), c.req.valid('json').disabled, actor(c)),
          200,
        ),
      )
      // Devices and forgotten passwords (issue 15)
      .get('/users/:id/devices', async (c) =>
        c.json(
          {
            devices: await listDevices(repos, c.req.param('id'), currentDeviceOf(c)),
          } satisfies DeviceListResponse,
          200,
        ),
      )
      .post('/devices/:id/revoke', async (c) =>
        c.json(
          await revokeDevice(repos, c.req.param('id'), actor(c), {
            asAdmin: true,
            currentId: currentDeviceOf(c),
          }),
          200,
        ),
      )
      .post('/users/:id/reset-code', async (c) =>
        c.json(
          (await createResetCode(repos, c.req.param('id'), actor(c))) satisfies ResetCodeResponse,
          201,
        ),
      )
      // Audit log
      .get('/audit', validate('query', AuditQuery), async (c) =>
        c.json((await listAudit(repos, c.req.valid('query'))) satisfies AuditListResponse, 200),
      )
  );
};
