import { wipeAfterRevocation } from '$lib/security/wipe';
import { getLocale } from '$lib/paraglide/runtime';
import { m } from '$lib/paraglide/messages';
import { serverErrorMessage } from '$lib/i18n/server-errors';
import { humanMessage } from './human';

/** An error the server answered with (`{"error": {"code", "message"}}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True when the server could not be reached at all (offline, DNS, server down). */
  get isNetwork() {
    return this.status === 0;
  }
}

/** English, as the server's own messages are; shown translated through messageOf. */
export const NETWORK_ERROR_MESSAGE = 'Cannot reach the server. Check the connection and try again.';

type RevocationHandler = () => unknown;
/** Wipes the device (lib/security/wipe.ts); replaceable in tests. */
let onDeviceRevoked: RevocationHandler = wipeAfterRevocation;

/**
 * What happens when the server says this device was revoked (403 device_revoked): every API call
 * and sync request reads its answer here, so whichever comes first starts the wipe.
 */
export function setRevocationHandler(handler: RevocationHandler): RevocationHandler {
  const previous = onDeviceRevoked;
  onDeviceRevoked = handler;
  return previous;
}

/** What fetch and hono's typed client both return. */
type ResponseLike = Pick<Response, 'ok' | 'status' | 'json'> & { headers?: Headers };

/** Turns a fetch outcome into the parsed JSON body, or throws an ApiError with the server's words. */
export async function readResponse<T>(response: Promise<ResponseLike>): Promise<T> {
  let res: ResponseLike;
  try {
    res = await response;
  } catch {
    throw new ApiError(0, 'network', NETWORK_ERROR_MESSAGE);
  }
  if (res.status === 204) return undefined as T;
  // A revoked device: the browser has just cleared the site's data (Clear-Site-Data), which can
  // set off a reload; the wipe starts now rather than after the body arrives.
  const revoked = res.status === 403 && !!res.headers?.get('clear-site-data');
  if (revoked) void onDeviceRevoked();
  const body: unknown = await res.json().catch(() => undefined);
  if (res.ok) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `http_${res.status}`;
  const message =
    typeof error?.message === 'string' ? error.message : `The server answered ${res.status}.`;
  if (code === 'device_revoked' && !revoked) void onDeviceRevoked();
  throw new ApiError(res.status, code, message);
}

/** A message fit to show a user for any thrown value. */
export function messageOf(error: unknown): string {
  // The server names fields by their wire keys ("email: …"): a person reads a sentence.
  // In English the server's own sentence says the most (which field, which limit); in another
  // language the error's code gives a translated sentence, the English one when the code is new.
  if (error instanceof ApiError) {
    if (getLocale() !== 'en') {
      const translated = serverErrorMessage(error.code);
      if (translated) return translated;
    }
    return humanMessage(error.message);
  }
  if (error instanceof Error) return error.message;
  return m.error_unknown();
}
