import { desc, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/connection';
import { invitations, teams, type InvitationRow } from '../db/schema';
import type { TxRepositories } from '../repositories';
import { ApiError, notFound } from '../errors';
import {
  INVITATION_ALPHABET,
  INVITATION_CODE_LENGTH,
  normalizeInvitationCode,
  type Invitation,
  type InvitationStatus,
  type Role,
} from '../protocol';
import { writeAuditDb, type Actor } from './audit';
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

export function listInvitations(db: Db, now: Date): Invitation[] {
  return db
    .select({ invitation: invitations, teamName: teams.name })
    .from(invitations)
    .innerJoin(teams, eq(teams.id, invitations.teamId))
    .orderBy(desc(invitations.createdAt))
    .all()
    .map(({ invitation, teamName }) => toInvitation(invitation, teamName, now));
}

export function createInvitation(
  db: Db,
  input: { teamId: string; role: Role; expiresInDays: number },
  actor: Actor,
): Invitation {
  for (let attempt = 0; ; attempt++) {
    try {
      return db.transaction(
        (tx) => {
          const team = getTeamRow(tx, input.teamId);
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
          tx.insert(invitations).values(row).run();
          // The code is a bearer credential until used: the log keeps only a prefix.
          writeAuditDb(tx, actor, 'invitation.create', team.id, {
            codePrefix: row.code.slice(0, 4),
            role: row.role,
            expiresAt: row.expiresAt.toISOString(),
          });
          return toInvitation(row, team.name, actor.at);
        },
        { behavior: 'immediate' },
      );
    } catch (err) {
      // 31^12 codes: a collision is astronomically unlikely, but cheap to survive.
      if (isUniqueViolation(err) && attempt < 3) continue;
      throw err;
    }
  }
}

export function revokeInvitation(db: Db, rawCode: string, actor: Actor): Invitation {
  const code = normalizeInvitationCode(rawCode);
  return db.transaction(
    (tx) => {
      const row = tx
        .select({ invitation: invitations, teamName: teams.name })
        .from(invitations)
        .innerJoin(teams, eq(teams.id, invitations.teamId))
        .where(eq(invitations.code, code))
        .get();
      if (!row) throw notFound('Invitation');
      const revokedAt = row.invitation.revokedAt ?? actor.at;
      tx.update(invitations).set({ revokedAt }).where(eq(invitations.code, code)).run();
      writeAuditDb(tx, actor, 'invitation.revoke', row.invitation.teamId, {
        codePrefix: code.slice(0, 4),
      });
      return toInvitation({ ...row.invitation, revokedAt }, row.teamName, actor.at);
    },
    { behavior: 'immediate' },
  );
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

/** Legacy synchronous findRedeemableInvitation (issue 17): to be removed. */
export function findRedeemableInvitationDb(tx: DbOrTx, code: string, now: Date): InvitationRow {
  return redeemable(tx.select().from(invitations).where(eq(invitations.code, code)).get(), now);
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
 * Marks the invitation used; 400 invalid_invitation when another sign-up used it in the meantime
 * (on PostgreSQL two instances may check the same code at once).
 */
export async function markInvitationUsed(
  tx: Pick<TxRepositories, 'teams'>,
  code: string,
  userId: string,
  now: Date,
): Promise<void> {
  if (!(await tx.teams.markInvitationUsed(code, userId, now))) {
    throw new ApiError(400, 'invalid_invitation', 'This invitation has already been used');
  }
}

/** Legacy synchronous markInvitationUsed (issue 17): to be removed. */
export function markInvitationUsedDb(tx: DbOrTx, code: string, userId: string, now: Date): void {
  tx.update(invitations)
    .set({ usedAt: now, usedBy: userId })
    .where(eq(invitations.code, code))
    .run();
}
