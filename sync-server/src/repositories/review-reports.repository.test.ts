import { drizzle } from 'drizzle-orm/node-postgres';
import { afterEach, describe, expect, it } from 'vitest';
import * as sqliteSchema from '../db/schema';
import * as pgSchema from '../db/schema.pg';
import { SQL_WEEK, weekNumber } from '../services/stats';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import type { ParsedFilters } from './review-queue.repository';
import type { ReviewReportsRepository } from './review-reports.repository';

/*
 * The contract of ReviewReportsRepository on both dialects, where they differ: sums (numeric, as a
 * string, on PostgreSQL), bigint millisecond times, week numbers, text order (bytes: upper case
 * before lower case), NULL order, empty team lists, and an export paged across reports that share
 * one time.
 */

const dialects: ['sqlite' | 'postgres'][] = [
  ['sqlite'],
  ...(TEST_DB === 'postgres' ? [['postgres'] as ['postgres']] : []),
];

// 2026-01-15, well past 2^31 ms: times must come back as exact numbers.
const T0 = Date.parse('2026-01-15T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = weekNumber(T0);

type TableName =
  | 'teams'
  | 'users'
  | 'teamMemberships'
  | 'devices'
  | 'reviewReports'
  | 'reviewEvents'
  | 'reviewVerdicts'
  | 'clinicianActivity'
  | 'modelWeekly'
  | 'verdictLatest'
  | 'records';

let open: TestDatabase | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/**
 * The text columns these queries order by, in a locale's order ('a' < 'A' < 'b'), as in a database
 * created without --locale=C (the test server's is C): the byte orders below then hold only where
 * the SQL asks for bytes itself.
 */
const LOCALE_ORDERED: [string, string][] = [
  ['teams', 'name'],
  ['users', 'name'],
  ['clinician_activity', 'user_id'],
  ['devices', 'id'],
  ['model_weekly', 'model_id'],
  ['model_weekly', 'model_name'],
  ['verdict_latest', 'model_id'],
  ['review_reports', 'report_id'],
  ['review_verdicts', 'review_id'],
];

async function setup(dialect: 'sqlite' | 'postgres') {
  const t = await testDatabase({ dialect });
  open = t;
  for (const [table, column] of t.pool ? LOCALE_ORDERED : []) {
    await t.pool!.query(
      `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE text COLLATE "und-x-icu"`,
    );
  }
  const pgDb = t.pool ? drizzle({ client: t.pool }) : undefined;
  /** Rows straight into a table of either dialect (the same field names and JS types). */
  const insert = async (table: TableName, rows: Record<string, unknown>[]) => {
    if (pgDb) await pgDb.insert(pgSchema[table]).values(rows as never);
    else
      t.db
        .insert(sqliteSchema[table])
        .values(rows as never)
        .run();
  };
  /** A raw query's first row (for SQL shared by both dialects, like SQL_WEEK). */
  const one = async (sqliteSql: string, pgSql: string, params: unknown[]) => {
    if (t.pool) return (await t.pool.query(pgSql, params)).rows[0] as Record<string, unknown>;
    return t.sqlite.prepare(sqliteSql).get(...params) as Record<string, unknown>;
  };
  const repo: ReviewReportsRepository = t.repos.reviewReports;
  return { t, repo, insert, one };
}

const team = (id: string, name: string) => ({
  id,
  name,
  createdAt: new Date(T0),
  updatedAt: new Date(T0),
});
const user = (id: string, name: string) => ({
  id,
  email: `${id.toLowerCase()}@example.org`,
  name,
  passwordHash: 'x',
  createdAt: new Date(T0),
});

function reportRow(id: string, fields: Record<string, unknown> = {}) {
  return {
    reportId: id,
    teamId: 'team-a',
    patientId: `p-${id}`,
    clinicianId: 'u-1',
    patientName: `Patient ${id}`,
    sex: 'female',
    birthDate: null,
    village: 'Kisumu',
    villageKey: 'kisumu',
    revision: 1,
    state: 'awaiting',
    sharedAt: T0,
    firstSharedAt: T0,
    reviewedAt: null,
    everReturned: 0,
    positive: 0,
    abnormal: 0,
    disagreement: 0,
    priority: 0,
    models: '',
    rank: 0,
    ...fields,
  };
}

describe.each(dialects)('ReviewReportsRepository (%s)', (dialect) => {
  it('sums model weeks over teams as numbers, per model version and week, byte order', async () => {
    const { repo, insert } = await setup(dialect);
    const weekly = (teamId: string, modelId: string, week: number, runs: number, name = 'M') => ({
      teamId,
      modelId,
      modelVersion: '1.0.0',
      week,
      modelName: name,
      runs,
      positives: Math.floor(runs / 2),
      assessed: runs - 1,
      agreed: runs - 2,
    });
    await insert('modelWeekly', [
      weekly('team-a', 'alpha', WEEK, 10, 'Alpha a'),
      weekly('team-b', 'alpha', WEEK, 7, 'Alpha b'),
      weekly('team-a', 'alpha', WEEK + 1, 3),
      weekly('team-a', 'alpha', WEEK + 2, 0), // no runs: left out
      weekly('team-a', 'alpha', WEEK + 3, 5), // after the range
      weekly('team-a', 'Zeta', WEEK, 2),
      weekly('team-c', 'alpha', WEEK, 100), // another team
    ]);
    const rows = await repo.modelWeeks(['team-a', 'team-b'], WEEK, WEEK + 2);
    expect(rows).toEqual([
      // 'Z' (0x5A) sorts before 'a' (0x61) in bytes, after it in most locales.
      {
        modelId: 'Zeta',
        modelVersion: '1.0.0',
        modelName: 'M',
        week: WEEK,
        n: 2,
        positives: 1,
        assessed: 1,
        agreed: 0,
      },
      {
        modelId: 'alpha',
        modelVersion: '1.0.0',
        modelName: 'Alpha b',
        week: WEEK,
        n: 17,
        positives: 8,
        assessed: 15,
        agreed: 13,
      },
      {
        modelId: 'alpha',
        modelVersion: '1.0.0',
        modelName: 'M',
        week: WEEK + 1,
        n: 3,
        positives: 1,
        assessed: 2,
        agreed: 1,
      },
    ]);
  });

  it('counts latest verdicts in a period and reads clinician weeks as numbers', async () => {
    const { repo, insert } = await setup(dialect);
    const verdict = (id: string, verdict: string, at: number, modelPositive = 1) => ({
      diagnosisId: id,
      teamId: 'team-a',
      modelId: 'alpha',
      modelVersion: '1.0.0',
      modelPositive,
      verdict,
      at,
    });
    await insert('verdictLatest', [
      verdict('d1', 'right', T0),
      verdict('d2', 'right', T0 + HOUR),
      verdict('d3', 'wrong', T0, 0),
      verdict('d4', 'right', T0 + 2 * DAY), // after the period
    ]);
    expect(await repo.verdictCounts(['team-a'], T0, T0 + DAY)).toEqual([
      { modelId: 'alpha', modelVersion: '1.0.0', modelPositive: 0, verdict: 'wrong', n: 1 },
      { modelId: 'alpha', modelVersion: '1.0.0', modelPositive: 1, verdict: 'right', n: 2 },
    ]);

    const activity = (teamId: string, userId: string, week: number, shared: number) => ({
      teamId,
      userId,
      week,
      encounters: shared + 1,
      shared,
      returned: shared > 0 ? 1 : 0,
    });
    await insert('clinicianActivity', [
      activity('team-a', 'U-b', WEEK, 2),
      activity('team-a', 'u-a', WEEK, 0),
      activity('team-a', 'U-b', WEEK - 1, 4),
      activity('team-a', 'U-b', WEEK - 2, 9), // before the range
    ]);
    expect(await repo.clinicianWeeks(['team-a'], WEEK - 1, WEEK)).toEqual([
      { teamId: 'team-a', clinicianId: 'U-b', week: WEEK - 1, encounters: 5, n: 4, returned: 1 },
      { teamId: 'team-a', clinicianId: 'U-b', week: WEEK, encounters: 3, n: 2, returned: 1 },
      { teamId: 'team-a', clinicianId: 'u-a', week: WEEK, encounters: 1, n: 0, returned: 0 },
    ]);
  });

  it('gives times as exact millisecond numbers, and SQL_WEEK the week of stats.ts', async () => {
    const { repo, insert, one } = await setup(dialect);
    await insert('reviewReports', [
      reportRow('r1', { sharedAt: T0 - 30 * HOUR }),
      reportRow('r2', { sharedAt: T0 - HOUR }),
      reportRow('r3', { state: 'approved' }),
    ]);
    expect((await repo.awaitingSharedAt(['team-a'])).sort()).toEqual([T0 - 30 * HOUR, T0 - HOUR]);
    const event = (id: string, at: number, sharedAt: number, first: number) => ({
      reviewId: id,
      reportId: 'r3',
      teamId: 'team-a',
      revision: 1,
      decision: 'approved',
      authorId: 'u-s',
      at,
      revisionSharedAt: sharedAt,
      firstOfRevision: first,
      snapshot: '{}',
    });
    await insert('reviewEvents', [
      event('e1', T0, T0 - 5 * HOUR, 1),
      event('e2', T0 + HOUR, T0 - 5 * HOUR, 0), // a second review of the revision
      event('e3', T0 - DAY, T0 - DAY - 1, 1), // before the period
    ]);
    expect(await repo.shareToReviewMs(['team-a'], T0 - HOUR, T0 + DAY)).toEqual([5 * HOUR]);

    // Sunday 23:59:59.999 and Monday 00:00 (UTC) fall in two weeks on both dialects.
    const monday = Date.parse('2026-01-12T00:00:00.000Z');
    for (const ms of [monday - 1, monday, T0, 2 ** 41 + 12_345]) {
      const row = await one(
        // A bound JS number is a REAL to SQLite; the columns SQL_WEEK reads hold integers.
        `SELECT ${SQL_WEEK('CAST(? AS INTEGER)')} AS week`,
        `SELECT ${SQL_WEEK('$1::bigint')} AS week`,
        [ms],
      );
      expect(Number(row.week)).toBe(weekNumber(ms));
    }
  });

  it('orders names in bytes, and devices never backed up first', async () => {
    const { repo, insert } = await setup(dialect);
    await insert('teams', [team('team-a', 'alpha'), team('team-b', 'Zulu'), team('team-c', 'c')]);
    expect(await repo.teamNames(['team-a', 'team-b'])).toEqual([
      { id: 'team-b', name: 'Zulu' },
      { id: 'team-a', name: 'alpha' },
    ]);
    await insert('users', [user('u-1', 'amina'), user('u-2', 'Baraka'), user('u-3', 'Sam')]);
    const member = (userId: string, teamId: string, role = 'clinician') => ({
      teamId,
      userId,
      role,
      createdAt: new Date(T0),
    });
    await insert('teamMemberships', [
      member('u-1', 'team-a'),
      member('u-2', 'team-a'),
      member('u-2', 'team-b'),
      member('u-3', 'team-a', 'supervisor'),
      member('u-1', 'team-c'),
    ]);
    expect(await repo.clinicians(['team-a', 'team-b'])).toEqual([
      { id: 'u-2', name: 'Baraka', teamId: 'team-a' },
      { id: 'u-2', name: 'Baraka', teamId: 'team-b' },
      { id: 'u-1', name: 'amina', teamId: 'team-a' },
    ]);
    const device = (id: string, userId: string, lastPushAt: number | null) => ({
      id,
      userId,
      createdAt: new Date(T0),
      lastSeenAt: new Date(T0),
      lastPushAt: lastPushAt === null ? null : new Date(lastPushAt),
    });
    await insert('devices', [
      device('d-recent', 'u-1', T0),
      device('d-old', 'u-1', T0 - 10 * DAY),
      device('d-never', 'u-1', null),
      device('d-sup', 'u-3', null), // a supervisor's: not a clinician's backup
    ]);
    expect(await repo.clinicianDevices(['team-a'])).toEqual([
      { deviceId: 'd-never', userId: 'u-1', userName: 'amina', teamId: 'team-a', lastPushAt: null },
      {
        deviceId: 'd-old',
        userId: 'u-1',
        userName: 'amina',
        teamId: 'team-a',
        lastPushAt: T0 - 10 * DAY,
      },
      { deviceId: 'd-recent', userId: 'u-1', userName: 'amina', teamId: 'team-a', lastPushAt: T0 },
    ]);
  });

  it('answers empty for teams without data and for no teams at all', async () => {
    const { repo, insert } = await setup(dialect);
    await insert('teams', [team('team-empty', 'Empty')]);
    await insert('reviewReports', [reportRow('r1', { teamId: 'team-a' })]);
    for (const teams of [['team-empty'], ['team-empty', 'team-none'], []]) {
      expect(await repo.teamNames(teams)).toEqual(
        teams.includes('team-empty') ? [{ id: 'team-empty', name: 'Empty' }] : [],
      );
      expect(await repo.clinicianWeeks(teams, WEEK - 10, WEEK + 10)).toEqual([]);
      expect(await repo.awaitingSharedAt(teams)).toEqual([]);
      expect(await repo.shareToReviewMs(teams, 0, T0 * 2)).toEqual([]);
      expect(await repo.clinicians(teams)).toEqual([]);
      expect(await repo.clinicianDevices(teams)).toEqual([]);
      expect(await repo.modelWeeks(teams, WEEK - 10, WEEK + 10)).toEqual([]);
      expect(await repo.verdictCounts(teams, 0, T0 * 2)).toEqual([]);
    }
    expect(await repo.exportPage('team-empty', {}, null, 10)).toEqual([]);
    expect(await repo.liveRecords([])).toEqual([]);
    expect(await repo.latestVerdicts([])).toEqual([]);
  });

  it('pages an export across reports that share a time, each once, in byte order', async () => {
    const { repo, insert } = await setup(dialect);
    await insert('teams', [team('team-a', 'Alpha')]);
    await insert('users', [user('u-1', 'Amina')]);
    // Five at one time, with ids whose byte order differs from a locale's; one earlier, one later.
    const ids = ['r-b', 'R-c', 'r-a', 'R-A', 'r-B'];
    await insert('reviewReports', [
      ...ids.map((id) => reportRow(id)),
      reportRow('z-first', { sharedAt: T0 - 1 }),
      reportRow('a-last', { sharedAt: T0 + 1, reviewedAt: T0 + 2, state: 'approved' }),
      reportRow('other', { teamId: 'team-b' }),
    ]);
    const all: string[] = [];
    const sizes: number[] = [];
    let after = null;
    // Bounded: a cursor that does not move on would page forever.
    for (let n = 0; n < 10; n++) {
      const page = await repo.exportPage('team-a', {}, after, 2);
      if (page.length === 0) break;
      sizes.push(page.length);
      all.push(...page.map((r) => r.reportId));
      const last = page[page.length - 1]!;
      after = { sharedAt: last.sharedAt, reportId: last.reportId };
    }
    expect(sizes).toEqual([2, 2, 2, 1]);
    expect(all).toEqual(['z-first', 'R-A', 'R-c', 'r-B', 'r-a', 'r-b', 'a-last']);

    const [last] = await repo.exportPage('team-a', { state: 'approved' }, null, 10);
    expect(last).toEqual({
      reportId: 'a-last',
      teamId: 'team-a',
      teamName: 'Alpha',
      patientId: 'p-a-last',
      patientName: 'Patient a-last',
      sex: 'female',
      birthDate: null,
      village: 'Kisumu',
      clinicianId: 'u-1',
      clinicianName: 'Amina',
      revision: 1,
      state: 'approved',
      sharedAt: T0 + 1,
      firstSharedAt: T0,
      reviewedAt: T0 + 2,
      positive: 0,
      abnormal: 0,
      disagreement: 0,
      priority: 0,
    });
  });

  it('filters an export page on each of the queue filters', async () => {
    const { repo, insert } = await setup(dialect);
    await insert('reviewReports', [
      reportRow('pos', { positive: 1, models: '|alpha:1|', disagreement: 1, sharedAt: T0 - DAY }),
      reportRow('neg', { positive: 0, models: '|alpha:0|Beta:0|', clinicianId: 'u-2' }),
      reportRow('none', { village: 'Other', villageKey: 'other', state: 'returned' }),
    ]);
    const ids = async (f: ParsedFilters) =>
      (await repo.exportPage('team-a', f, null, 10)).map((r) => r.reportId);
    expect(await ids({ finding: 'positive' })).toEqual(['pos']);
    expect(await ids({ finding: 'negative' })).toEqual(['neg']);
    expect(await ids({ modelId: 'alpha' })).toEqual(['pos', 'neg']);
    expect(await ids({ modelId: 'alpha', finding: 'positive' })).toEqual(['pos']);
    expect(await ids({ modelId: 'beta' })).toEqual([]); // case-sensitive
    expect(await ids({ modelId: 'Beta', finding: 'negative' })).toEqual(['neg']);
    expect(await ids({ disagreement: 'true' })).toEqual(['pos']);
    expect(await ids({ disagreement: 'false' })).toEqual(['neg', 'none']);
    expect(await ids({ clinicianId: 'u-2' })).toEqual(['neg']);
    expect(await ids({ village: 'OTHER' })).toEqual(['none']);
    expect(await ids({ state: 'returned' })).toEqual(['none']);
    expect(await ids({ from: '2026-01-14', to: '2026-01-14' })).toEqual(['pos']);
    expect(await ids({ from: '2026-01-15' })).toEqual(['neg', 'none']);
  });

  it('exports exactly the reports the queue lists, for every filter', async () => {
    const { t, repo, insert } = await setup(dialect);
    // Every filter column varied, with reports that match one filter and miss another.
    const rows = Array.from({ length: 24 }, (_, i) =>
      reportRow(`r-${String(i).padStart(2, '0')}`, {
        clinicianId: i % 3 === 0 ? 'u-2' : 'u-1',
        village: i % 4 === 0 ? 'Other' : 'Kisumu',
        villageKey: i % 4 === 0 ? 'other' : 'kisumu',
        state: (['awaiting', 'approved', 'returned'] as const)[i % 3],
        sharedAt: T0 + (i % 5) * DAY - 2 * DAY,
        disagreement: i % 2,
        positive: i % 5 === 1 ? 1 : 0,
        models: ['', '|alpha:1|', '|alpha:0|', '|alpha:0|Beta:1|', '|Beta:0|'][i % 5],
      }),
    );
    await insert('reviewReports', [...rows, reportRow('other-team', { teamId: 'team-b' })]);
    const filters: ParsedFilters[] = [
      {},
      { state: 'awaiting' },
      { state: 'returned', clinicianId: 'u-2' },
      { clinicianId: 'u-1' },
      { village: 'other' },
      { village: 'KISUMU', state: 'approved' },
      { from: '2026-01-14' },
      { to: '2026-01-15' },
      { from: '2026-01-14', to: '2026-01-15' },
      { disagreement: 'true' },
      { disagreement: 'false', finding: 'negative' },
      { finding: 'positive' },
      { modelId: 'alpha' },
      { modelId: 'alpha', finding: 'negative' },
      { modelId: 'Beta', finding: 'positive' },
      { modelId: 'beta' },
      { state: 'awaiting', village: 'Kisumu', from: '2026-01-13', modelId: 'alpha' },
    ];
    for (const f of filters) {
      const queued = (await t.repos.reviewQueue.page('team-a', f, 'age', null, 100)).map(
        (r) => r.reportId,
      );
      const exported = (await repo.exportPage('team-a', f, null, 100)).map((r) => r.reportId);
      expect(exported, JSON.stringify(f)).toEqual(queued);
    }
    // Not vacuous: the filters split the reports in many ways.
    const sizes = new Set<number>();
    for (const f of filters) sizes.add((await repo.exportPage('team-a', f, null, 100)).length);
    expect(sizes.size).toBeGreaterThan(6);
  });

  it('reads live records and the latest verdict of each diagnosis', async () => {
    const { repo, insert } = await setup(dialect);
    const record = (seq: number, tableName: string, id: string, deleted = false) => ({
      seq,
      tableName,
      id,
      teamId: 'team-a',
      version: 1,
      deleted,
      updatedAt: new Date(T0),
      updatedBy: 'u-1',
      data: JSON.stringify({ id, seq }),
    });
    await insert('records', [
      record(1, 'reports', 'r1'),
      record(2, 'patients', 'p1'),
      record(3, 'patients', 'gone', true),
      record(4, 'diagnoses', 'r1'), // same id, another table
    ]);
    const got = await repo.liveRecords([
      { table: 'reports', id: 'r1' },
      { table: 'patients', id: 'p1' },
      { table: 'patients', id: 'p1' },
      { table: 'patients', id: 'gone' },
      { table: 'patients', id: 'missing' },
    ]);
    expect(got.sort((a, b) => a.data.localeCompare(b.data))).toEqual([
      { table: 'patients', id: 'p1', data: '{"id":"p1","seq":2}' },
      { table: 'reports', id: 'r1', data: '{"id":"r1","seq":1}' },
    ]);

    const verdict = (reviewId: string, diagnosisId: string, verdict: string, at: number) => ({
      reviewId,
      diagnosisId,
      reportId: 'r1',
      teamId: 'team-a',
      modelId: 'alpha',
      modelVersion: '1.0.0',
      modelPositive: 1,
      verdict,
      referenceOutcome: verdict === 'wrong' ? 'Negative by X-ray' : null,
      at,
    });
    await insert('reviewVerdicts', [
      verdict('v-1', 'd1', 'right', T0),
      verdict('v-2', 'd1', 'wrong', T0 + 1),
      // Two at one time: the greatest review id in bytes ('v' > 'V') wins.
      verdict('v-3', 'd2', 'cant_tell', T0),
      verdict('V-9', 'd2', 'right', T0),
    ]);
    const latest = await repo.latestVerdicts(['d1', 'd2', 'd3', 'd1']);
    expect(latest.sort((a, b) => a.diagnosisId.localeCompare(b.diagnosisId))).toEqual([
      { diagnosisId: 'd1', verdict: 'wrong', referenceOutcome: 'Negative by X-ray' },
      { diagnosisId: 'd2', verdict: 'cant_tell', referenceOutcome: null },
    ]);
  });
});
