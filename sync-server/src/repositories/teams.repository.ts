import type { InvitationRow } from '../db/schema';
import type { MembershipSummary } from '../protocol';

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
   * Marks the invitation used by `userId` if it is still unused: false when another sign-up took
   * it first (so two sign-ups racing on one code cannot both succeed).
   */
  markInvitationUsed(code: string, userId: string, at: Date): Promise<boolean>;
}
