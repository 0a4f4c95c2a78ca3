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
  TeamUpdateRequest,
  UserUpdateRequest,
  type AuditListResponse,
  type InvitationListResponse,
  type TeamListResponse,
  type UserListResponse,
} from '../protocol';
import { listAudit, type Actor } from '../services/audit';
import { createInvitation, listInvitations, revokeInvitation } from '../services/invitations';
import {
  createTeam,
  listTeams,
  removeMembership,
  renameTeam,
  upsertMembership,
} from '../services/teams';
import { listUsers, setUserDisabled } from '../services/users';

/** Everything under /api/admin: 401 when signed out, 403 when not an admin. */
export const adminRoutes = ({ db, env, now }: AppDeps) => {
  const actor = (c: Context<AuthedEnv>): Actor => ({
    userId: c.get('user').id,
    ip: clientIp(c, env.TRUST_PROXY),
    at: now(),
  });
  return (
    new Hono<AppEnv>()
      .use(requireAdmin)
      // Teams
      .get('/teams', (c) => c.json({ teams: listTeams(db) } satisfies TeamListResponse, 200))
      .post('/teams', validate('json', TeamCreateRequest), (c) =>
        c.json(createTeam(db, c.req.valid('json').name, actor(c)), 201),
      )
      .patch('/teams/:id', validate('json', TeamUpdateRequest), (c) =>
        c.json(renameTeam(db, c.req.param('id'), c.req.valid('json').name, actor(c)), 200),
      )
      .post('/teams/:id/members', validate('json', MembershipUpsertRequest), (c) => {
        const { userId, role } = c.req.valid('json');
        return c.json(upsertMembership(db, c.req.param('id'), userId, role, actor(c)), 200);
      })
      .delete('/teams/:id/members/:userId', (c) => {
        removeMembership(db, c.req.param('id'), c.req.param('userId'), actor(c));
        return c.body(null, 204);
      })
      // Invitations
      .get('/invitations', (c) =>
        c.json({ invitations: listInvitations(db, now()) } satisfies InvitationListResponse, 200),
      )
      .post('/invitations', validate('json', InvitationCreateRequest), (c) =>
        c.json(createInvitation(db, c.req.valid('json'), actor(c)), 201),
      )
      .delete('/invitations/:code', (c) =>
        c.json(revokeInvitation(db, c.req.param('code'), actor(c)), 200),
      )
      // Users
      .get('/users', (c) => c.json({ users: listUsers(db) } satisfies UserListResponse, 200))
      .patch('/users/:id', validate('json', UserUpdateRequest), (c) =>
        c.json(setUserDisabled(db, c.req.param('id'), c.req.valid('json').disabled, actor(c)), 200),
      )
      // Audit log
      .get('/audit', validate('query', AuditQuery), (c) =>
        c.json(
          { entries: listAudit(db, c.req.valid('query').limit) } satisfies AuditListResponse,
          200,
        ),
      )
  );
};
