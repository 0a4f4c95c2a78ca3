import type { InvitationRow, TeamRow } from '../db/schema';
import type { MembershipSummary, Role } from '../protocol';

/** A team with how many members it has (the admin's team list). */
export interface TeamWithCount {
  team: TeamRow;
  memberCount: number;
}

/** An invitation with its team's name (the admin's invitation list). */
export interface InvitationWithTeam {
  invitation: InvitationRow;
  teamName: string;
}

/** What the services need from teams, memberships and invitations. */
export interface TeamsRepository {
  /** The user's teams with the role in each, by team name. */
  membershipsOf(userId: string): Promise<MembershipSummary[]>;
  /** Every team's id, sorted. */
  allTeamIds(): Promise<string[]>;
  /** The shortest lock delay of these teams (null when none of them exists). */
  minLockMinutes(teamIds: readonly string[]): Promise<number | null>;
  getInvitation(code: string): Promise<InvitationRow | undefined>;
  /**
   * Marks the invitation used by `userId` if it is still unused, unrevoked and unexpired at `at`
   * (one conditional UPDATE): false when another sign-up took it first, or it was revoked
   * meanwhile (so two sign-ups racing on one code cannot both succeed).
   */
  markInvitationUsed(code: string, userId: string, at: Date): Promise<boolean>;

  /**
   * The team; with `forUpdate`, its row stays locked until the transaction ends (PostgreSQL
   * `SELECT … FOR UPDATE`; a SQLite write transaction already holds the whole database).
   */
  getTeam(teamId: string, forUpdate?: boolean): Promise<TeamRow | undefined>;
  /** Every team with its member count, by name regardless of case (then id). */
  listTeams(): Promise<TeamWithCount[]>;
  /** Every team's id and name, by name regardless of case (then id). */
  teamNames(): Promise<{ id: string; name: string }[]>;
  memberCount(teamId: string): Promise<number>;
  /** Throws a unique violation of `teams_name_unique` when the name is taken, in any case. */
  insertTeam(row: TeamRow): Promise<void>;
  /** Changes these columns of the team (same unique violation as insertTeam for the name). */
  updateTeam(
    teamId: string,
    set: Partial<Pick<TeamRow, 'name' | 'lockMinutes'>> & { updatedAt: Date },
  ): Promise<void>;

  /**
   * Adds the user to the team with this role, or changes their role there, in one statement
   * (INSERT … SELECT FROM users … ON CONFLICT DO UPDATE): false, and nothing written, when the
   * user does not exist.
   */
  upsertMembership(m: {
    teamId: string;
    userId: string;
    role: Role;
    createdAt: Date;
  }): Promise<boolean>;
  /** False when the user was not a member. */
  deleteMembership(teamId: string, userId: string): Promise<boolean>;

  insertInvitation(row: InvitationRow): Promise<void>;
  /** Newest first (then by code). */
  listInvitations(): Promise<InvitationWithTeam[]>;
  getInvitationWithTeam(code: string): Promise<InvitationWithTeam | undefined>;
  /**
   * Sets revoked_at to `at` unless it is set already (one conditional UPDATE, so two revocations
   * at once keep the first): the stored revocation time, undefined when there is no such code.
   */
  revokeInvitation(code: string, at: Date): Promise<Date | undefined>;
}
