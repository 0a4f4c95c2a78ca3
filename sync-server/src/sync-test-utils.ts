// Helpers for the sync suites (not imported by the server).
import path from 'node:path';
import type pg from 'pg';
import { DB_FILE_NAME } from './db/connection';
import { openPostgres } from './db/postgres';
import { startCluster } from '../test/cluster';
import { startProxy } from '../test/proxy';
import type { Logger } from './logger';
import { postgresSyncRepository } from './repositories/postgres/sync.repository';
import type { SyncRepository } from './repositories/sync.repository';
import {
  newPostgresDatabase,
  ORIGIN,
  makeTestApp,
  tempDir,
  TEST_DB,
  TestClient,
  withAdmin,
  type TestApp,
} from './test-utils';
import {
  PullResponse,
  PushResponse,
  type Mutation,
  type MutationResult,
  type SyncTable,
} from './protocol';

let counter = 0;
/** Unique, sortable ids for records and mutations in tests. */
export function uid(prefix = 'id'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** The common fields of a record never synced (DESIGN 2), as a device makes them. */
function meta(teamId: string, id: string, updatedBy = 'x') {
  return {
    id,
    teamId,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy,
    deleted: false,
  };
}

/** A patient record as the device's records.ts makes it. */
export function patient(teamId: string, fields: Record<string, unknown> = {}, id = uid('p')) {
  return {
    ...meta(teamId, id, 'device-claimed-user'),
    givenName: 'Amina',
    familyName: 'Okafor',
    sex: 'female',
    birthDate: '1990-04-01',
    birthDateEstimated: false,
    village: 'Kibera',
    phone: '',
    identifiers: [] as { kind: string; value: string }[],
    ...fields,
  };
}

export function report(teamId: string, patientId: string, fields: Record<string, unknown> = {}) {
  return {
    ...meta(teamId, uid('r')),
    patientId,
    encounterId: null,
    diagnosisIds: [],
    summary: 'Cough for 3 weeks',
    plan: 'Refer',
    status: 'shared',
    authorName: 'Alice',
    sharedAt: '2026-01-15T10:00:00.000Z',
    ...fields,
  };
}

export function review(teamId: string, reportId: string, fields: Record<string, unknown> = {}) {
  return {
    ...meta(teamId, uid('v')),
    reportId,
    revision: 1,
    decision: 'approved',
    comment: 'Agree',
    verdicts: [] as { diagnosisId: string; verdict: string; referenceOutcome?: string | null }[],
    createdAt: '2026-01-15T10:00:00.000Z',
    ...fields,
  };
}

export function diagnosis(teamId: string, patientId: string, fields: Record<string, unknown> = {}) {
  return {
    ...meta(teamId, uid('d')),
    patientId,
    encounterId: null,
    modelId: 'pima-diabetes',
    modelVersion: '1.0.0',
    modelName: 'Diabetes',
    inputs: { kind: 'tabular', values: { glucose: 140 } },
    outputs: { negative: 0.3, positive: 0.7 },
    positiveLabel: 'positive',
    threshold: 0.5,
    explanation: null,
    modelNotice: { intendedUse: 'x', limitations: 'y' },
    assessment: null,
    ...fields,
  };
}

export function mutation(
  table: SyncTable,
  data: Record<string, unknown>,
  baseVersion = 0,
  op: 'put' | 'delete' = 'put',
  extra: Partial<Mutation> = {},
): Mutation {
  return { mutationId: uid('m'), table, id: String(data.id), baseVersion, op, data, ...extra };
}

/** A signed-in user with a device id. */
export class SyncClient {
  constructor(
    readonly client: TestClient,
    readonly userId: string,
    readonly deviceId: string = uid('dev'),
  ) {}

  async pushRaw(mutations: unknown[], deviceId = this.deviceId) {
    return this.client.post('/api/sync/push', { deviceId, mutations });
  }
  async push(mutations: unknown[]): Promise<MutationResult[]> {
    const res = await this.pushRaw(mutations);
    if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
    return PushResponse.parse(await res.json()).results;
  }
  async pushOne(m: unknown): Promise<MutationResult> {
    return (await this.push([m]))[0]!;
  }
  pullRaw(
    cursor?: number | string,
    limit?: number | string,
    deviceId = this.deviceId,
    acked?: number | string,
  ) {
    const q = new URLSearchParams();
    if (cursor !== undefined) q.set('cursor', String(cursor));
    if (limit !== undefined) q.set('limit', String(limit));
    if (acked !== undefined) q.set('acked', String(acked));
    return this.client.get(`/api/sync/pull?${q}`, { 'x-device-id': deviceId });
  }
  async pull(cursor = 0, limit?: number, acked?: number): Promise<PullResponse> {
    const res = await this.pullRaw(cursor, limit, this.deviceId, acked);
    if (res.status !== 200) throw new Error(`pull: ${res.status} ${await res.text()}`);
    return PullResponse.parse(await res.json());
  }
  /** Every change from cursor 0 to the end, page by page. */
  async pullAll(limit?: number): Promise<PullResponse['changes']> {
    const all: PullResponse['changes'] = [];
    let cursor = 0;
    for (;;) {
      const page = await this.pull(cursor, limit);
      all.push(...page.changes);
      cursor = page.cursor;
      if (!page.hasMore) return all;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL for the sync suites: see test-utils.ts (TEST_DB).

/** Which database the suites run on (test-utils.ts TEST_DB). */
export const SYNC_DB = TEST_DB;

/** The tables push and pull write on PostgreSQL (audit_log is append-only and stays). */
export const SYNC_TABLES = [
  'records',
  'record_history',
  'applied_mutations',
  'conflicts',
  'devices',
  'review_reports',
  'review_counts',
  'review_diagnoses',
  'review_events',
  'review_verdicts',
  'clinician_activity',
  'model_runs',
  'model_weekly',
  'verdict_latest',
  'review_refs',
];

export interface PgSyncStore {
  pool: pg.Pool;
  repo: SyncRepository;
  /** Empties the sync tables (a fresh world without a new database). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A new, migrated PostgreSQL database on the process's test server. */
export async function pgSyncStore(max = 8): Promise<PgSyncStore> {
  const opened = await openPostgres(await newPostgresDatabase(), { max });
  return {
    pool: opened.pool,
    repo: postgresSyncRepository(opened.pool),
    reset: async () => {
      await opened.pool.query(`TRUNCATE ${SYNC_TABLES.join(', ')}`);
    },
    close: () => opened.close(),
  };
}

/** Rows of a query on the database holding the sync tables, `?` placeholders on both. */
export type SyncRows = (sql: string, ...params: unknown[]) => Promise<Record<string, unknown>[]>;

export function rowsOn(sqlite: {
  prepare(sql: string): { all(...p: unknown[]): unknown[] };
}): SyncRows {
  return (sql, ...params) => Promise.resolve(sqlite.prepare(sql).all(...params) as never);
}

export function rowsOnPg(pool: pg.Pool): SyncRows {
  return async (sql, ...params) => {
    let n = 0;
    const res = await pool.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
    return res.rows as Record<string, unknown>[];
  };
}

/**
 * An app with: team A (clinicians alice and bob, supervisor sam), team B (clinician carol), and
 * an admin with no clinical role. Blobs go to a temporary DATA_DIR.
 */
export async function syncWorld(
  options: {
    file?: string;
    logger?: Logger;
    dbInDataDir?: boolean;
    blobStore?: NonNullable<Parameters<typeof makeTestApp>[0]>['blobStore'];
  } = {},
) {
  const data = tempDir('fdx-sync-');
  const t = await makeTestApp({
    env: { DATA_DIR: data.dir },
    // dbInDataDir: the database file in DATA_DIR, as the server keeps it (for backups).
    file: options.dbInDataDir ? path.join(data.dir, DB_FILE_NAME) : options.file,
    logger: options.logger,
    blobStore: options.blobStore,
  });
  const people = await populate(t.app);
  return {
    ...t,
    ...people,
    dataDir: data.dir,
    /** Rows of the database that holds the sync tables (SQLite or PostgreSQL, by SYNC_DB). */
    rows: t.pool ? rowsOnPg(t.pool) : rowsOn(t.sqlite),
    /** Push and pull's repository, as the app uses it. */
    sync: t.repos.sync,
    async cleanup() {
      await t.close();
      data.remove();
    },
  };
}

/**
 * The people of syncWorld, signed up through `app`: team A (clinicians alice and bob, supervisor
 * sam), team B (clinician carol), and the admin.
 */
async function populate(app: TestApp) {
  const a = await withAdmin(app);
  const teamA = await a.createTeam('Team A');
  const teamB = await a.createTeam('Team B');
  const mk = async (email: string, role: string, team: string) => {
    const m = await a.member(email, role, team);
    return new SyncClient(m.client, m.id);
  };
  const alice = await mk('alice@example.org', 'clinician', teamA);
  const bob = await mk('bob@example.org', 'clinician', teamA);
  const sam = await mk('sam@example.org', 'supervisor', teamA);
  const carol = await mk('carol@example.org', 'clinician', teamB);
  const admin = new SyncClient(a.admin, a.adminId);
  return { ...a, teamA, teamB, alice, bob, sam, carol, adminSync: admin };
}

/**
 * The people of syncWorld on `instanceCount` real server processes sharing one new PostgreSQL
 * database behind the loopback proxy (test/cluster.ts, test/proxy.ts). `app.request` goes through
 * the proxy, so TestClient and SyncClient work unchanged; `pool` reads the database.
 */
export async function clusterSyncWorld(instanceCount: number) {
  const data = tempDir('fdx-cluster-');
  const url = await newPostgresDatabase();
  const upstreams: string[] = [];
  const proxy = await startProxy(upstreams);
  const instances = await startCluster(instanceCount, {
    dataDir: data.dir,
    publicOrigin: ORIGIN,
    env: { DATABASE_URL: url },
  });
  upstreams.push(...instances.map((s) => s.origin));
  const app = {
    request: (input: string, init?: RequestInit) => fetch(`${proxy.origin}${input}`, init),
  } as unknown as TestApp;
  const opened = await openPostgres(url, { max: 2 });
  const people = await populate(app);
  return {
    app,
    ...people,
    pool: opened.pool,
    rows: rowsOnPg(opened.pool),
    proxy,
    instances,
    async cleanup() {
      await Promise.all(instances.map((s) => s.stop('SIGKILL')));
      await proxy.close();
      await opened.close();
      data.remove();
    },
  };
}

/** Raw request helper for blobs (the TestClient JSON-encodes bodies). */
export function blobRequest(
  app: TestApp,
  client: TestClient,
  method: 'PUT' | 'GET',
  url: string,
  body?: Uint8Array,
  headers: Record<string, string> = {},
) {
  const h: Record<string, string> = { ...headers };
  if (method === 'PUT') h.origin = ORIGIN;
  if (client.token) h.cookie = `fdx_session=${client.token}`;
  return app.request(url, { method, headers: h, body: body as BodyInit | undefined });
}
