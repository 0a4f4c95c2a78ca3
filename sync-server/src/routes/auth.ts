import { Hono } from 'hono';
import { createAttemptLimiter } from '../auth/attempt-limiter';
import { clearSessionCookie, setSessionCookie } from '../auth/cookie';
import { isSecureOrigin, requireUser } from '../auth/middleware';
import type { AppDeps, AppEnv } from '../context';
import { clientIp } from '../middleware/client-ip';
import { validate } from '../middleware/validate';
import {
  ChangePasswordRequest,
  LoginRequest,
  PasswordResetRequest,
  SignupRequest,
} from '../protocol';
import { changePassword, logoutEverywhere, resetPassword } from '../services/accounts';
import { login, logout, signup, SIGNUP_MAX_FAILURES, SIGNUP_WINDOW_MS } from '../services/auth';
import { meOf } from '../services/users';

export const authRoutes = (deps: AppDeps) => {
  const { repos, env, now } = deps;
  const secure = isSecureOrigin(env.PUBLIC_ORIGIN);
  const signupLimiter = createAttemptLimiter(
    repos,
    'signup',
    SIGNUP_MAX_FAILURES,
    SIGNUP_WINDOW_MS,
  );
  const actor = (c: Parameters<typeof clientIp>[0]) => ({
    ip: clientIp(c, env.TRUST_PROXY),
    at: now(),
  });
  return (
    new Hono<AppEnv>()
      .post('/signup', validate('json', SignupRequest), async (c) => {
        const { token, me } = await signup(deps, c.req.valid('json'), actor(c), signupLimiter);
        setSessionCookie(c, token, secure);
        return c.json(me, 201);
      })
      .post('/login', validate('json', LoginRequest), async (c) => {
        const { token, me } = await login(deps, c.req.valid('json'), actor(c));
        setSessionCookie(c, token, secure);
        return c.json(me, 200);
      })
      .post('/logout', async (c) => {
        const session = c.get('session');
        if (session) await logout(repos, session, actor(c));
        clearSessionCookie(c, secure);
        return c.body(null, 204);
      })
      .get('/me', requireUser, async (c) => c.json(await meOf(repos, c.get('user')), 200))
      // Sign out everywhere: every session of the user ends, this one included.
      .post('/logout-all', requireUser, async (c) => {
        const user = c.get('user');
        await logoutEverywhere(repos, user.id, { ...actor(c), userId: user.id });
        clearSessionCookie(c, secure);
        return c.body(null, 204);
      })
      .post('/password', requireUser, validate('json', ChangePasswordRequest), async (c) => {
        const user = c.get('user');
        await changePassword(deps, user, c.get('session'), c.req.valid('json'), {
          ...actor(c),
          userId: user.id,
        });
        return c.body(null, 204);
      })
      // A forgotten password, with the one-time code an admin gave (services/accounts.ts).
      .post('/reset', validate('json', PasswordResetRequest), async (c) => {
        await resetPassword(deps, c.req.valid('json'), actor(c));
        clearSessionCookie(c, secure);
        return c.body(null, 204);
      })
  );
};
