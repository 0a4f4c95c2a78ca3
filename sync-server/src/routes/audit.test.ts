import { describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../db/connection';
import { auditLog } from '../db/schema';
import { AuditListResponse } from '../protocol';
import { writeAudit } from '../services/audit';
import { DAY, errorOf, makeTestApp, withAdmin } from '../test-utils';
import { sqliteRepositories } from '../repositories/sqlite';

/* Issue 13, "Audit log viewer": filters, server-side pages, admins only, append-only. */

async function setup() {
  const t = await makeTestApp();
  onTestFinished(t.close);
  const a = await withAdmin(t.app);
  const bob = await a.member('bob@example.org');
  // 30 sign-ins of Bob's over three days, with a few of the admin's in between.
  for (let i = 0; i < 30; i++) {
    t.clock.advance(DAY / 10);
    await writeAudit(
      t.repos,
      { userId: bob.id, ip: '10.0.0.1', at: t.clock.now() },
      'auth.login',
      bob.id,
    );
    if (i % 10 === 0) {
      await writeAudit(
        t.repos,
        { userId: a.adminId, ip: '10.0.0.2', at: t.clock.now() },
        'auth.login',
      );
    }
  }
  const page = async (query: string) => {
    const res = await a.admin.get(`/api/admin/audit?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return AuditListResponse.parse(await res.json());
  };
  return { ...t, ...a, bob, page };
}

describe('GET /api/admin/audit', () => {
  it('filters by user and action, newest first, with the user’s email', async () => {
    const w = await setup();
    const { entries } = await w.page(`userId=${w.bob.id}&action=auth.login&limit=500`);
    expect(entries).toHaveLength(30);
    expect(entries.every((e) => e.userId === w.bob.id && e.action === 'auth.login')).toBe(true);
    expect(entries[0]!.userEmail).toBe('bob@example.org');
    const ids = entries.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    const signups = await w.page('action=auth.signup');
    expect(signups.entries.map((e) => e.userEmail).sort()).toEqual([
      'admin@example.org',
      'bob@example.org',
    ]);
  });

  it('filters by a date range, whole days included at both ends, or exact times', async () => {
    const w = await setup();
    // The sign-ins are at 12:24, 14:48, ... from 2026-01-15 on (the test clock starts 10:00).
    const day1 = await w.page(
      `action=auth.login&userId=${w.bob.id}&from=2026-01-15&to=2026-01-15&limit=500`,
    );
    expect(day1.entries.map((e) => e.at.slice(0, 10))).toEqual(Array(5).fill('2026-01-15'));
    const two = await w.page(
      `action=auth.login&userId=${w.bob.id}&from=2026-01-16&to=2026-01-17&limit=500`,
    );
    expect(two.entries).toHaveLength(20);
    const exact = await w.page(
      `action=auth.login&userId=${w.bob.id}&from=2026-01-15T12:24:00.000Z&to=2026-01-15T14:48:00.000Z`,
    );
    expect(exact.entries.map((e) => e.at)).toEqual([
      '2026-01-15T14:48:00.000Z',
      '2026-01-15T12:24:00.000Z',
    ]);
  });

  it('pages on the server: each entry once, in order, until nextBefore is null', async () => {
    const w = await setup();
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const q: string = `action=auth.login&limit=7${before ? `&before=${before}` : ''}`;
      const p = await w.page(q);
      expect(p.entries.length).toBeLessThanOrEqual(7);
      seen.push(...p.entries.map((e) => e.id));
      before = p.nextBefore;
      pages++;
    } while (before !== null);
    expect(pages).toBe(5); // 33 sign-ins: 7 + 7 + 7 + 7 + 5
    expect(seen).toHaveLength(33);
    expect(new Set(seen).size).toBe(33);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
  });

  it('answers bad filters with a 400 naming them', async () => {
    const w = await setup();
    for (const [query, message] of [
      ['action=auth.nope', 'action: is not a known action'],
      ['from=yesterday', 'from: must be a date (YYYY-MM-DD) or an ISO 8601 time'],
      ['to=2026-13-45', 'to: must be a date (YYYY-MM-DD) or an ISO 8601 time'],
      ['from=2026-01-17&to=2026-01-16', 'to: must not be before from'],
      ['before=0', 'before: must be a positive whole number'],
      ['before=abc', 'before: must be a number'],
      ['limit=501', 'limit: must be between 1 and 500'],
      ['userId=', 'userId: must not be empty'],
    ]) {
      const res = await w.admin.get(`/api/admin/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(await errorOf(res), query).toEqual({ code: 'invalid_request', message });
    }
  });

  it('is for admins only', async () => {
    const w = await setup();
    const res = await w.bob.client.get(`/api/admin/audit?userId=${w.bob.id}`);
    expect(res.status).toBe(403);
  });
});

describe('the audit log in the database', () => {
  it('is append-only: UPDATE and DELETE are refused by triggers, INSERT works', async () => {
    const { sqlite, db, close } = openDatabase(':memory:');
    onTestFinished(close);
    const repos = sqliteRepositories(db);
    await writeAudit(repos, { userId: 'u', ip: 'ip', at: new Date() }, 'auth.login', 'u');
    expect(() => sqlite.prepare("UPDATE audit_log SET user_id = 'someone else'").run()).toThrow(
      /audit_log is append-only/,
    );
    expect(() => sqlite.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => db.delete(auditLog).run()).toThrow(/append-only/);
    expect(db.select().from(auditLog).all()).toMatchObject([{ userId: 'u', action: 'auth.login' }]);
  });
});
