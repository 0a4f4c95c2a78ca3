import Database from 'better-sqlite3';
import pg from 'pg';
import path from 'node:path';
import { DB_FILE_NAME } from '../src/db/connection';
import type { MutationResult, PullResponse } from '../src/protocol';
import { seededRandom } from './random';

/**
 * Simulated tablets for the soak and multi-instance runs: clinicians of one team edit shared
 * patients at random and push and pull over real HTTP, as the web app does (one outbox row per
 * record, a push retried with the same mutation ids when it was not answered, a pull that never
 * overwrites a pending edit). verifyAgainst() then checks the server's database: every
 * acknowledged edit stored exactly once, and every device holding exactly the server's records.
 */

const PASSWORD = 'a long fleet test password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Rec = Record<string, unknown> & { id: string };
interface Pending {
  mutationId: string;
  id: string;
  baseVersion: number;
  data: Rec;
}
export interface Device {
  id: string;
  token: string;
  records: Map<string, { version: number; data: Rec }>;
  outbox: Map<string, Pending>;
  cursor: number;
}
interface Ack {
  deviceId: string;
  mutationId: string;
  result: MutationResult;
}

export interface FleetOptions {
  /** Where the devices send their requests: one instance, or a proxy in front of several. */
  origin: string;
  users: number;
  tabletsPerUser: number;
  seed: number;
}

export class Fleet {
  readonly devices: Device[] = [];
  readonly acks: Ack[] = [];
  /** Milliseconds of each answered push. */
  readonly pushLatencies: number[] = [];
  /** Requests that got no answer (cut connection, 502): each was retried. */
  unanswered = 0;
  private teamId = '';
  private counter = 0;
  private readonly rand: () => number;

  private constructor(private readonly options: FleetOptions) {
    this.rand = seededRandom(options.seed);
  }

  /** Signs up an admin, a team and its clinicians, each with tabletsPerUser devices. */
  static async create(options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(options);
    await fleet.setUp();
    return fleet;
  }

