import { z } from 'zod';
import { isCommonPassword } from './common-passwords';
import { DisplayName, MembershipSummary } from './common';
import { normalizeInvitationCode } from './invitation-code';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/** Trimmed and lower-cased before it is checked, stored or compared. */
export const Email = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .toLowerCase()
  .pipe(z.email({ error: 'must be a valid email address' }));

/** The policy for a new password (sign-up). Login accepts any non-empty password up to the max. */
export const NewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  .refine((p) => !/[\u0000-\u001f\u007f-\u009f]/.test(p), 'must not contain control characters')
  .refine((p) => p.trim() !== '', 'must not be only spaces')
  // `aaaaaaaaaa`, `abababab…`: long, but guessed at once.
  .refine((p) => new Set(p).size >= 3, 'must use at least 3 different characters')
  .refine((p) => !isCommonPassword(p), 'is too common; choose a less predictable password');

/** The password must not be the account's email, contain it, or be its part before the @. */
export function passwordMatchesEmail(password: string, email: string): boolean {
  const p = password.trim().toLowerCase();
  const e = email.trim().toLowerCase();
  return p.includes(e) || p === e.split('@')[0];
}

export const PersonName = DisplayName;

/** Any case, with or without dashes; normalised to XXXX-XXXX-XXXX. An empty string means none. */
export const InvitationCodeInput = z
  .string()
  .max(64, 'must be at most 64 characters')
  .transform(normalizeInvitationCode);

export const SignupRequest = z
  .object({
    email: Email,
    password: NewPassword,
    name: PersonName,
    invitationCode: InvitationCodeInput.optional(),
  })
  .refine((r) => !passwordMatchesEmail(r.password, r.email), {
    path: ['password'],
    message: 'must not be your email address',
  });
export type SignupRequest = z.input<typeof SignupRequest>;

export const LoginRequest = z.object({
  email: Email,
  password: z
    .string()
    .min(1, 'must not be empty')
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
});
export type LoginRequest = z.input<typeof LoginRequest>;

export const MeUser = z.object({ id: z.string(), email: z.string(), name: z.string() });
export type MeUser = z.infer<typeof MeUser>;

/**
 * How common a model's condition is where a team works, as the team's admin or supervisor set it
 * (docs/architecture.md §6): the app shifts the model's probability to it and gives the predictive
 * values there. Without one, the model's training prevalence applies.
 */
export const ModelPrevalence = z.object({
  teamId: z.string(),
  modelId: z.string(),
  prevalence: z.number(),
});
export type ModelPrevalence = z.infer<typeof ModelPrevalence>;

/** PUT /api/teams/:teamId/models/:modelId/prevalence; null returns to the training prevalence. */
export const ModelPrevalenceRequest = z.object({
  prevalence: z
    .number({ error: 'must be a number' })
    .gt(0, 'must be more than 0 %')
    .lt(1, 'must be less than 100 %')
    .nullable(),
});
export type ModelPrevalenceRequest = z.input<typeof ModelPrevalenceRequest>;

/** Body of GET /api/auth/me, and of a successful sign-up or login. */
export const MeResponse = z.object({
  user: MeUser,
  memberships: z.array(MembershipSummary),
  isAdmin: z.boolean(),
  /** The local prevalences set for the user's teams. */
  modelPrevalence: z.array(ModelPrevalence).optional(),
  /**
   * Minutes idle or hidden before the app locks: the shortest set by the user's teams (a tablet
   * shared across teams follows the strictest), the default without a team.
   */
  lockMinutes: z.number().int().optional(),
});
export type MeResponse = z.infer<typeof MeResponse>;
