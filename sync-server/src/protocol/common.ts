import { z } from 'zod';

/** Every error the API returns has this body: `{"error": {"code", "message"}}`. */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'forbidden_origin',
  'unauthenticated',
  'forbidden',
  'not_found',
  'invalid_credentials',
  'account_disabled',
  'rate_limited',
  'email_taken',
  'invalid_invitation',
  'invalid_reset_code',
  'team_name_taken',
  'cannot_disable_self',
  'invalid_cursor',
  'hash_mismatch',
  'device_revoked',
  'device_in_use',
  'invalid_model',
  'model_version_exists',
  'rejected',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Role = z.enum(['clinician', 'supervisor'], {
  error: "must be 'clinician' or 'supervisor'",
});
export type Role = z.infer<typeof Role>;

/** Timestamps on the wire are ISO 8601 strings in UTC. */
export const Timestamp = z.iso.datetime();

export const Id = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters');

export const HealthResponse = z.object({ status: z.literal('ok') });
export type HealthResponse = z.infer<typeof HealthResponse>;

export const MembershipSummary = z.object({
  teamId: z.string(),
  teamName: z.string(),
  role: Role,
});
export type MembershipSummary = z.infer<typeof MembershipSummary>;

/**
 * Control characters (NUL, line breaks, …), invisible ones (zero-width spaces and joiners, the
 * byte order mark, word joiners) and the bidirectional overrides and isolates that make text read
 * differently from how it is stored: never wanted in a name shown to other people.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
export const hasUnsafeText = (text: string) => UNSAFE_TEXT.test(text);
export const UNSAFE_TEXT_MESSAGE =
  'must not contain control, invisible or direction-changing characters';

/** A name people see (a person's, a team's): trimmed, 1–100 characters, nothing hidden in it. */
export const DisplayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((name) => !hasUnsafeText(name), UNSAFE_TEXT_MESSAGE);
