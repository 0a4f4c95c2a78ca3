import { and, asc, count, eq, gt, isNull, lte, ne, sql } from 'drizzle-orm';
import type { PgDbOrTx } from '../../db/postgres';
import type { PasswordResetCodeRow, SessionRow, UserRow } from '../../db/schema';
import { passwordResetCodes, sessions, teamMemberships, teams, users } from '../../db/schema.pg';
import type { AccountsRepository, FirstMembership } from '../accounts.repository';

/** The advisory lock key of sign-ups (lockSignups): any constant 64-bit number of our own. */
const SIGNUP_LOCK = sql`hashtextextended('fielddx:signup', 0)`;

export class PgAccountsRepository implements AccountsRepository {
  constructor(private readonly db: PgDbOrTx) {}

  async isAdmin(userId: string) {
    const [row] = await this.db
      .select({ isAdmin: users.isAdmin })
      .from(users)
      .where(eq(users.id, userId));
    return row?.isAdmin ?? false;
  }

  async countUsers() {
    const [row] = await this.db.select({ n: count() }).from(users);
    return row?.n ?? 0;
  }

  async userById(userId: string) {
    const [row] = await this.db.select().from(users).where(eq(users.id, userId));
    return row;
  }

  async userForUpdate(userId: string) {
    const [row] = await this.db.select().from(users).where(eq(users.id, userId)).for('update');
    return row;
  }

  async userByEmail(email: string) {
    // Stored lower-cased, and PostgreSQL compares text case-sensitively: lower the argument only,
    // so the unique index on email serves the lookup.
    const [row] = await this.db.select().from(users).where(eq(users.email, email.toLowerCase()));
    return row;
  }

  listUsers() {
    return this.db.select().from(users).orderBy(asc(users.email));
  }

  listMemberships() {
    return this.db
      .select({
        userId: teamMemberships.userId,
        teamId: teams.id,
        teamName: teams.name,
        role: teamMemberships.role,
      })
      .from(teamMemberships)
      .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
      .orderBy(asc(teams.name));
  }

  async insertUser(user: UserRow, membership: FirstMembership | null) {
    await this.db.insert(users).values(user);
    if (membership) {
      await this.db
        .insert(teamMemberships)
        .values({ ...membership, userId: user.id, createdAt: user.createdAt });
    }
  }

  async setDisabledAt(userId: string, disabledAt: Date | null) {
    await this.db.update(users).set({ disabledAt }).where(eq(users.id, userId));
  }

  async setPasswordHash(userId: string, passwordHash: string) {
    await this.db.update(users).set({ passwordHash }).where(eq(users.id, userId));
  }

  async lockSignups() {
    await this.db.execute(sql`SELECT pg_advisory_xact_lock(${SIGNUP_LOCK})`);
  }

  async insertSession(session: SessionRow) {
    await this.db.insert(sessions).values(session);
  }

  async sessionWithUser(sessionId: string) {
    const [row] = await this.db
      .select({ session: sessions, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, sessionId));
    return row as { session: SessionRow; user: UserRow } | undefined;
  }

  async setSessionExpiry(sessionId: string, expiresAt: Date) {
    await this.db.update(sessions).set({ expiresAt }).where(eq(sessions.id, sessionId));
  }

  async deleteSession(sessionId: string) {
    await this.db.delete(sessions).where(eq(sessions.id, sessionId));
  }

  async deleteUserSessions(userId: string, exceptSessionId?: string) {
    const where =
      exceptSessionId === undefined
        ? eq(sessions.userId, userId)
        : and(eq(sessions.userId, userId), ne(sessions.id, exceptSessionId));
    const result = await this.db.delete(sessions).where(where);
    return result.rowCount ?? 0;
  }

  async deleteExpiredSessions(now: Date) {
    const result = await this.db.delete(sessions).where(lte(sessions.expiresAt, now));
    return result.rowCount ?? 0;
  }

  async revokeResetCodes(userId: string, at: Date) {
    await this.db
      .update(passwordResetCodes)
      .set({ revokedAt: at })
      .where(
        and(
          eq(passwordResetCodes.userId, userId),
          isNull(passwordResetCodes.usedAt),
          isNull(passwordResetCodes.revokedAt),
        ),
      );
  }

  async insertResetCode(row: PasswordResetCodeRow) {
    await this.db.insert(passwordResetCodes).values(row);
  }

  async resetCode(userId: string, codeHash: string) {
    const [row] = await this.db
      .select()
      .from(passwordResetCodes)
      .where(and(eq(passwordResetCodes.userId, userId), eq(passwordResetCodes.codeHash, codeHash)));
    return row;
  }

  async claimResetCode(id: string, at: Date) {
    // One conditional UPDATE: under READ COMMITTED the second of two concurrent claims waits for
    // the first's row lock, then re-checks `used_at IS NULL` on the committed row and matches none.
    const rows = await this.db
      .update(passwordResetCodes)
      .set({ usedAt: at })
      .where(
        and(
          eq(passwordResetCodes.id, id),
          isNull(passwordResetCodes.usedAt),
          isNull(passwordResetCodes.revokedAt),
          gt(passwordResetCodes.expiresAt, at),
        ),
      )
      .returning({ id: passwordResetCodes.id });
    return rows.length === 1;
  }
}
