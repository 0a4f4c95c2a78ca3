/**
 * The server answers errors in English with a stable code (sync-server/src/protocol/common.ts
 * ErrorCode). A person reads them in their language: each code has a message here; a code the app
 * does not know yet (a newer server) falls back to the server's English words.
 */
import { m } from '$lib/paraglide/messages';

type Message = () => string;

export const SERVER_ERROR_MESSAGES: Record<string, Message> = {
  network: m.error_network,
  invalid_json: m.error_invalid_json,
  invalid_request: m.error_invalid_request,
  unsupported_media_type: m.error_unsupported_media_type,
  payload_too_large: m.error_payload_too_large,
  forbidden_origin: m.error_forbidden_origin,
  unauthenticated: m.error_unauthenticated,
  forbidden: m.error_forbidden,
  not_found: m.error_not_found,
  invalid_credentials: m.error_invalid_credentials,
  account_disabled: m.error_account_disabled,
  rate_limited: m.error_rate_limited,
  email_taken: m.error_email_taken,
  invalid_invitation: m.error_invalid_invitation,
  team_name_taken: m.error_team_name_taken,
  cannot_disable_self: m.error_cannot_disable_self,
  invalid_cursor: m.error_invalid_cursor,
  hash_mismatch: m.error_hash_mismatch,
  device_revoked: m.error_device_revoked,
  invalid_reset_code: m.error_invalid_reset_code,
  device_in_use: m.error_device_in_use,
  invalid_model: m.error_invalid_model,
  model_version_exists: m.error_model_version_exists,
  rejected: m.error_rejected,
  internal: m.error_internal,
};

/** The message for a server error code in the app's language, or undefined for an unknown code. */
export function serverErrorMessage(code: string): string | undefined {
  return SERVER_ERROR_MESSAGES[code]?.();
}
