import { afterEach, describe, expect, it } from 'vitest';
import { getDatabase } from '$lib/db/database';
import { httpTransport } from '$lib/sync/transport';
import { deviceHeaders } from './device-header';

afterEach(async () => {
  await getDatabase().syncState.clear();
});

describe('deviceHeaders', () => {
  it('names the device once it has an id, so that a revoked one is refused at any call', async () => {
    expect(await deviceHeaders()).toEqual({});
    await getDatabase().syncState.put({ key: 'deviceId', value: 'tablet-0001' });
    expect(await deviceHeaders()).toEqual({ 'x-device-id': 'tablet-0001' });
  });

  it('goes with image downloads and uploads too', async () => {
    await getDatabase().syncState.put({ key: 'deviceId', value: 'tablet-0002' });
    const seen: (string | null)[] = [];
    const transport = httpTransport('http://localhost', async (_input, init) => {
      seen.push(new Headers(init?.headers).get('x-device-id'));
      return new Response(JSON.stringify({ sha256: 'x' }), { status: 200 });
    });
    await transport.getBlob('a'.repeat(64));
    await transport.putBlob('a'.repeat(64), new Blob(['x']), 'team');
    expect(seen).toEqual(['tablet-0002', 'tablet-0002']);
  });
});
