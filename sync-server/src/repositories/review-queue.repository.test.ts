import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import * as sqliteSchema from '../db/schema';
import * as pgSchema from '../db/schema.pg';
import type { Mutation } from '../protocol';
import { queue, reportBundle } from '../services/review-queue';
import type { Scope } from '../services/scope';
import { push } from '../services/sync';
import { diagnosis, mutation, patient, report, review } from '../sync-test-utils';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import type { ParsedFilters, QueueKey, QueueRow, QueueSort } from './review-queue.repository';

/*
 * The reviewQueue repository on both dialects (SQLite always; PostgreSQL too in the
 * sync-server-pg project): the same rows in the same order where SQLite and PostgreSQL differ by
 * default — text order of page keys (bytes vs the locale), case and accents of the village
 * filter, NULLs, integer results — with the read models filled by real pushes.
 */

const A = 'team-a';
const B = 'team-b';
const CLIN = 'clin-1';
const CLIN2 = 'clin-2';
const T0 = Date.parse('2026-03-01T10:00:00Z');

const clinician = (userId: string): Scope => ({
  userId,
  isAdmin: false,
  clinicianTeams: new Set([A, B]),
  supervisorTeams: new Set(),
  readTeams: [A, B],
  fingerprint: [`clinician:${A}`, `clinician:${B}`],
});
const supervisor: Scope = {
  userId: 'sup',
  isAdmin: false,
  clinicianTeams: new Set(),
  supervisorTeams: new Set([A, B]),
  readTeams: [A, B],
  fingerprint: [`supervisor:${A}`, `supervisor:${B}`],
};

/**
 * Report ids whose byte order differs from an en_US collation's (which ignores punctuation at first
 * and puts "B" after "a"): a page boundary taken in one order would skip or repeat rows in the
 * other.
 */
