import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SYNC_TABLES, type SyncTable } from '../protocol';
import { TEST_DB, testDatabase, type TestDatabase } from '../test-utils';
import { MAX_TEAM_ARMS, TEAM_CHANGES_SQL, TeamChanges } from './sqlite/team-changes';
import type { PageRow, RecordWrite, SyncRepository } from './sync.repository';

/*
 * What a pull reads of the caller's teams (repositories/sqlite/team-changes.ts and PostgreSQL's
 * pullPage, countChanges, cursorKnown, lastChangeInScope), against a model in plain code: every
 * change of a clinician's team, only the review-side ones of a team the caller only supervises,
 * in seq order, nothing of anyone else's. Many teams and a few of the caller's, and a caller in
 * more teams than SQLite reads in one statement.
 */

const REVIEW_SIDE = new Set<SyncTable>(['reviews', 'comments', 'followups']);
const TEAMS = Array.from({ length: 700 }, (_, i) => `team-${String(i).padStart(3, '0')}`);

/** A deterministic stream of numbers in [0, 1): the same records on every run. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const rand = random(17);
const WRITES: RecordWrite[] = Array.from({ length: 2_000 }, (_, i) => {
  const seq = i + 1;
  // Half the changes fall on the first ten teams, as a few busy teams on a large server.
  const team =
    rand() < 0.5 ? TEAMS[Math.floor(rand() * 10)]! : TEAMS[Math.floor(rand() * TEAMS.length)]!;
  return {
    seq,
    table: SYNC_TABLES[Math.floor(rand() * SYNC_TABLES.length)]!,
    id: `r-${seq}`,
    teamId: team,
    version: 1,
    deleted: 0,
    at: seq,
    by: 'user',
    data: `{"n":${seq}}`,
    deviceId: 'device',
    mutationId: `m-${seq}`,
  };
});

interface Teams {
  clinical: string[];
  supervisedOnly: string[];
}

const inScope = (w: RecordWrite, t: Teams) =>
  t.clinical.includes(w.teamId) ||
  (t.supervisedOnly.includes(w.teamId) && REVIEW_SIDE.has(w.table));
const model = (t: Teams) => WRITES.filter((w) => inScope(w, t)).map((w) => w.seq);

const SCOPES: [string, Teams][] = [
  ['one clinical team', { clinical: [TEAMS[3]!], supervisedOnly: [] }],
  ['one supervised team', { clinical: [], supervisedOnly: [TEAMS[4]!] }],
  [
    'clinical and supervised teams, busy and quiet',
    { clinical: [TEAMS[0]!, TEAMS[500]!, TEAMS[12]!], supervisedOnly: [TEAMS[1]!, TEAMS[600]!] },
  ],
  [
    `more than ${MAX_TEAM_ARMS} teams`,
    { clinical: TEAMS.slice(0, 300), supervisedOnly: TEAMS.slice(400, 650) },
  ],
  ['no team', { clinical: [], supervisedOnly: [] }],
  ['teams with no changes', { clinical: ['team-none'], supervisedOnly: ['team-none-2'] }],
];

const dialects = TEST_DB === 'postgres' ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

/** A fresh database of `dialect` holding WRITES, for the tests of the block that calls this. */
function databaseWithWrites(dialect: 'sqlite' | 'postgres') {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await testDatabase({ dialect });
    await db.repos.sync.transaction(async (tx) => {
      for (const w of WRITES) await tx.writeRecord(w);
    });
  }, 120_000);
  afterAll(() => db.close());
  return () => db;
}

async function page(repo: SyncRepository, t: Teams, cursor: number, limit: number) {
  const rows: PageRow[] = [];
  await repo.scanChanges({ acked: 0, deviceId: 'other', cursor, limit, ...t }, (row) => {
    rows.push(row);
    return true;
  });
  return rows;
}

const CURSORS = [0, 1, 37, 999, 1_000, 1_999, 2_000, 5_000];

