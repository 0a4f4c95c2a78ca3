import { z } from 'zod';
import { DisplayName, Id, MembershipSummary, Role, Timestamp } from './common';

export const TeamName = DisplayName;

export const Team = z.object({
  id: z.string(),
  name: z.string(),
  memberCount: z.number().int(),
  lockMinutes: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Team = z.infer<typeof Team>;

export const TeamListResponse = z.object({ teams: z.array(Team) });
export type TeamListResponse = z.infer<typeof TeamListResponse>;

export const TeamCreateRequest = z.object({ name: TeamName });
export type TeamCreateRequest = z.input<typeof TeamCreateRequest>;

export const TeamUpdateRequest = z.object({ name: TeamName });
export type TeamUpdateRequest = z.input<typeof TeamUpdateRequest>;

export const LOCK_MINUTES_MIN = 1;
export const LOCK_MINUTES_MAX = 60;
export const DEFAULT_LOCK_MINUTES = 5;

/** PUT /api/admin/teams/:id/lock: minutes idle or hidden before the team's tablets lock. */
export const TeamLockRequest = z.object({
  lockMinutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(LOCK_MINUTES_MIN, `must be between ${LOCK_MINUTES_MIN} and ${LOCK_MINUTES_MAX} minutes`)
    .max(LOCK_MINUTES_MAX, `must be between ${LOCK_MINUTES_MIN} and ${LOCK_MINUTES_MAX} minutes`),
});
export type TeamLockRequest = z.input<typeof TeamLockRequest>;

export const InvitationStatus = z.enum(['active', 'used', 'expired', 'revoked']);
export type InvitationStatus = z.infer<typeof InvitationStatus>;

export const Invitation = z.object({
  /** XXXX-XXXX-XXXX */
  code: z.string(),
  teamId: z.string(),
  teamName: z.string(),
  role: Role,
  status: InvitationStatus,
  createdAt: Timestamp,
  createdBy: z.string().nullable(),
  expiresAt: Timestamp,
  usedAt: Timestamp.nullable(),
  usedBy: z.string().nullable(),
  revokedAt: Timestamp.nullable(),
});
export type Invitation = z.infer<typeof Invitation>;

export const InvitationListResponse = z.object({ invitations: z.array(Invitation) });
export type InvitationListResponse = z.infer<typeof InvitationListResponse>;

export const InvitationCreateRequest = z.object({
  teamId: Id,
  role: Role,
  expiresInDays: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 90')
    .max(90, 'must be between 1 and 90')
    .default(7),
});
export type InvitationCreateRequest = z.input<typeof InvitationCreateRequest>;

export const AdminUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  isAdmin: z.boolean(),
  disabled: z.boolean(),
  createdAt: Timestamp,
  memberships: z.array(MembershipSummary),
});
export type AdminUser = z.infer<typeof AdminUser>;

export const UserListResponse = z.object({ users: z.array(AdminUser) });
export type UserListResponse = z.infer<typeof UserListResponse>;

export const UserUpdateRequest = z.object({
  disabled: z.boolean({ error: 'must be true or false' }),
});
export type UserUpdateRequest = z.input<typeof UserUpdateRequest>;

export const MembershipUpsertRequest = z.object({ userId: Id, role: Role });
export type MembershipUpsertRequest = z.input<typeof MembershipUpsertRequest>;

export const Membership = z.object({ teamId: z.string(), userId: z.string(), role: Role });
export type Membership = z.infer<typeof Membership>;
