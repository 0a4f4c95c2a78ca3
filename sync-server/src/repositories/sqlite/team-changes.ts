import type Database from 'better-sqlite3';
import type { PageRow } from '../sync.repository';

/*
 * The caller's changes read team by team from the records_team_seq index (schema.ts), so that what
 * a pull, its count and a push's cursor advance cost follows the caller's teams' changes, not the
 * whole server's. Each team is one arm of a UNION ALL: every change of a team where the caller is
 * a clinician, the review-side tables only of a team they only supervise. SQLite merges the arms
 * in seq order (MERGE (UNION ALL), each arm an ordered search of the index), so a page reads no
 * more of each team than it returns. The statement depends on the number of teams of each kind:
 * built on first use of each pair and kept.
 */

/** A compound SELECT may have 500 arms (SQLITE_MAX_COMPOUND_SELECT): at most this many teams at once. */
export const MAX_TEAM_ARMS = 400;

const REVIEW_TABLES = `('reviews', 'comments', 'followups')`;

export interface Teams {
  clinical: readonly string[];
  supervisedOnly: readonly string[];
}

/** `@c0`…, `@s0`… bound to the team ids. */
function teamParams({ clinical, supervisedOnly }: Teams): Record<string, string> {
  const params: Record<string, string> = {};
  clinical.forEach((team, i) => (params[`c${i}`] = team));
  supervisedOnly.forEach((team, i) => (params[`s${i}`] = team));
  return params;
}

/**
 * The arms joined by UNION ALL, one per team, made by `arm(teamParameter, reviewSideFilter)`: the
 * filter is empty for a clinician's team.
 */
function arms(
  { clinical, supervisedOnly }: Teams,
  arm: (team: string, reviewSideFilter: string) => string,
): string {
  return [
    ...clinical.map((_, i) => arm(`@c${i}`, '')),
    ...supervisedOnly.map((_, i) => arm(`@s${i}`, ` AND table_name IN ${REVIEW_TABLES}`)),
  ].join(' UNION ALL ');
}

export const TEAM_CHANGES_SQL = {
  /** As the walk's pullPage (sync.repository.ts): the device's own acknowledged write comes without data. */
  page: (t: Teams) =>
    `SELECT r.table_name AS tableName, r.id, r.version, r.seq, r.deleted,
       CASE WHEN r.seq <= @acked AND EXISTS (
         SELECT 1 FROM record_history h
         JOIN applied_mutations a ON a.device_id = h.device_id AND a.mutation_id = h.mutation_id
         WHERE h.seq = r.seq AND h.device_id = @deviceId
           AND json_extract(a.result, '$.seq') = r.seq
       ) THEN NULL ELSE r.data END AS data
     FROM (${arms(t, (team, only) => `SELECT seq FROM records WHERE team_id = ${team} AND seq > @cursor${only}`)}
           ORDER BY seq LIMIT @limit) AS page
     JOIN records r ON r.seq = page.seq
     ORDER BY page.seq`,
  count: (t: Teams) =>
    `SELECT count(*) FROM (${arms(t, (team, only) => `SELECT seq FROM records WHERE team_id = ${team} AND seq > @after${only}`)})`,
  known: (t: Teams) =>
    `SELECT EXISTS (${arms(t, (team, only) => `SELECT seq FROM records WHERE team_id = ${team} AND seq >= @cursor${only}`)})`,
  // Each arm reads its team's index backwards and stops at the first row.
  last: (t: Teams) =>
    `SELECT coalesce(max(seq), 0) FROM (${arms(
      t,
      (team, only) =>
        `SELECT * FROM (SELECT seq FROM records WHERE team_id = ${team} AND seq <= @atOrBelow${only}
                        ORDER BY seq DESC LIMIT 1)`,
    )})`,
};

type Kind = keyof typeof TEAM_CHANGES_SQL;

/** At most MAX_TEAM_ARMS teams at a time, clinical ones first. */
function chunks({ clinical, supervisedOnly }: Teams): Teams[] {
  const all = [
    ...clinical.map((team) => ({ team, clinical: true })),
    ...supervisedOnly.map((team) => ({ team, clinical: false })),
  ];
  const out: Teams[] = [];
  for (let i = 0; i < all.length; i += MAX_TEAM_ARMS) {
    const part = all.slice(i, i + MAX_TEAM_ARMS);
    out.push({
      clinical: part.filter((p) => p.clinical).map((p) => p.team),
      supervisedOnly: part.filter((p) => !p.clinical).map((p) => p.team),
    });
  }
  return out;
}

/** The statements of one connection. */
export class TeamChanges {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly c: Database.Database) {}

  /**
   * Whether `page` can read these teams in one statement; a caller in more teams than that walks
   * the sequence instead (their teams are then much of the server anyway).
   */
  static fitOnePage(t: Teams): boolean {
    const n = t.clinical.length + t.supervisedOnly.length;
    return n > 0 && n <= MAX_TEAM_ARMS;
  }

  private statement(kind: Kind, t: Teams): Database.Statement {
    const key = `${kind}:${t.clinical.length}:${t.supervisedOnly.length}`;
    let statement = this.statements.get(key);
    if (!statement) {
      statement = this.c.prepare(TEAM_CHANGES_SQL[kind](t));
      if (kind !== 'page') statement.pluck();
      this.statements.set(key, statement);
    }
    return statement;
  }

  /** The changes after `cursor` in seq order, at most `limit`, one at a time (see fitOnePage). */
  page(t: Teams, q: { acked: number; deviceId: string; cursor: number; limit: number }) {
    return this.statement('page', t).iterate({
      ...teamParams(t),
      ...q,
    }) as IterableIterator<PageRow>;
  }

  /** How many changes lie after `after`. */
  count(t: Teams, after: number): number {
    let n = 0;
    for (const part of chunks(t)) {
      n += this.statement('count', part).get({ ...teamParams(part), after }) as number;
    }
    return n;
  }

  /** Whether any change lies at or after `cursor`. */
  known(t: Teams, cursor: number): boolean {
    return chunks(t).some(
      (part) => this.statement('known', part).get({ ...teamParams(part), cursor }) === 1,
    );
  }

  /** The last change at or below `atOrBelow` (0 when none). */
  last(t: Teams, atOrBelow: number): number {
    let last = 0;
    for (const part of chunks(t)) {
      last = Math.max(
        last,
        this.statement('last', part).get({ ...teamParams(part), atOrBelow }) as number,
      );
    }
    return last;
  }
}