describe.each(dialects)('the caller’s changes, team by team (%s)', (dialect) => {
  const db = databaseWithWrites(dialect);
  const repository = () => db().repos.sync;

  it.each(SCOPES)('%s: pages in seq order, with nothing out of scope', async (_scope, t) => {
    const repo = repository();
    const expected = model(t);
    for (const cursor of CURSORS) {
      for (const limit of [1, 7, 600, 5_000]) {
        const rows = await page(repo, t, cursor, limit);
        expect(rows.map((r) => r.seq)).toEqual(
          expected.filter((seq) => seq > cursor).slice(0, limit),
        );
      }
    }
    // Every row as stored, data included.
    const all = await page(repo, t, 0, 5_000);
    for (const row of all) {
      const w = WRITES[row.seq - 1]!;
      expect(row).toMatchObject({ tableName: w.table, id: w.id, version: 1, data: w.data });
    }
  });

  it.each(SCOPES)('%s: counts, known cursors and the last change', async (_scope, t) => {
    const repo = repository();
    const expected = model(t);
    for (const at of CURSORS) {
      expect(await repo.countChanges(at, t.clinical, t.supervisedOnly)).toBe(
        expected.filter((seq) => seq > at).length,
      );
      expect(await repo.cursorKnown(at, t.clinical, t.supervisedOnly)).toBe(
        expected.some((seq) => seq >= at),
      );
      expect(await repo.lastChangeInScope(at, t.clinical, t.supervisedOnly)).toBe(
        Math.max(0, ...expected.filter((seq) => seq <= at)),
      );
    }
  });
});

describe('SQLite reads each team from records_team_seq', () => {
  const db = databaseWithWrites('sqlite');
  it(`pages by team for up to ${MAX_TEAM_ARMS} teams, and walks the sequence only beyond`, async () => {
    const repo = db().repos.sync;
    const byTeam = vi.spyOn(TeamChanges.prototype, 'page');
    try {
      for (const n of [1, MAX_TEAM_ARMS, MAX_TEAM_ARMS + 1]) {
        byTeam.mockClear();
        const t = { clinical: TEAMS.slice(0, n - 1), supervisedOnly: TEAMS.slice(n - 1, n) };
        const rows = await page(repo, t, 0, 50);
        expect(rows.map((r) => r.seq)).toEqual(model(t).slice(0, 50));
        expect(byTeam).toHaveBeenCalledTimes(n <= MAX_TEAM_ARMS ? 1 : 0);
      }
    } finally {
      byTeam.mockRestore();
    }
    // Each statement is prepared once per number of teams of each kind, then kept.
    const prepare = vi.spyOn(db().sqlite, 'prepare');
    try {
      const t = { clinical: [TEAMS[7]!, TEAMS[8]!], supervisedOnly: [TEAMS[9]!] };
      for (let i = 0; i < 3; i++) {
        await page(repo, t, i, 10);
        await repo.countChanges(i, t.clinical, t.supervisedOnly);
      }
      expect(prepare).toHaveBeenCalledTimes(2);
    } finally {
      prepare.mockRestore();
    }
  });

  const plan = (sql: string, params: Record<string, unknown>) =>
    (db().sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map(
      (r) => r.detail,
    );
  const teams = { clinical: ['a', 'b'], supervisedOnly: ['c'] };
  const params = { c0: 'a', c1: 'b', s0: 'c' };

  it('a page: an ordered search of the index per team, merged, no walk and no sort', () => {
    const steps = plan(TEAM_CHANGES_SQL.page(teams), {
      ...params,
      acked: 0,
      deviceId: 'd',
      cursor: 0,
      limit: 10,
    });
    expect(steps.filter((s) => s.includes('USING COVERING INDEX records_team_seq'))).toHaveLength(
      3,
    );
    expect(steps.join('\n')).toContain('MERGE (UNION ALL)');
    expect(steps.join('\n')).not.toMatch(/SCAN records|TEMP B-TREE/);
  });

  it('the count, a known cursor and the last change: the index alone', () => {
    for (const [sql, extra] of [
      [TEAM_CHANGES_SQL.count(teams), { after: 0 }],
      [TEAM_CHANGES_SQL.known(teams), { cursor: 0 }],
      [TEAM_CHANGES_SQL.last(teams), { atOrBelow: 10 }],
    ] as const) {
      const steps = plan(sql, { ...params, ...extra });
      expect(steps.filter((s) => s.includes('USING COVERING INDEX records_team_seq'))).toHaveLength(
        3,
      );
      expect(steps.join('\n')).not.toMatch(/SCAN records/);
    }
  });
});
