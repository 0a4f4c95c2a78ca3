import { Hono } from 'hono';
import type { AppEnv } from '../context';
import type { HealthResponse } from '../protocol';

export const healthRoutes = () =>
  new Hono<AppEnv>().get('/', (c) => c.json({ status: 'ok' } satisfies HealthResponse, 200));