const TIED_IDS = ['r-B', 'r-a', 'r_b', 'rA', 'r-a-2', 'R-z', 'r.c', 'r-Ä', 'r-b'];
const byteSorted = (ids: readonly string[]) =>
  [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

const dialects = ['sqlite' as const, ...(TEST_DB === 'postgres' ? (['postgres'] as const) : [])];

describe.each(dialects)('ReviewQueueRepository (%s)', (dialect) => {
  let t: TestDatabase;
  // Report ids, set as the cases are pushed.
  const ids = {
    accentUpper: '',
    accentLower: '',
    plain: '',
    noBirth: '',
    positive: '',
    negative: '',
    disagree: '',
  };

  async function pushAs(userId: string, at: number, mutations: Mutation[]) {
    const results = await push(
      t.repos.sync,
      { scope: clinician(userId), deviceId: `dev-${userId}`, now: new Date(at) },
      mutations,
    );
    for (const r of results) {
      if (r.status === 'rejected') throw new Error(`push: ${r.reason}`);
    }
  }

  /** A patient with a shared report (and diagnoses), pushed at `at`; the report's id. */
  async function sharedCase(
    teamId: string,
    at: number,
    o: {
      id?: string;
      userId?: string;
      patient?: Record<string, unknown>;
      diagnoses?: Record<string, unknown>[];
    } = {},
  ) {
    const p = patient(teamId, o.patient ?? {});
    const ds = (o.diagnoses ?? []).map((f) => diagnosis(teamId, p.id, f));
    const r = report(teamId, p.id, {
      ...(o.id ? { id: o.id } : {}),
      diagnosisIds: ds.map((d) => d.id),
    });
    await pushAs(o.userId ?? CLIN, at, [
      mutation('patients', p),
      ...ds.map((d) => mutation('diagnoses', d)),
      mutation('reports', r),
    ]);
    return r.id;
  }

  beforeAll(async () => {
    t = await testDatabase({ dialect });
    const now = new Date(T0);
    const people = {
      teams: [
        { id: A, name: 'b clinic', createdAt: now, updatedAt: now },
        { id: B, name: 'B Clinic 2', createdAt: now, updatedAt: now },
      ],
      users: [
        { id: CLIN, email: 'c1@x.test', name: 'zoe', passwordHash: 'x', createdAt: now },
        { id: CLIN2, email: 'c2@x.test', name: 'Yann', passwordHash: 'x', createdAt: now },
        { id: 'sup', email: 's@x.test', name: 'Sam', passwordHash: 'x', createdAt: now },
      ],
      memberships: [
        { teamId: A, userId: CLIN, role: 'clinician' as const, createdAt: now },
        { teamId: A, userId: CLIN2, role: 'clinician' as const, createdAt: now },
        { teamId: B, userId: CLIN, role: 'clinician' as const, createdAt: now },
        { teamId: A, userId: 'sup', role: 'supervisor' as const, createdAt: now },
      ],
    };
    if (dialect === 'postgres') {
      // As in a database created with an en_US locale (the test server's is C): text ordered or
      // compared for paging sorts by that locale unless the SQL says COLLATE "C".
      for (const [table, column] of [
        ['review_reports', 'report_id'],
        ['review_diagnoses', 'report_id'],
        ['teams', 'name'],
        ['users', 'name'],
      ]) {
        await t.pool!.query(
          `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE text COLLATE "en-x-icu"`,
        );
      }
      const db = drizzle({ client: t.pool!, schema: pgSchema });
      await db.insert(pgSchema.teams).values(people.teams);
      await db.insert(pgSchema.users).values(people.users);
      await db.insert(pgSchema.teamMemberships).values(people.memberships);
    } else {
      t.db.insert(sqliteSchema.teams).values(people.teams).run();
      t.db.insert(sqliteSchema.users).values(people.users).run();
      t.db.insert(sqliteSchema.teamMemberships).values(people.memberships).run();
    }

    // Nine reports of team A shared in one push (one share time), three of team B in another.
    const tied = TIED_IDS.map((id) => ({ id, p: patient(A) }));
    await pushAs(
      CLIN,
      T0,
      tied.flatMap(({ id, p }) => [
        mutation('patients', p),
        mutation('reports', report(A, p.id, { id })),
      ]),
    );
    for (const id of ['b-1', 'b-2', 'B-0']) await sharedCase(B, T0, { id });

    // Villages that differ by case and accent, and a patient with no birth date or village.
    ids.accentUpper = await sharedCase(A, T0 + 1000, { patient: { village: 'Ébène' } });
    ids.accentLower = await sharedCase(A, T0 + 2000, { patient: { village: 'ébène' } });
    ids.plain = await sharedCase(A, T0 + 3000, { patient: { village: 'Ebene' } });
    ids.noBirth = await sharedCase(A, T0 + 4000, {
      userId: CLIN2,
      patient: { birthDate: null, village: '' },
    });

    // Model results: positive, negative, disagreed with; one report returned by a review.
    ids.positive = await sharedCase(A, T0 + 86_400_000, {
      diagnoses: [{ outputs: { negative: 0.1, positive: 0.9 } }],
    });
    ids.negative = await sharedCase(A, T0 + 2 * 86_400_000, {
      diagnoses: [{ outputs: { negative: 0.9, positive: 0.1 }, modelId: 'other-model' }],
    });
    ids.disagree = await sharedCase(A, T0 + 3 * 86_400_000, {
      diagnoses: [
        {
          outputs: { negative: 0.2, positive: 0.8 },
          assessment: { verdict: 'disagree', note: '', at: '2026-03-01T10:00:00Z', by: 'x' },
        },
      ],
    });
    const returned = review(A, ids.negative, { decision: 'returned' });
    await push(
      t.repos.sync,
      {
        scope: { ...supervisor, userId: 'sup' },
        deviceId: 'dev-sup',
        now: new Date(T0 + 4 * 86_400_000),
      },
      [mutation('reviews', returned)],
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const q = () => t.repos.reviewQueue;
  const keyOf = (r: QueueRow): QueueKey => ({
    rank: r.rank,
    sharedAt: r.sharedAt,
    reportId: r.reportId,
  });

  async function walk(teamId: string, f: ParsedFilters, sort: QueueSort, limit: number) {
    const out: QueueRow[] = [];
    let after: QueueKey | null = null;
    for (let i = 0; i < 100; i++) {
      const rows = await q().page(teamId, f, sort, after, limit);
      out.push(...rows);
      if (rows.length < limit) return out;
      after = keyOf(rows[rows.length - 1]!);
    }
    throw new Error('paging does not end');
  }

  it('pages across equal share times in byte order of the report id, each row once', async () => {
    const f = { from: '2026-03-01', to: '2026-03-01' };
    const all = await walk(A, f, 'age', 100);
    const tied = all.filter((r) => r.sharedAt === T0).map((r) => r.reportId);
    expect(tied).toEqual(byteSorted(TIED_IDS));
    for (const limit of [1, 2, 4]) {
      expect((await walk(A, f, 'age', limit)).map((r) => r.reportId)).toEqual(
        all.map((r) => r.reportId),
      );
      expect((await walk(A, f, 'priority', limit)).map((r) => r.reportId)).toEqual(
        (await walk(A, f, 'priority', 100)).map((r) => r.reportId),
      );
    }
  });

  it('orders by priority (most flags first), then share time, then report id', async () => {
    const rows = await walk(A, {}, 'priority', 3);
    const keys = rows.map((r) => [r.rank, r.sharedAt]);
    const sorted = [...keys].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    expect(keys).toEqual(sorted);
    expect(rows[0]!.reportId).toBe(ids.disagree); // positive + disagreement
    expect(rows[1]!.reportId).toBe(ids.positive);
  });

  it("merges the teams' pages through the service with cursors, in the same order", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await queue(
        t.repos,
        supervisor,
        { from: '2026-03-01', to: '2026-03-01', sort: 'age', limit: 2, cursor },
        new Date(T0),
      );
      seen.push(...page.items.map((x) => x.reportId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const inPush = byteSorted([...TIED_IDS, 'b-1', 'b-2', 'B-0']);
    expect(seen.slice(0, inPush.length)).toEqual(inPush);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters villages case-insensitively, accents kept: É matches é, not E', async () => {
    for (const village of ['ébène', 'ÉBÈNE', 'Ébène']) {
      const rows = await q().page(A, { village }, 'age', null, 50);
      expect(rows.map((r) => r.reportId)).toEqual([ids.accentUpper, ids.accentLower]);
      expect(rows.map((r) => r.village)).toEqual(['Ébène', 'ébène']);
    }
    expect(
      (await q().page(A, { village: 'EBENE' }, 'age', null, 50)).map((r) => r.reportId),
    ).toEqual([ids.plain]);
    // A partial name is no match (exact village).
    expect(await q().page(A, { village: 'bène' }, 'age', null, 50)).toEqual([]);
  });

  it('gives NULL birth dates and empty villages back as they are, with numbers for numbers', async () => {
    const row = (await q().queueRow(ids.noBirth))!;
    expect(row.birthDate).toBeNull();
    expect(row.village).toBe('');
    expect(row.reviewedAt).toBeNull();
    expect(row.clinicianName).toBe('Yann');
    expect(row.teamName).toBe('b clinic');
    for (const k of ['sharedAt', 'firstSharedAt', 'revision', 'positive', 'rank'] as const) {
      expect(typeof row[k]).toBe('number');
    }
    expect(row.sharedAt).toBe(T0 + 4000);
    const reviewed = (await q().queueRow(ids.negative))!;
    expect(reviewed.state).toBe('returned');
    expect(reviewed.reviewedAt).toBe(T0 + 4 * 86_400_000);
    expect(await q().queueRow('no-such-report')).toBeUndefined();
  });

  it('applies every filter, and counts per state the same from counters and from reports', async () => {
    const idsOf = async (f: ParsedFilters) => (await walk(A, f, 'age', 50)).map((r) => r.reportId);
    expect(await idsOf({ clinicianId: CLIN2 })).toEqual([ids.noBirth]);
    expect(await idsOf({ state: 'returned' })).toEqual([ids.negative]);
    expect(await idsOf({ disagreement: 'true' })).toEqual([ids.disagree]);
    expect(await idsOf({ finding: 'positive' })).toEqual([ids.positive, ids.disagree]);
    expect(await idsOf({ finding: 'negative' })).toEqual([ids.negative]);
    expect(await idsOf({ modelId: 'pima-diabetes' })).toEqual([ids.positive, ids.disagree]);
    expect(await idsOf({ modelId: 'pima-diabetes', finding: 'negative' })).toEqual([]);
    expect(await idsOf({ modelId: 'other-model', finding: 'negative' })).toEqual([ids.negative]);
    expect(await idsOf({ from: '2026-03-02', to: '2026-03-03' })).toEqual([
      ids.positive,
      ids.negative,
    ]);

    const total = TIED_IDS.length + 7;
    expect(await q().stateCounts([A], {})).toEqual({
      awaiting: total - 1,
      approved: 0,
      returned: 1,
    });
    // The same counts through review_reports (a period filter is not a counter column).
    expect(await q().stateCounts([A], { from: '2026-01-01' })).toEqual({
      awaiting: total - 1,
      approved: 0,
      returned: 1,
    });
    expect(await q().stateCounts([A, B], { finding: 'positive' })).toEqual({
      awaiting: 2,
      approved: 0,
      returned: 0,
    });
    expect(await q().stateCounts([A, B], { village: 'none' })).toEqual({
      awaiting: 0,
      approved: 0,
      returned: 0,
    });
  });

  it('reads diagnoses, teams and clinicians in byte order, with booleans', async () => {
    const ds = await q().diagnosesOf([ids.negative, ids.positive, 'nothing']);
    expect(ds.map((d) => [d.reportId, d.positive])).toEqual(
      byteSorted([ids.negative, ids.positive]).map((id) => [id, id === ids.positive]),
    );
    expect(await q().diagnosesOf([])).toEqual([]);
    expect((await q().teamsByName([A, B])).map((x) => x.name)).toEqual(['B Clinic 2', 'b clinic']);
    expect((await q().cliniciansOf([A, B])).map((c) => [c.teamId, c.name])).toEqual([
      [A, 'Yann'],
      [A, 'zoe'],
      [B, 'zoe'],
    ]);
  });

  it("reads a report's records, reviews and image types for its page", async () => {
    const rec = (await q().record('reports', ids.negative))!;
    expect(rec.teamId).toBe(A);
    expect(rec.deleted).toBe(false);
    expect((JSON.parse(rec.data) as { id: string }).id).toBe(ids.negative);
    expect(await q().record('patients', 'missing')).toBeUndefined();
    const events = await q().events(ids.negative);
    expect(events.map((e) => [e.decision, e.revision, e.at])).toEqual([
      ['returned', 1, T0 + 4 * 86_400_000],
    ]);
    expect(await q().refs(ids.negative, 'comments')).toEqual([]);
    expect(await q().blobMime('0'.repeat(64))).toBeNull();

    const bundle = await reportBundle(t.repos, supervisor, ids.noBirth, new Date(T0));
    expect(bundle.patient.birthDate).toBeNull();
    expect(bundle.patient.ageYears).toBeNull();
    expect(bundle.report.clinicianName).toBe('Yann');
    await expect(reportBundle(t.repos, supervisor, 'missing', new Date(T0))).rejects.toThrow();
  });
});

// PostgreSQL only (SQLite's plans are bench:review's concern): defined only in that project.
if (TEST_DB === 'postgres') {
  describe('ReviewQueueRepository plans (postgres)', () => {
    it("walks a team's index in queue order and starts a later page at its key", async () => {
      const t = await testDatabase({ dialect: 'postgres' });
      onTestFinished(() => t.close());
      const pool = t.pool!;
      // 5,000 reports over 5 teams, a few sharing each share time.
      await pool.query(`INSERT INTO review_reports (report_id, team_id, patient_id, clinician_id,
          patient_name, sex, village, village_key, revision, state, shared_at, first_shared_at,
          ever_returned, positive, abnormal, disagreement, priority, models, rank)
        SELECT 'r-' || g, 'team-' || (g % 5), 'p-' || g, 'c-' || (g % 40), 'n', 'f', 'V' || (g % 40),
          'v' || (g % 40), 1, (ARRAY['awaiting', 'approved', 'returned'])[1 + g % 3], 1000000 + g / 3,
          1000000, 0, g % 2, 0, (g % 7 = 0)::int, g % 2 + (g % 7 = 0)::int, '|m:' || (g % 2) || '|',
          -(g % 2 + (g % 7 = 0)::int)
        FROM generate_series(1, 5000) g`);
      await pool.query('ANALYZE review_reports');

      // The plan of each statement the repository sends, instead of its rows.
      let plans: string[] = [];
      const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
      (pool as { query: unknown }).query = async (config: { text: string }, values?: unknown) => {
        const res = await query({ ...config, text: `EXPLAIN ${config.text}` }, values);
        plans.push(res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
        return { ...res, rows: [] };
      };
      const planOf = async (f: ParsedFilters, sort: QueueSort, after: QueueKey | null) => {
        plans = [];
        await t.repos.reviewQueue.page('team-1', f, sort, after, 51);
        return plans.join('\n');
      };
      const key = { rank: -1, sharedAt: 1000500, reportId: 'r-1501' };

      const age = await planOf({}, 'age', key);
      expect(age).toContain('Index Scan using review_reports_team_shared');
      expect(age).toMatch(/Index Cond: .*shared_at >= /);
      const priority = await planOf({}, 'priority', key);
      expect(priority).toContain('Index Scan using review_reports_team_rank');
      expect(priority).toMatch(/Index Cond: .*ROW\(rank, shared_at\) >= ROW/);
      const state = await planOf({ state: 'awaiting' }, 'age', key);
      expect(state).toContain('Index Scan using review_reports_team_state_shared');
      expect(state).toMatch(/Index Cond: .*state = .*shared_at >= /);
      // Only rows of equal keys are sorted (by report id, COLLATE "C"), never the whole team.
      for (const plan of [age, priority, state, await planOf({}, 'age', null)]) {
        expect(plan).not.toMatch(/^\s*(->\s*)?Sort \s*\(/m);
      }
    });
  });
}
