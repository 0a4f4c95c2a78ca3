// The answers of requireUser and requireAdmin (killing mutants that survived the route tests).
import { describe, expect, it } from 'vitest';
import { errorOf, makeTestApp, TestClient, withAdmin } from '../test-utils';

describe('requireUser / requireAdmin', () => {
  it('401 unauthenticated without a session; 403 forbidden for a non-admin on admin routes', async () => {
    const { app } = await makeTestApp();
    const { member } = await withAdmin(app);
    const anonymous = await new TestClient(app).get('/api/auth/me');
    expect(anonymous.status).toBe(401);
    expect(await errorOf(anonymous)).toEqual({ code: 'unauthenticated', message: 'Sign in first' });
    const nobody = await new TestClient(app).get('/api/admin/teams');
    expect(nobody.status).toBe(401);
    expect(await errorOf(nobody)).toEqual({ code: 'unauthenticated', message: 'Sign in first' });
    const clinician = (await member('c@example.org')).client;
    const res = await clinician.get('/api/admin/teams');
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toEqual({ code: 'forbidden', message: 'Only an admin may do this' });
  });
});
