import { and, asc, count, eq, gt, isNull, lte, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/connection';
import {
  passwordResetCodes,
  sessions,
  teamMemberships,
  teams,
  users,
  type PasswordResetCodeRow,
  type SessionRow,
  type UserRow,
} from '../../db/schema';
import type { AccountsRepository, FirstMembership } from '../accounts.repository';
import type { SqliteRunner } from './runner';

// The hot path of every authenticated request: prepared once per connection.
const prepareSessionLookup = (db: Db) =>
  db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare();
const sessionLookups = new WeakMap<Db, ReturnType<typeof prepareSessionLookup>>();

export class SqliteAccountsRepository implements AccountsRepository {
  constructor(private readonly r: SqliteRunner) {}

  isAdmin(userId: string) {
    return this.r.run(
      () =>
        this.r.db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, userId)).get()
          ?.isAdmin ?? false,
    );
  }

  countUsers() {
    return this.r.run(() => this.r.db.select({ n: count() }).from(users).get()?.n ?? 0);
  }

  userById(userId: string) {
    return this.r.run(() => this.r.db.select().from(users).where(eq(users.id, userId)).get());
  }

  userForUpdate(userId: string) {
    return this.userById(userId);
  }

  userByEmail(email: string) {
    return this.r.run(() =>
      this.r.db.select().from(users).where(eq(users.email, email.toLowerCase())).get(),
    );
  }

  listUsers() {
    return this.r.run(() => this.r.db.select().from(users).orderBy(asc(users.email)).all());
  }

  listMemberships() {
    return this.r.run(() =>
      this.r.db
        .select({
          userId: teamMemberships.userId,
          teamId: teams.id,
          teamName: teams.name,
          role: teamMemberships.role,
        })
        .from(teamMemberships)
        .innerJoin(teams, eq(teams.id, teamMemberships.teamId))
        .orderBy(asc(teams.name))
        .all(),
    );
  }

  insertUser(user: UserRow, membership: FirstMembership | null) {
    return this.r.run(() => {
      this.r.db.insert(users).values(user).run();
      if (membership) {
        this.r.db
          .insert(teamMemberships)
          .values({ ...membership, userId: user.id, createdAt: user.createdAt })
          .run();
      }
    });
  }

  setDisabledAt(userId: string, disabledAt: Date | null) {
    return this.r.run(() => {
      this.r.db.update(users).set({ disabledAt }).where(eq(users.id, userId)).run();
    });
  }

  setPasswordHash(userId: string, passwordHash: string) {
    return this.r.run(() => {
      this.r.db.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
    });
  }

  lockSignups() {
    // Every transaction on SQLite is BEGIN IMMEDIATE: it holds the write lock already.
    return Promise.resolve();
  }

  insertSession(session: SessionRow) {
    return this.r.run(() => {
      this.r.db.insert(sessions).values(session).run();
    });
  }

  sessionWithUser(sessionId: string) {
    let statement = sessionLookups.get(this.r.db);
    if (!statement) sessionLookups.set(this.r.db, (statement = prepareSessionLookup(this.r.db)));
    const s = statement;
    return this.r.run(() => s.get({ id: sessionId }));
  }

  setSessionExpiry(sessionId: string, expiresAt: Date) {
    return this.r.run(() => {
      this.r.db.update(sessions).set({ expiresAt }).where(eq(sessions.id, sessionId)).run();
    });
  }

  deleteSession(sessionId: string) {
    return this.r.run(() => {
      this.r.db.delete(sessions).where(eq(sessions.id, sessionId)).run();
    });
  }

  deleteUserSessions(userId: string, exceptSessionId?: string) {
    const where =
      exceptSessionId === undefined
        ? eq(sessions.userId, userId)
        : and(eq(sessions.userId, userId), ne(sessions.id, exceptSessionId));
    return this.r.run(() => this.r.db.delete(sessions).where(where).run().changes);
  }

  deleteExpiredSessions(now: Date) {
    return this.r.run(
      () => this.r.db.delete(sessions).where(lte(sessions.expiresAt, now)).run().changes,
    );
  }

  revokeResetCodes(userId: string, at: Date) {
    return this.r.run(() => {
      this.r.db
        .update(passwordResetCodes)
        .set({ revokedAt: at })
        .where(
          and(
            eq(passwordResetCodes.userId, userId),
            isNull(passwordResetCodes.usedAt),
            isNull(passwordResetCodes.revokedAt),
          ),
        )
        .run();
    });
  }

  insertResetCode(row: PasswordResetCodeRow) {
    return this.r.run(() => {
      this.r.db.insert(passwordResetCodes).values(row).run();
    });
  }

  resetCode(userId: string, codeHash: string) {
    return this.r.run(() =>
      this.r.db
        .select()
        .from(passwordResetCodes)
        .where(
          and(eq(passwordResetCodes.userId, userId), eq(passwordResetCodes.codeHash, codeHash)),
        )
        .get(),
    );
  }

  claimResetCode(id: string, at: Date) {
    return this.r.run(
      () =>
        this.r.db
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
          .run().changes === 1,
    );
  }
}
