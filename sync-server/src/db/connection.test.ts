import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils';
import { DB_FILE_NAME, openDataDir } from './connection';
import { users } from './schema';

describe('openDataDir', () => {
  it('creates the file, applies the migrations once, and sets the pragmas', () => {
    const tmp = tempDir();
    try {
      const dataDir = path.join(tmp.dir, 'data');
      const first = openDataDir(dataDir);
      expect(existsSync(path.join(dataDir, DB_FILE_NAME))).toBe(true);
      expect(first.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(first.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(first.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
      const tables = first.sqlite
        .prepare("select name from sqlite_master where type = 'table' order by name")
        .all()
        .map((r) => (r as { name: string }).name);
      for (const t of [
        'audit_log',
        'invitations',
        'login_attempts',
        'sessions',
        'team_memberships',
        'teams',
        'users',
      ]) {
        expect(tables).toContain(t);
      }
      first.db
        .insert(users)
        .values({ id: 'u', email: 'u@x.org', name: 'U', passwordHash: 'h', createdAt: new Date() })
        .run();
      first.close();

      // Reopening keeps the data and does not re-run migrations.
      const second = openDataDir(dataDir);
      expect(second.db.select().from(users).all()).toHaveLength(1);
      second.close();
    } finally {
      tmp.remove();
    }
  });

  it('enforces lower-case emails and foreign keys in the database itself', () => {
    const tmp = tempDir();
    try {
      const { sqlite, close } = openDataDir(tmp.dir);
      expect(() =>
        sqlite
          .prepare(
            "insert into users (id, email, name, password_hash, created_at) values ('a', 'A@x.org', 'A', 'h', 0)",
          )
          .run(),
      ).toThrow(/CHECK constraint/);
      expect(() =>
        sqlite
          .prepare(
            "insert into sessions (id, user_id, expires_at, created_at) values ('s', 'nobody', 0, 0)",
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
      close();
    } finally {
      tmp.remove();
    }
  });
});
