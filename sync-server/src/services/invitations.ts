import { type InvitationRow } from '../db/schema';
import type { Repositories, TxRepositories } from '../repositories';
import { ApiError, notFound } from '../errors';
import {
  INVITATION_ALPHABET,
  INVITATION_CODE_LENGTH,
  normalizeInvitationCode,
  type Invitation,
  type InvitationStatus,
  type Role,
} from '../protocol';
import { writeAudit, type Actor } from './audit';
import { isUniqueViolation } from './db-errors';
import { getTeamRow } from './teams';

const DAY_MS = 24 * 60 * 60 * 1000;

/** 12 uniformly random characters of the unambiguous alphabet, formatted XXXX-XXXX-XXXX. */
export function generateInvitationCode(): string {
  const n = INVITATION_ALPHABET.length;
  const limit = 256 - (256 % n); // rejection sampling keeps the distribution uniform
  let code = '';
  while (code.length < INVITATION_CODE_LENGTH) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    for (const b of bytes) {
      if (b < limit && code.length < INVITATION_CODE_LENGTH) code += INVITATION_ALPHABET[b % n];
    }
  }
  return normalizeInvitationCode(code);
}

export function invitationStatus(row: InvitationRow, now: Date): InvitationStatus {
  if (row.usedAt) return 'used';
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toInvitation(row: InvitationRow, teamName: string, now: Date): Invitation {
  return {
    code: row.code,
    teamId: row.teamId,
    teamName,
    role: row.role,
    status: invitationStatus(row, now),
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt.toISOString(),
    usedAt: iso(row.usedAt),
    usedBy: row.usedBy,
    revokedAt: iso(row.revokedAt),
  };
}

export async function listInvitations(
  repos: Pick<TxRepositories, 'teams'>,
  now: Date,
): Promise<Invitation[]> {
  return (await repos.teams.listInvitations()).map(({ invitation, teamName }) =>
    toInvitation(invitation, teamName, now),
  );
}

export async function createInvitation(
  repos: Repositories,
  input: { teamId: string; role: Role; expiresInDays: number },
  actor: Actor,
): Promise<Invitation> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await repos.transaction(async (tx) => {
        const team = await getTeamRow(tx, input.teamId);
        const row: InvitationRow = {
          code: generateInvitationCode(),
          teamId: team.id,
          role: input.role,
          createdBy: actor.userId,
          createdAt: actor.at,
          expiresAt: new Date(actor.at.getTime() + input.expiresInDays * DAY_MS),
          usedAt: null,
          usedBy: null,
          revokedAt: null,
        };
        // Stored only in the database, so that any server instance can redeem it.
        await tx.teams.insertInvitation(row);
        // The code is a bearer credential until used: the log keeps only a prefix.
        await writeAudit(tx, actor, 'invitation.create', team.id, {
          codePrefix: row.code.slice(0, 4),
          role: row.role,
          expiresAt: row.expiresAt.toISOString(),
        });
        return toInvitation(row, team.name, actor.at);
      });
    } catch (err) {
      // 31^12 codes: a collision is astronomically unlikely, but cheap to survive.
      if (isUniqueViolation(err) && attempt < 3) continue;
      throw err;
    }
  }
}

export async function revokeInvitation(
  repos: Repositories,
  rawCode: string,
  actor: Actor,
): Promise<Invitation> {
  const code = normalizeInvitationCode(rawCode);
  return repos.transaction(async (tx) => {
    const row = await tx.teams.getInvitationWithTeam(code);
    if (!row) throw notFound('Invitation');
    // Revoking twice keeps the first time: the UPDATE sets revoked_at only when it is unset and
    // answers the stored value, so two revocations at once agree on it too.
    const revokedAt = (await tx.teams.revokeInvitation(code, actor.at)) ?? actor.at;
    await writeAudit(tx, actor, 'invitation.revoke', row.invitation.teamId, {
      codePrefix: code.slice(0, 4),
    });
    return toInvitation({ ...row.invitation, revokedAt }, row.teamName, actor.at);
  });
}

/**
 * Inside the sign-up transaction: the invitation behind `code` if it can be used now; otherwise
 * 400 invalid_invitation saying what is wrong with it.
 */
export async function findRedeemableInvitation(
  tx: Pick<TxRepositories, 'teams'>,
  code: string,
  now: Date,
): Promise<InvitationRow> {
  return redeemable(await tx.teams.getInvitation(code), now);
}
function redeemable(row: InvitationRow | undefined, now: Date): InvitationRow {
  const invalid = (message: string) => new ApiError(400, 'invalid_invitation', message);
  if (!row) throw invalid('Invitation code not found');
  const status = invitationStatus(row, now);
  if (status === 'used') throw invalid('This invitation has already been used');
  if (status === 'revoked') throw invalid('This invitation has been revoked');
  if (status === 'expired') throw invalid('This invitation has expired');
  return row;
}

/**
 * Marks the invitation used; 400 invalid_invitation when another sign-up used it, or an admin
 * revoked it, in the meantime (on PostgreSQL two instances may handle the same code at once).
 */
export async function markInvitationUsed(
  tx: Pick<TxRepositories, 'teams'>,
  code: string,
  userId: string,
  now: Date,
): Promise<void> {
  if (!(await tx.teams.markInvitationUsed(code, userId, now))) {
    // Say what changed: the row as committed now.
    redeemable(await tx.teams.getInvitation(code), now);
    throw new ApiError(400, 'invalid_invitation', 'This invitation has already been used');
  }
}
