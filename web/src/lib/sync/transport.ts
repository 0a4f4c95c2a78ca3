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
  /**
   * Optional: encodes a push (`text`: its JSON) for sending, ahead of `push(request)` with the
   * same object, so that the work overlaps the request before it.
   */
  prepare?(request: PushRequest, text: string): void;
  /**
   * `acked`: the highest push-answer seq the device recorded (docs/sync-no-echo.md); 0: none.
   * `remaining`: ask how many records are still to come (the answer's `remaining`; an older
   * server ignores the question and leaves it out).
   */
  pull(
    deviceId: string,
    cursor: number,
    limit: number,
    acked?: number,
    remaining?: boolean,
  ): Promise<PullResponse>;
  putBlob(sha256: string, blob: Blob, teamId: string): Promise<BlobPutResponse>;
  getBlob(sha256: string): Promise<Blob>;
}

const DEVICE_HEADER = 'x-device-id';
const TEAM_HEADER = 'x-team-id';

/**
 * A push body gzip-compressed (JSON of records shrinks ~5×; the field's uplink is the slowest part
 * of a sync), or null where the browser has no CompressionStream.
 */
export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer> | null> {
  if (typeof CompressionStream === 'undefined') return null;
  // Bytes in memory, not Blobs: in Chromium each Blob is a copy handed to the browser process and
  // read back (~20 ms per 1 MB push here).
  const plain = new Response(new TextEncoder().encode(text)).body!;
  const packed = plain.pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(packed).arrayBuffer());
}

export interface TransportOptions {
  /** Pushes go gzip-encoded unless false. */
  compress?: boolean;
  /** The headers that name this device. */
  device?: () => Promise<Record<string, string>>;
}

/**
 * HTTP on the app's own origin; `fetchImpl` lets tests route requests to the server in-process.
 * Every request names the device (a revoked one is refused and wipes itself, lib/security).
 * Pushes go gzip-encoded; a server that refuses the encoding (415, or an older one that cannot
 * read the body) gets the push again plain, and from then on.
 */
export function httpTransport(
  base = '',
  fetchImpl: typeof fetch = (...a) => fetch(...a),
  { compress = true, device = deviceHeaders }: TransportOptions = {},
): SyncTransport {
  const json = { 'content-type': 'application/json' };
  let compressing = compress;
  /** Bodies encoded ahead by prepare(), taken by push(). */
  const prepared = new WeakMap<
    PushRequest,
    { text: string; packed: Promise<Uint8Array<ArrayBuffer> | null> }
  >();
  const post = (body: BodyInit, encoded: boolean, deviceId: string) =>
    fetchImpl(`${base}/api/sync/push`, {
      method: 'POST',
      headers: {
        ...json,
        [DEVICE_HEADER]: deviceId,
        ...(encoded ? { 'content-encoding': 'gzip' } : {}),
      },
      body,
    });
  return {
    prepare(request, text) {
      const packed = compressing ? gzip(text) : Promise.resolve(null);
      packed.catch(() => {}); // awaited by push, or dropped with a push that never goes
      prepared.set(request, { text, packed });
    },
    async push(request) {
      const ready = prepared.get(request);
      prepared.delete(request);
      const text = ready?.text ?? JSON.stringify(request);
      const packed = compressing ? await (ready?.packed ?? gzip(text)) : null;
      if (!packed) return readResponse(post(text, false, request.deviceId));
      try {
        return await readResponse(post(packed, true, request.deviceId));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status !== 415 && error.code !== 'invalid_json') throw error;
        compressing = false;
        return readResponse(post(text, false, request.deviceId));
      }
    },
    pull: (deviceId, cursor, limit, acked = 0, remaining = false) =>
      readResponse(
        fetchImpl(
          `${base}/api/sync/pull?cursor=${cursor}&limit=${limit}&acked=${acked}` +
            (remaining ? '&remaining=1' : ''),
          { headers: { [DEVICE_HEADER]: deviceId } },
        ),
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
