import type {
  BlobPutResponse,
  PullResponse,
  PushRequest,
  PushResponse,
} from 'sync-server/protocol';
import { ApiError, readResponse } from '$lib/api/errors';

/** The sync server as the sync engine sees it; tests pass an in-process implementation. */
export interface SyncTransport {
  push(request: PushRequest): Promise<PushResponse>;
  /** `acked`: the highest push-answer seq the device recorded (docs/sync-no-echo.md); 0: none. */
  pull(deviceId: string, cursor: number, limit: number, acked?: number): Promise<PullResponse>;
  putBlob(sha256: string, blob: Blob, teamId: string): Promise<BlobPutResponse>;
  getBlob(sha256: string): Promise<Blob>;
}

const DEVICE_HEADER = 'x-device-id';
const TEAM_HEADER = 'x-team-id';

/** HTTP on the app's own origin; `fetchImpl` lets tests route requests to the server in-process. */
export function httpTransport(
  base = '',
  fetchImpl: typeof fetch = (...a) => fetch(...a),
): SyncTransport {
  const json = { 'content-type': 'application/json' };
  return {
    push: (request) =>
      readResponse(
        fetchImpl(`${base}/api/sync/push`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify(request),
        }),
      ),
    pull: (deviceId, cursor, limit, acked = 0) =>
      readResponse(
        fetchImpl(`${base}/api/sync/pull?cursor=${cursor}&limit=${limit}&acked=${acked}`, {
          headers: { [DEVICE_HEADER]: deviceId },
        }),
      ),
    putBlob: (sha256, blob, teamId) =>
      readResponse(
        fetchImpl(`${base}/api/blobs/${sha256}`, {
          method: 'PUT',
          headers: {
            'content-type': blob.type || 'application/octet-stream',
            [TEAM_HEADER]: teamId,
          },
          body: blob,
        }),
      ),
    async getBlob(sha256) {
      let res: Response;
      try {
        res = await fetchImpl(`${base}/api/blobs/${sha256}`);
      } catch {
        throw new ApiError(0, 'network', 'Cannot reach the server to download the image.');
      }
      if (!res.ok) await readResponse(Promise.resolve(res));
      return res.blob();
    },
  };
}
