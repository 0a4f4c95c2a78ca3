import type { PasswordResetCodeRow, SessionRow, UserRow } from '../db/schema';
import type { MembershipSummary, Role } from '../protocol';

/** The first team of a new account, from its invitation (services/auth.ts signup). */
export interface FirstMembership {
  teamId: string;
  role: Role;
}

/** What the services need from users, sessions and password reset codes. */
export interface AccountsRepository {
  /** Whether the user is an administrator (false when there is no such user). */
  isAdmin(userId: string): Promise<boolean>;

  // Users
  countUsers(): Promise<number>;
  userById(userId: string): Promise<UserRow | undefined>;
  /**
   * userById, holding the row until the transaction ends (PostgreSQL: SELECT … FOR UPDATE; SQLite:
   * its BEGIN IMMEDIATE holds the write lock already): changes to one user made at once on two
   * instances run one after the other.
   */
  userForUpdate(userId: string): Promise<UserRow | undefined>;
  /**
   * Emails are stored lower-cased (a CHECK on both dialects): the lookup lower-cases its argument,
   * so it finds the account whatever the case typed, on SQLite and on PostgreSQL alike.
   */
  userByEmail(email: string): Promise<UserRow | undefined>;
  /** Every user, by email. */
  listUsers(): Promise<UserRow[]>;
  /** Every membership of every user, by team name (the admin's list of users). */
  listMemberships(): Promise<(MembershipSummary & { userId: string })[]>;
  /** A new user, and their first membership when an invitation gave one. */
  insertUser(user: UserRow, membership: FirstMembership | null): Promise<void>;
  setDisabledAt(userId: string, disabledAt: Date | null): Promise<void>;
  setPasswordHash(userId: string, passwordHash: string): Promise<void>;
  /**
   * Held until the transaction ends, taken before counting the users: two first sign-ups at once
   * must not both find the server empty and both become admin. SQLite: nothing to do (every
   * transaction there is BEGIN IMMEDIATE, which already excludes other writers); PostgreSQL: an
   * advisory transaction lock, since READ COMMITTED lets two transactions both count zero.
   */
  lockSignups(): Promise<void>;

  // Sessions
  insertSession(session: SessionRow): Promise<void>;
  /** The session with this id and its user: one indexed query, run on every request. */
  sessionWithUser(sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined>;
  setSessionExpiry(sessionId: string, expiresAt: Date): Promise<void>;
  deleteSession(sessionId: string): Promise<void>;
  /** Every session of the user, but `exceptSessionId`'s when given: how many ended. */
  deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number>;
  /** Sessions whose expiry is at or before `now`: how many. */
  deleteExpiredSessions(now: Date): Promise<number>;

  // Password reset codes
  /** Marks the user's unused, unrevoked codes revoked at `at`. */
  revokeResetCodes(userId: string, at: Date): Promise<void>;
  insertResetCode(row: PasswordResetCodeRow): Promise<void>;
  resetCode(userId: string, codeHash: string): Promise<PasswordResetCodeRow | undefined>;
  /**
   * Marks the code used if it is still unused, unrevoked and unexpired at `at`, in one conditional
   * UPDATE: false when another request claimed it first (a code sent twice at once works once).
   */
  claimResetCode(id: string, at: Date): Promise<boolean>;
}
