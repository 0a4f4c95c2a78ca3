import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv } from '../context';
import { DEVICE_ID_HEADER, DeviceId } from '../protocol';
import { deviceContact } from '../services/devices';

/**
 * Refuses every /api call that names a revoked device (403 device_revoked, Clear-Site-Data) and
 * notes when a device was last seen. After loadSession (it needs the caller), before the routes.
 * A malformed header is ignored here: the routes that need a device id say what is wrong with it.
 */
export const deviceGate = ({ repos, now }: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = DeviceId.safeParse(c.req.header(DEVICE_ID_HEADER));
    if (header.success) await deviceContact(repos, header.data, c.get('user')?.id ?? null, now());
    await next();
  });
