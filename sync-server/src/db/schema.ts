import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

// Timestamps are integer milliseconds since the epoch (drizzle maps them to Date).
const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const ROLES = ['clinician', 'supervisor'] as const;

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(), // UUID
    email: text('email').notNull().unique(), // always lower-cased
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(), // argon2id PHC string
    isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
    disabledAt: timestamp('disabled_at'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [check('users_email_lower', sql`${t.email} = lower(${t.email})`)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(), // hex SHA-256 of the token; the token itself is never stored
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [index('sessions_user_id').on(t.userId)],
);

export const teams = sqliteTable(
  'teams',
  {
    id: text('id').primaryKey(), // UUID
    name: text('name').notNull(),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  // Unique regardless of case: "Clinic A" and "clinic a" are the same team name.
  (t) => [uniqueIndex('teams_name_unique').on(sql`lower(${t.name})`)],
);

export const teamMemberships = sqliteTable(
  'team_memberships',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.userId] }),
    index('team_memberships_user_id').on(t.userId),
    check('team_memberships_role', sql`${t.role} in ('clinician', 'supervisor')`),
  ],
);

export const invitations = sqliteTable(
  'invitations',
  {
    code: text('code').primaryKey(), // XXXX-XXXX-XXXX
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    usedBy: text('used_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [
    index('invitations_team_id').on(t.teamId),
    index('invitations_created_at').on(t.createdAt),
    check('invitations_role', sql`${t.role} in ('clinician', 'supervisor')`),
  ],
);

/** Who did what, when, from where. Never secrets or patient data in `detail`. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    // No foreign key: the log outlives whatever it mentions.
    userId: text('user_id'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_at').on(t.at), index('audit_log_user_id').on(t.userId)],
);

/** Failed login attempts only, kept for the rate-limit window and pruned after it. */
export const loginAttempts = sqliteTable(
  'login_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    email: text('email').notNull(),
    ip: text('ip').notNull(),
  },
  (t) => [
    index('login_attempts_email_at').on(t.email, t.at),
    index('login_attempts_ip_at').on(t.ip, t.at),
    index('login_attempts_at').on(t.at),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type InvitationRow = typeof invitations.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