  private uid(prefix: string): string {
    return `${prefix}-${this.options.seed}-${(this.counter++).toString(36)}`;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private async call(token: string | null, method: string, url: string, body?: unknown) {
    const res = await fetch(`${this.options.origin}${url}`, {
      signal: AbortSignal.timeout(60_000),
      method,
      headers: {
        origin: this.options.origin,
        'content-type': 'application/json',
        ...(token ? { cookie: `fdx_session=${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 500) throw new Unanswered(`${method} ${url}: ${res.status}`);
    return res;
  }

  private async setUp() {
    const tokenOf = (res: Response) =>
      /fdx_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
    const signup = await this.call(null, 'POST', '/api/auth/signup', {
      email: `admin-${this.options.seed}@fleet.example`,
      password: PASSWORD,
      name: 'Admin',
    });
    if (signup.status !== 201) throw new Error(`admin sign-up: ${signup.status}`);
    const admin = tokenOf(signup);
    const team = await this.call(admin, 'POST', '/api/admin/teams', { name: 'Fleet' });
    this.teamId = ((await team.json()) as { id: string }).id;
    for (let u = 0; u < this.options.users; u++) {
      const invitation = await this.call(admin, 'POST', '/api/admin/invitations', {
        teamId: this.teamId,
        role: 'clinician',
      });
      const { code } = (await invitation.json()) as { code: string };
      const res = await this.call(null, 'POST', '/api/auth/signup', {
        email: `clinician${u}-${this.options.seed}@fleet.example`,
        password: PASSWORD,
        name: `Clinician ${u}`,
        invitationCode: code,
      });
      if (res.status !== 201) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
      const token = tokenOf(res);
      for (let t = 0; t < this.options.tabletsPerUser; t++) {
        this.devices.push({
          id: this.uid('tablet'),
          token,
          records: new Map(),
          outbox: new Map(),
          cursor: 0,
        });
      }
    }
  }

  /** A new patient in the device's outbox. */
  newPatient(d: Device) {
    const id = this.uid('p');
    const data: Rec = {
      id,
      teamId: this.teamId,
      version: 0,
      deleted: false,
      givenName: 'Fleet',
      village: 'v0',
    };
    d.records.set(id, { version: 0, data });
    d.outbox.set(id, { mutationId: this.uid('m'), id, baseVersion: 0, data });
  }

  /** One edit: a new patient, or a change to one the device holds. */
  edit(d: Device) {
    const known = [...d.records.keys()];
    if (known.length < 20 || this.rand() < 0.15) return this.newPatient(d);
    const id = this.pick(known);
    const local = d.records.get(id)!;
    const data = { ...local.data, [this.pick(['village', 'phone', 'notes'])]: this.uid('x') };
    local.data = data;
    const pending = d.outbox.get(id);
    // One outbox row per record, as on a tablet: a new edit replaces the row not yet sent.
    d.outbox.set(id, {
      mutationId: this.uid('m'),
      id,
      baseVersion: pending?.baseVersion ?? local.version,
      data,
    });
  }

  /** Pushes the outbox; false when the server did not answer (it is retried with the same ids). */
  async push(d: Device): Promise<boolean> {
    const sent = [...d.outbox.values()];
    if (sent.length === 0) return true;
    const mutations = sent.map((p) => ({
      mutationId: p.mutationId,
      table: 'patients',
      id: p.id,
      baseVersion: p.baseVersion,
      op: 'put',
      data: p.data,
    }));
    const t0 = performance.now();
    let results: MutationResult[];
    try {
      const res = await this.call(d.token, 'POST', '/api/sync/push', { deviceId: d.id, mutations });
      if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
      results = ((await res.json()) as { results: MutationResult[] }).results;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('push:')) throw err;
      this.unanswered++;
      return false;
    }
    this.pushLatencies.push(performance.now() - t0);
    results.forEach((result, i) => {
      const p = sent[i]!;
      this.acks.push({ deviceId: d.id, mutationId: p.mutationId, result });
      if (result.status === 'rejected') throw new Error(`rejected: ${JSON.stringify(result)}`);
      if (d.outbox.get(p.id)?.mutationId === p.mutationId) d.outbox.delete(p.id);
      // Applied as sent: the record learns its version from the next pull, as in the app.
      if (result.status === 'applied') return;
      const local = d.records.get(p.id);
      if (!local || local.version < result.version) {
        d.records.set(p.id, { version: result.version, data: result.record as Rec });
      }
    });
    return true;
  }

  /** Pulls to the end; false when the server did not answer. */
  async pull(d: Device): Promise<boolean> {
    for (;;) {
      let page: PullResponse;
      try {
        const res = await fetch(
          `${this.options.origin}/api/sync/pull?cursor=${d.cursor}&limit=200`,
          {
            signal: AbortSignal.timeout(60_000),
            headers: { cookie: `fdx_session=${d.token}`, 'x-device-id': d.id },
          },
        );
        if (res.status >= 500) throw new Unanswered(`pull: ${res.status}`);
        if (res.status !== 200) throw new Error(`pull: ${res.status} ${await res.text()}`);
        page = (await res.json()) as PullResponse;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('pull:') && !(err instanceof Unanswered))
          throw err;
        this.unanswered++;
        return false;
      }
      if (page.reset) {
        d.cursor = 0;
        continue;
      }
      for (const c of page.changes) {
        const local = d.records.get(c.id);
        if (d.outbox.has(c.id) || (local && local.version >= c.version)) continue;
        d.records.set(c.id, { version: c.version, data: c.record as Rec });
      }
      d.cursor = page.cursor;
      if (!page.hasMore) return true;
    }
  }

  /** Edits, pushes and pulls until `until` (ms since the epoch), backing off after a failure. */
  async runDevice(d: Device, until: number, pauseMs = 200) {
    while (Date.now() < until) {
      const edits = 1 + Math.floor(this.rand() * 3);
      for (let i = 0; i < edits; i++) this.edit(d);
      if (!(await this.push(d)) || !(await this.pull(d))) {
        await sleep(100 + this.rand() * 200);
        continue;
      }
      await sleep(this.rand() * pauseMs);
    }
  }

  /** The last sync with the servers left alone: every outbox drains, every device pulls to the end. */
  async drain() {
    for (let round = 0; round < 3; round++) {
      for (const d of this.devices) while (!(await this.push(d))) await sleep(200);
      for (const d of this.devices) while (!(await this.pull(d))) await sleep(200);
    }
  }

  /**
   * What is wrong, read from the SQLite database of `dataDir` once the servers stopped: an
   * acknowledged edit not stored exactly once, a device that does not hold the server's records.
   */
  /** verify() on the SQLite database of a data folder (opened read-only), with its integrity check. */
  async verifyAgainst(
    dataDir: string,
  ): Promise<{ problems: string[]; records: number; integrity: string }> {
    const db = new Database(path.join(dataDir, DB_FILE_NAME), { readonly: true });
    try {
      const integrity = String(db.pragma('integrity_check', { simple: true }));
      const result = await this.verify((sql) => Promise.resolve(db.prepare(sql).all() as never));
      if (integrity !== 'ok') result.problems.push(`integrity_check: ${integrity}`);
      return { ...result, integrity };
    } finally {
      db.close();
    }
  }

  /** verify() on a PostgreSQL database (the URL the instances were given). */
  async verifyAgainstPostgres(url: string): Promise<{ problems: string[]; records: number }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await this.verify(async (sql) => (await client.query(sql)).rows as never);
    } finally {
      await client.end();
    }
  }

  /**
   * Every acknowledged edit stored exactly once, no seq twice, and every device holding exactly the
   * server's records, read through `rows` (SQL that both dialects understand).
   */
  async verify(
    rows: <R>(sql: string) => Promise<R[]>,
  ): Promise<{ problems: string[]; records: number }> {
    // Counted once per (device, mutation): a query per edit would scan history each time.
    const countsOf = async (sql: string) =>
      new Map((await rows<{ k: string; n: number | string }>(sql)).map((r) => [r.k, Number(r.n)]));
    const storedResults = await countsOf(
      `SELECT device_id || ' ' || mutation_id AS k, count(*) AS n FROM applied_mutations GROUP BY device_id, mutation_id`,
    );
    const historyVersions = await countsOf(
      `SELECT device_id || ' ' || mutation_id AS k, count(*) AS n FROM record_history GROUP BY device_id, mutation_id`,
    );
    const problems: string[] = [];
    for (const a of this.acks) {
      const key = `${a.deviceId} ${a.mutationId}`;
      if (storedResults.get(key) !== 1) {
        problems.push(`acknowledged ${a.mutationId} has no stored result`);
      }
      const versions = historyVersions.get(key) ?? 0;
      if (a.result.status === 'applied' ? versions !== 1 : versions > 1) {
        problems.push(
          `acknowledged ${a.mutationId} (${a.result.status}) is in history ${versions}×`,
        );
      }
    }
    const [seqs] = await rows<{ n: number | string; distinct: number | string }>(
      'SELECT count(*) AS n, count(DISTINCT seq) AS "distinct" FROM records',
    );
    const duplicates = Number(seqs!.n) - Number(seqs!.distinct);
    if (duplicates !== 0) problems.push(`${duplicates} duplicate seq`);
    const server = new Map(
      (
        await rows<{ id: string; version: number; data: string }>(
          'SELECT id, version, data FROM records',
        )
      ).map((r) => [r.id, r]),
    );
    for (const d of this.devices) {
      if (d.outbox.size > 0) problems.push(`${d.id} still has ${d.outbox.size} edits waiting`);
      if (d.records.size !== server.size) {
        problems.push(`${d.id} holds ${d.records.size} records, the server ${server.size}`);
      }
      for (const [id, local] of d.records) {
        const s = server.get(id);
        if (!s || Number(s.version) !== local.version || s.data !== JSON.stringify(local.data)) {
          problems.push(`${d.id} differs on ${id}`);
          break;
        }
      }
    }
    return { problems, records: server.size };
  }
}

/** A request the server did not answer (5xx from the proxy, cut connection). */
class Unanswered extends Error {}

/** The p-th quantile (0–1) of `values`, rounded to 0.1. */
export function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor((sorted.length - 1) * p)]! * 10) / 10;
}
