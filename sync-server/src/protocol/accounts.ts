import { z } from 'zod';
import { Email, NewPassword, PASSWORD_MAX_LENGTH, passwordMatchesEmail } from './auth';
import { Timestamp } from './common';
import { normalizeInvitationCode } from './invitation-code';

/*
 * Accounts and devices (issue 15 "Lost device"): the user's and the admin's device lists and
 * revocation, sign out everywhere, change of password, and the admin's one-time reset codes.
 */

/** A device (one installation of the app) as its user and admins see it. */
export const DeviceSummary = z.object({
  id: z.string(),
  userId: z.string(),
  /** "Chrome 131 on Android", or null when the device never said. */
  userAgent: z.string().nullable(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  /** The last push or pull the server answered. */
  lastSyncAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  /** The device this request comes from. */
  current: z.boolean(),
});
export type DeviceSummary = z.infer<typeof DeviceSummary>;

export const DeviceListResponse = z.object({ devices: z.array(DeviceSummary) });
export type DeviceListResponse = z.infer<typeof DeviceListResponse>;

/** The answer to every call a revoked device makes (403), with `Clear-Site-Data`. */
export const CLEAR_SITE_DATA = '"cache", "cookies", "storage"';

const CurrentPassword = z
  .string({ error: 'is required' })
  .min(1, 'must not be empty')
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

/** POST /api/auth/password: 204; 400 when the new password breaks the policy; 401 wrong current. */
export const ChangePasswordRequest = z.object({
  currentPassword: CurrentPassword,
  newPassword: NewPassword,
});
export type ChangePasswordRequest = z.input<typeof ChangePasswordRequest>;

/** Reset codes look like invitation codes (XXXX-XXXX-XXXX), typed in any case, dashes optional. */
export const ResetCodeInput = z
  .string({ error: 'is required' })
  .max(64, 'must be at most 64 characters')
  .transform(normalizeInvitationCode);

/** POST /api/auth/reset: 204, every session of the account ends; then sign in. */
export const PasswordResetRequest = z
  .object({ email: Email, code: ResetCodeInput, newPassword: NewPassword })
  .refine((r) => !passwordMatchesEmail(r.newPassword, r.email), {
    path: ['newPassword'],
    message: 'must not be your email address',
  });
export type PasswordResetRequest = z.input<typeof PasswordResetRequest>;

/** POST /api/admin/users/:id/reset-code: the code is shown once and never stored in clear. */
export const ResetCodeResponse = z.object({ code: z.string(), expiresAt: Timestamp });
export type ResetCodeResponse = z.infer<typeof ResetCodeResponse>;
