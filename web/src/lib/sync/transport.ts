import type {
  BlobPutResponse,
  PullResponse,
  PushRequest,
  PushResponse,
} from 'sync-server/protocol';
import { deviceHeaders } from '$lib/api/device-header';
import { ApiError, readResponse } from '$lib/api/errors';

/** The sync server as the sync engine sees it; tests pass an in-process implementation. */
export interface SyncTransport {
  push(request: PushRequest): Promise<PushResponse>;
  pull(deviceId: string, cursor: number, limit: number): Promise<PullResponse>;
  putBlob(sha256: string, blob: Blob, teamId: string): Promise<BlobPutResponse>;
  getBlob(sha256: string): Promise<Blob>;
}

const DEVICE_HEADER = 'x-device-id';
const TEAM_HEADER = 'x-team-id';

/**
 * HTTP on the app's own origin; `fetchImpl` lets tests route requests to the server in-process.
 * Every request names the device (a revoked one is refused and wipes itself, lib/security).
 */
export function httpTransport(
  base = '',
  fetchImpl: typeof fetch = (...a) => fetch(...a),
  device: () => Promise<Record<string, string>> = deviceHeaders,
): SyncTransport {
  const json = { 'content-type': 'application/json' };
  return {
    push: (request) =>
      readResponse(
        fetchImpl(`${base}/api/sync/push`, {
          method: 'POST',
          headers: { ...json, [DEVICE_HEADER]: request.deviceId },
          body: JSON.stringify(request),
        }),
      ),
    pull: (deviceId, cursor, limit) =>
      readResponse(
        fetchImpl(`${base}/api/sync/pull?cursor=${cursor}&limit=${limit}`, {
          headers: { [DEVICE_HEADER]: deviceId },
        }),
      ),
    putBlob: async (sha256, blob, teamId) =>
      readResponse(
        fetchImpl(`${base}/api/blobs/${sha256}`, {
          method: 'PUT',
          headers: {
            ...(await device()),
            'content-type': blob.type || 'application/octet-stream',
            [TEAM_HEADER]: teamId,
          },
          body: blob,
        }),
      ),
    async getBlob(sha256) {
      let res: Response;
      try {
        res = await fetchImpl(`${base}/api/blobs/${sha256}`, { headers: await device() });
      } catch {
        throw new ApiError(0, 'network', 'Cannot reach the server to download the image.');
      }
      if (!res.ok) await readResponse(Promise.resolve(res));
      return res.blob();
    },
  };
}
