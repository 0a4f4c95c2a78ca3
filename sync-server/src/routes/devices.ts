import { Hono, type Context } from 'hono';
import { requireUser } from '../auth/middleware';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { clientIp } from '../middleware/client-ip';
import { DEVICE_ID_HEADER, DeviceId, type DeviceListResponse } from '../protocol';
import { listDevices, revokeDevice } from '../services/devices';

/** The device a request comes from: the header the app sends, else the one its session synced from. */
export const currentDeviceOf = (c: Context<AppEnv & AuthedEnv>): string | null => {
  const header = DeviceId.safeParse(c.req.header(DEVICE_ID_HEADER));
  return header.success ? header.data : (c.get('session').deviceId ?? null);
};

/** /api/devices: the signed-in user's own devices; they may revoke any but the one in hand. */
export const deviceRoutes = ({ repos, env, now }: AppDeps) =>
  new Hono<AppEnv>()
    .use(requireUser)
    .get('/', async (c) =>
      c.json(
        {
          devices: await listDevices(repos, c.get('user').id, currentDeviceOf(c)),
        } satisfies DeviceListResponse,
        200,
      ),
    )
    .post('/:id/revoke', async (c) => {
      const actor = { userId: c.get('user').id, ip: clientIp(c, env.TRUST_PROXY), at: now() };
      const device = await revokeDevice(repos, c.req.param('id'), actor, {
        asAdmin: false,
        currentId: currentDeviceOf(c),
      });
      return c.json(device, 200);
    });
