import { z } from 'zod';
import { Timestamp } from './common';

/** Every action the audit log records (services/audit.ts writes only these). */
export const AUDIT_ACTIONS = [
  'auth.signup',
  'auth.signup_failed',
  'auth.signup_rate_limited',
  'auth.login',
  'auth.login_failed',
  'auth.login_rate_limited',
  'auth.login_disabled',
  'auth.logout',
  'auth.logout_all',
  'auth.password_change',
  'auth.password_change_failed',
  'auth.password_change_rate_limited',
  'auth.reset_code_create',
  'auth.password_reset',
  'auth.password_reset_failed',
  'auth.password_reset_rate_limited',
  'device.revoke',
  'team.create',
  'team.update',
  'team.member_upsert',
  'team.member_remove',
  'team.lock_minutes',
  'invitation.create',
  'invitation.revoke',
  'user.disable',
  'user.enable',
  'model.upload',
  'model.activate',
  'model.retire',
  'team.model_prevalence',
  'review.read',
  'review.create',
  'comment.create',
  'followup.create',
  'followup.update',
  'review.export',
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS, { error: 'is not a known action' });
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditEntry = z.object({
  id: z.number().int(),
  at: Timestamp,
  userId: z.string().nullable(),
  /** The acting user's email when the account still exists. */
  userEmail: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Newest first; `nextBefore` is the `before` of the next (older) page, null on the last one. */
export const AuditListResponse = z.object({
  entries: z.array(AuditEntry),
  nextBefore: z.number().int().nullable(),
});
export type AuditListResponse = z.infer<typeof AuditListResponse>;

/** A day (YYYY-MM-DD, UTC: the whole day) or an instant (ISO 8601). */
const DayOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be a date (YYYY-MM-DD) or an ISO 8601 time',
});

/**
 * GET /api/admin/audit: filtered by the acting user, the action and a date range (both ends
 * included), newest first, a page of `limit` entries older than the entry `before`.
 */
export const AuditQuery = z
  .object({
    limit: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 500')
      .max(500, 'must be between 1 and 500')
      .default(100),
    before: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be a positive whole number')
      .max(Number.MAX_SAFE_INTEGER, 'is too large')
      .optional(),
    userId: z.string().trim().min(1, 'must not be empty').max(100, 'is too long').optional(),
    action: AuditAction.optional(),
    from: DayOrInstant.optional(),
    to: DayOrInstant.optional(),
  })
  .refine((q) => !q.from || !q.to || startOf(q.from) < endOf(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });
export type AuditQuery = z.input<typeof AuditQuery>;

const DAY_MS = 24 * 60 * 60 * 1000;
const isDay = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);
/** The first millisecond a `from` value includes. */
export const startOf = (v: string) => (isDay(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v));
/** The first millisecond after what a `to` value includes (a day counts whole). */
export const endOf = (v: string) =>
  isDay(v) ? Date.parse(`${v}T00:00:00Z`) + DAY_MS : Date.parse(v) + 1;
