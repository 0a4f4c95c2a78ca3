// Helpers for the web sync suites (not imported by the app): the real sync server in process and
// transports that reach it with a user's session cookie.
import { makeTestApp, ORIGIN, withAdmin, type TestClient } from 'sync-server/test-utils';
import { httpTransport, type SyncTransport } from './transport';

export type TestServer = Awaited<ReturnType<typeof makeTestApp>>;

/** HTTP to the in-process server, as the browser would send it (Origin and session cookie). */
export function transportFor(app: TestServer['app'], client: TestClient): SyncTransport {
  return httpTransport('http://localhost', async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', ORIGIN);
    if (client.token) headers.set('cookie', `fdx_session=${client.token}`);
    return app.request(String(input), { ...init, headers });
  });
}

export interface TestUser {
  author: { userId: string; teamId: string };
  client: TestClient;
  transport: SyncTransport;
}

/** A server with an admin and `count` clinicians of one team. */
export async function teamOnServer(count: number) {
  const server = await makeTestApp();
  const admin = await withAdmin(server.app);
  const teamId = await admin.createTeam('Clinic');
  const users: TestUser[] = [];
  for (let i = 0; i < count; i++) {
    const m = await admin.member(`c${i}@example.org`, 'clinician', teamId);
    users.push({
      author: { userId: m.id, teamId },
      client: m.client,
      transport: transportFor(server.app, m.client),
    });
  }
  return { server, admin, teamId, users };
}
