import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { ApiError } from '../errors';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './cookie';
import { validateSessionToken } from './session';

export const isSecureOrigin = (publicOrigin: string) => publicOrigin.startsWith('https:');

/**
 * Resolves the session cookie into `user` / `session`. A renewed session gets its cookie set again;
 * an invalid or expired one has its cookie cleared.
 */
export const loadSession = ({ repos, env, now }: AppDeps) => {
  const secure = isSecureOrigin(env.PUBLIC_ORIGIN);
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('user', null);
    c.set('session', null);
    const token = readSessionCookie(c);
    if (token) {
      const result = await validateSessionToken(repos, token, now());
      if (result) {
        c.set('user', result.user);
        c.set('session', result.session);
        if (result.renewed) setSessionCookie(c, token, secure);
      } else {
        clearSessionCookie(c, secure);
      }
    }
    await next();
  });
};

export const requireUser = createMiddleware<AppEnv & AuthedEnv>(async (c, next) => {
  if (!c.get('user')) throw new ApiError(401, 'unauthenticated', 'Sign in first');
  await next();
});

export const requireAdmin = createMiddleware<AppEnv & AuthedEnv>(async (c, next) => {
  const user = c.get('user');
  if (!user) throw new ApiError(401, 'unauthenticated', 'Sign in first');
  if (!user.isAdmin) throw new ApiError(403, 'forbidden', 'Only an admin may do this');
  await next();
});
