import { getLocale } from '$lib/paraglide/runtime';
import { m } from '$lib/paraglide/messages';
import { hc } from 'hono/client';
import type { AppType } from 'sync-server/app';
import type {
  AuditAction,
  AuditListResponse,
  DeviceListResponse,
  DeviceSummary,
  PasswordResetRequest,
  ResetCodeResponse,
  AdminModelItem,
  AdminModelListResponse,
  AdminUser,
  Invitation,
  InvitationCreateRequest,
  InvitationListResponse,
  LoginRequest,
  MeResponse,
  MembershipUpsertRequest,
  ModelPrevalence,
  Role,
  SignupRequest,
  Team,
  TeamCreateRequest,
  TeamListResponse,
  TeamUpdateRequest,
  UserListResponse,
  UserUpdateRequest,
} from 'sync-server/protocol';
import type { z } from 'zod';
import { deviceHeaders } from './device-header';
import { readResponse } from './errors';
import { asSentence, fieldLabel, issueSentence } from './human';

export { LoginRequest, PasswordResetRequest, SignupRequest } from 'sync-server/protocol';
export type { AdminModelItem, AdminUser, DeviceSummary, Invitation, Role, Team };
export type { AuditAction, AuditEntry, AuditListResponse } from 'sync-server/protocol';
export { AUDIT_ACTIONS } from 'sync-server/protocol';

/** The audit log's filters as the query string carries them (all strings). */
export interface AuditQueryParams {
  limit?: string;
  before?: string;
  userId?: string;
  action?: AuditAction;
  from?: string;
  to?: string;
}
export type Me = MeResponse;

/** Typed from the server's routes: a renamed route or field fails the type check here. */
const client = hc<AppType>('/', { headers: deviceHeaders });

export const api = {
  me: () => readResponse<MeResponse>(client.api.auth.me.$get()),
  login: (json: LoginRequest) => readResponse<MeResponse>(client.api.auth.login.$post({ json })),
  signup: (json: SignupRequest) => readResponse<MeResponse>(client.api.auth.signup.$post({ json })),
  logout: () => readResponse<void>(client.api.auth.logout.$post()),
  /** Ends every session of the user, this one included. */
  logoutEverywhere: () => readResponse<void>(client.api.auth['logout-all'].$post()),
  resetPassword: (json: PasswordResetRequest) =>
    readResponse<void>(client.api.auth.reset.$post({ json })),
  devices: {
    list: async () => (await readResponse<DeviceListResponse>(client.api.devices.$get())).devices,
    revoke: (id: string) =>
      readResponse<DeviceSummary>(client.api.devices[':id'].revoke.$post({ param: { id } })),
  },
  teamSettings: () =>
    readResponse<{ teams: { id: string; name: string }[]; modelPrevalence: ModelPrevalence[] }>(
      client.api.teams.settings.$get(),
    ),
  setPrevalence: (teamId: string, modelId: string, prevalence: number | null) =>
    readResponse<{ modelPrevalence: ModelPrevalence[] }>(
      client.api.teams[':teamId'].models[':modelId'].prevalence.$put({
        param: { teamId, modelId },
        json: { prevalence },
      }),
    ),
  admin: {
    listTeams: async () =>
      (await readResponse<TeamListResponse>(client.api.admin.teams.$get())).teams,
    createTeam: (json: TeamCreateRequest) =>
      readResponse<Team>(client.api.admin.teams.$post({ json })),
    renameTeam: (id: string, json: TeamUpdateRequest) =>
      readResponse<Team>(client.api.admin.teams[':id'].$patch({ param: { id }, json })),
    setLockMinutes: (id: string, lockMinutes: number) =>
      readResponse<Team>(
        client.api.admin.teams[':id'].lock.$put({ param: { id }, json: { lockMinutes } }),
      ),
    addMember: (id: string, json: MembershipUpsertRequest) =>
      readResponse<unknown>(client.api.admin.teams[':id'].members.$post({ param: { id }, json })),
    removeMember: (id: string, userId: string) =>
      readResponse<unknown>(
        client.api.admin.teams[':id'].members[':userId'].$delete({ param: { id, userId } }),
      ),
    listInvitations: async () =>
      (await readResponse<InvitationListResponse>(client.api.admin.invitations.$get())).invitations,
    createInvitation: (json: InvitationCreateRequest) =>
      readResponse<Invitation>(client.api.admin.invitations.$post({ json })),
    revokeInvitation: (code: string) =>
      readResponse<unknown>(client.api.admin.invitations[':code'].$delete({ param: { code } })),
    listUsers: async () =>
      (await readResponse<UserListResponse>(client.api.admin.users.$get())).users,
    setUserDisabled: (id: string, json: UserUpdateRequest) =>
      readResponse<AdminUser>(client.api.admin.users[':id'].$patch({ param: { id }, json })),
    listDevices: async (id: string) =>
      (
        await readResponse<DeviceListResponse>(
          client.api.admin.users[':id'].devices.$get({ param: { id } }),
        )
      ).devices,
    revokeDevice: (id: string) =>
      readResponse<DeviceSummary>(client.api.admin.devices[':id'].revoke.$post({ param: { id } })),
    createResetCode: (id: string) =>
      readResponse<ResetCodeResponse>(
        client.api.admin.users[':id']['reset-code'].$post({ param: { id } }),
      ),
    audit: (query: AuditQueryParams) =>
      readResponse<AuditListResponse>(client.api.admin.audit.$get({ query })),
    listModels: async () =>
      (await readResponse<AdminModelListResponse>(client.api.admin.models.$get())).models,
    /** multipart/form-data: manifest, model, optional check and releaseNotes. */
    uploadModel: (form: FormData) =>
      readResponse<AdminModelItem>(fetch('/api/admin/models', { method: 'POST', body: form })),
    activateModel: (id: string, version: string) =>
      readResponse<AdminModelListResponse>(
        client.api.admin.models[':id'][':version'].activate.$post({ param: { id, version } }),
      ),
    retireModel: (id: string, version: string) =>
      readResponse<AdminModelListResponse>(
        client.api.admin.models[':id'][':version'].retire.$post({ param: { id, version } }),
      ),
  },
};

/** The first problem in a form, as a sentence ("The password must be at least 10 characters."). */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return m.form_check();
  // The shared schemas word their issues in English: another language names the field to check.
  if (getLocale() !== 'en') {
    return issue.path.length
      ? m.field_check({ field: fieldLabel(issue.path.join('.')) })
      : m.form_check();
  }
  return issue.path.length
    ? issueSentence(fieldLabel(issue.path.join('.')), issue.message)
    : asSentence(issue.message);
}
