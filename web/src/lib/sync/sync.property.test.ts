/**
 * Property test of the real web sync code (engine, apply, rebase, the db modules that write
 * records and outbox rows) against the real server in process: four tablets of three clinicians
 * of one team edit patients, visits, diagnoses and reports offline, at random, sync at random
 * (sometimes while the user types during a push or a download), and then sync until quiet.
 *
 * - Convergence: every tablet then holds exactly the server's records, at the server's versions.
 * - No lost edit: the last value a user typed in each field of each record on each tablet reached
 *   the server (it is in the record's history) or stands in a conflict the server recorded.
 *
 * fast-check prints the seed and the shrunk action list of a failure; replay with
 * `WEB_SYNC_PROPERTY_SEED=<seed>`; `WEB_SYNC_PROPERTY_RUNS` sets the number of worlds.
 */
import fc from 'fast-check';
import { SYNC_TABLES } from 'sync-server/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { FieldDxDatabase } from '$lib/db/database';
import { saveDiagnosis, setAssessment } from '$lib/db/diagnoses';
import { saveEncounter, startEncounter } from '$lib/db/encounters';
import { createPatient, deletePatient, restorePatient, updatePatient } from '$lib/db/patients';
import { syncedFields } from '$lib/db/records';
import { createReport, updateReport } from '$lib/db/reports';
import { asKnown, freshDatabase, patientFields } from '$lib/db/test-db';
import type { Author, PatientFields, SyncedTable } from '$lib/domain/records';
import { syncOnce, type SyncSummary } from './engine';
import { teamOnServer, type TestServer } from './test-server';
import type { SyncTransport } from './transport';

const RUNS = Number(process.env.WEB_SYNC_PROPERTY_RUNS ?? 20);
const SEED = process.env.WEB_SYNC_PROPERTY_SEED
  ? Number(process.env.WEB_SYNC_PROPERTY_SEED)
  : undefined;

const TABLETS = 4;
/** Tablet i belongs to clinician USER_OF[i]: the first clinician has two tablets. */
const USER_OF = [0, 1, 2, 0];

/** The fields a user edits, per table (each edit writes a value never used before). */
const EDITABLE: Record<'patients' | 'encounters' | 'diagnoses' | 'reports', string[]> = {
  patients: ['village', 'phone', 'familyName'],
  encounters: ['complaint', 'notes'],
  diagnoses: ['assessment'],
  reports: ['summary', 'plan'],
};
type EditableTable = keyof typeof EDITABLE;

type Action =
  | { kind: 'edit'; tablet: number; record: number; field: number }
  | { kind: 'delete'; tablet: number; record: number; deleted: boolean }
  | { kind: 'visit'; tablet: number; record: number }
  | { kind: 'sync'; tablet: number }
  /** A sync during which the user edits a record waiting in the outbox, while its push is out. */
  | { kind: 'syncTypingInPush'; tablet: number; record: number; field: number }
  /** A sync during which the user edits a record while the download runs. */
  | { kind: 'syncTypingInPull'; tablet: number; record: number; field: number };

const tablet = fc.integer({ min: 0, max: TABLETS - 1 });
const index = fc.nat({ max: 1_000 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      tablet,
      record: index,
      field: index,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      tablet,
      record: index,
      deleted: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('visit' as const), tablet, record: index }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), tablet }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('syncTypingInPush' as const),
      tablet,
      record: index,
      field: index,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('syncTypingInPull' as const),
      tablet,
      record: index,
      field: index,
    }),
  },
);

/** What the runs exercised, summed: guards the property against going vacuous. */
const coverage: Record<string, number> = {};
const count = (k: string, n = 1) => (coverage[k] = (coverage[k] ?? 0) + n);

interface RecordRef {
  table: EditableTable;
  id: string;
}

const PATIENT_KEYS: (keyof PatientFields)[] = [
  'givenName',
  'familyName',
  'sex',
  'birthDate',
  'birthDateEstimated',
  'village',
  'phone',
  'identifiers',
];

class World {
  readonly tablets: FieldDxDatabase[] = [];
  readonly records: RecordRef[] = [];
  /** Per tablet: the last value the user typed, by `table/id/field`. */
  readonly typed: Map<string, unknown>[] = [];
  private counter = 0;

  constructor(
    readonly server: TestServer,
    readonly authors: (Author & { name: string })[],
    readonly transports: SyncTransport[],
  ) {
    for (let i = 0; i < TABLETS; i++) {
      this.tablets.push(freshDatabase());
      this.typed.push(new Map());
    }
  }

  author(t: number) {
    return this.authors[USER_OF[t]!]!;
  }

  /** The user of tablet `t` sets one field of a record it holds to a new value (real db modules). */
  async edit(t: number, ref: RecordRef, field: string): Promise<boolean> {
    const db = this.tablets[t]!;
    const author = this.author(t);
    const current = (await db.table(ref.table).get(ref.id)) as Record<string, unknown> | undefined;
    if (!current) return false;
    const value =
      field === 'assessment'
        ? {
            verdict: 'agree',
            note: `note-${++this.counter}`,
            at: '2026-01-15T10:00:00.000Z',
            by: author.userId,
          }
        : `${field}-${++this.counter}`;
    switch (ref.table) {
      case 'patients': {
        const fields = Object.fromEntries(PATIENT_KEYS.map((k) => [k, current[k]]));
        await updatePatient(
          db,
          ref.id,
          { ...fields, [field]: value } as unknown as PatientFields,
          author,
        );
        break;
      }
      case 'encounters': {
        const { date, complaint, vitals, symptoms, notes } = current as never;
        const fields = { date, complaint, vitals, symptoms, notes, [field]: value };
        await saveEncounter(db, ref.id, fields as never, author);
        break;
      }
      case 'diagnoses':
        await setAssessment(db, ref.id, value as never, author);
        break;
      case 'reports': {
        const { encounterId, diagnosisIds, summary, plan } = current as never;
        const draft = { encounterId, diagnosisIds, summary, plan, [field]: value };
        await updateReport(db, ref.id, draft as never, author);
        break;
      }
    }
    this.typed[t]!.set(`${ref.table}/${ref.id}/${field}`, value);
    count(`edit ${ref.table}`);
    return true;
  }

  async editAt(t: number, record: number, field: number) {
    const ref = this.records[record % this.records.length]!;
    const fields = EDITABLE[ref.table];
    return this.edit(t, ref, fields[field % fields.length]!);
  }

  /** A patient and a visit, a diagnosis and a draft report of it, made on tablet `t`. */
  async newPatient(t: number) {
    const db = this.tablets[t]!;
    const author = this.author(t);
    const patient = await createPatient(db, patientFields(), author);
    const encounter = await startEncounter(db, patient.id, author);
    const diagnosis = await saveDiagnosis(
      db,
      {
        patientId: patient.id,
        encounterId: encounter.id,
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
      },
      author,
    );
    const report = await createReport(
      db,
      patient.id,
      { encounterId: encounter.id, diagnosisIds: [diagnosis.id], summary: '', plan: '' },
      author,
    );
    this.records.push(
      { table: 'patients', id: patient.id },
      { table: 'encounters', id: encounter.id },
      { table: 'diagnoses', id: diagnosis.id },
      { table: 'reports', id: report.id },
    );
  }

  async sync(t: number, transport = this.transports[USER_OF[t]!]!): Promise<SyncSummary> {
    const summary = await syncOnce(this.tablets[t]!, transport);
    expect(summary.rejected).toEqual([]);
    count('merged', summary.merged);
    count('conflicts', summary.conflicts);
    return summary;
  }

  /** A sync during which `typing` runs once: after the server answered a push, before the answer is recorded. */
  async syncTypingInPush(t: number, typing: () => Promise<unknown>) {
    const real = this.transports[USER_OF[t]!]!;
    let typed = false;
    const summary = await this.sync(t, {
      ...real,
      async push(request) {
        const answer = await real.push(request);
        if (!typed) {
          typed = true;
          await typing();
        }
        return answer;
      },
    });
    if (typed && summary.merged + summary.conflicts > 0) count('typed during a merged push');
  }

  /**
   * A sync during which the user, while the download runs, edits a record the page brings (the
   * form was open), and goes on typing in another field of it after the sync.
   */
  async syncTypingInPull(t: number, record: number, field: number) {
    const real = this.transports[USER_OF[t]!]!;
    let typedIn: RecordRef | undefined;
    let fields: string[] = [];
    await this.sync(t, {
      ...real,
      pull: async (...args) => {
        const page = await real.pull(...args);
        const editable = page.changes.filter((c) => c.table in EDITABLE);
        if (!typedIn && editable.length > 0) {
          const c = editable[record % editable.length]!;
          const ref = { table: c.table as EditableTable, id: c.id };
          fields = EDITABLE[ref.table];
          if (await this.edit(t, ref, fields[field % fields.length]!)) {
            typedIn = ref;
            count('typed during a pull');
          }
        }
        return page;
      },
    });
    if (typedIn) await this.edit(t, typedIn, fields[(field + 1) % fields.length]!);
  }

  async run(a: Action) {
    const t = a.tablet;
    switch (a.kind) {
      case 'edit':
        await this.editAt(t, a.record, a.field);
        break;
      case 'delete': {
        const patients = this.records.filter((r) => r.table === 'patients');
        const ref = patients[a.record % patients.length]!;
        const db = this.tablets[t]!;
        const current = await db.patients.get(ref.id);
        if (!current || current.deleted === a.deleted) break;
        if (a.deleted) await deletePatient(db, ref.id, this.author(t));
        else await restorePatient(db, ref.id, this.author(t));
        count(a.deleted ? 'delete' : 'restore');
        break;
      }
      case 'visit': {
        const patients = this.records.filter((r) => r.table === 'patients');
        const ref = patients[a.record % patients.length]!;
        const db = this.tablets[t]!;
        if (!(await db.patients.get(ref.id))) break;
        const visit = await startEncounter(db, ref.id, this.author(t));
        this.records.push({ table: 'encounters', id: visit.id });
        count('new visit');
        break;
      }
      case 'sync':
        await this.sync(t);
        break;
      case 'syncTypingInPush': {
        const db = this.tablets[t]!;
        const waiting = (await db.outbox.toArray()).filter((r) => r.table in EDITABLE);
        if (waiting.length === 0) {
          await this.sync(t);
          break;
        }
        const row = waiting[a.record % waiting.length]!;
        const ref = { table: row.table as EditableTable, id: row.recordId };
        const fields = EDITABLE[ref.table];
        await this.syncTypingInPush(t, () => this.edit(t, ref, fields[a.field % fields.length]!));
        break;
      }
      case 'syncTypingInPull':
        await this.syncTypingInPull(t, a.record, a.field);
        break;
    }
  }

  /** Every tablet syncs, round after round, until a whole round moves nothing. */
  async settle() {
    for (let round = 0; round < 8; round++) {
      let moved = 0;
      for (let t = 0; t < TABLETS; t++) {
        const s = await this.sync(t);
        moved += s.pushed + s.pulled;
      }
      if (moved === 0) return;
    }
    throw new Error('the tablets did not settle in 8 rounds');
  }

  async check() {
    const sqlite = this.server.sqlite;
    const current = sqlite
      .prepare('SELECT table_name AS t, id, version, deleted, data FROM records')
      .all() as { t: SyncedTable; id: string; version: number; deleted: number; data: string }[];
    const history = sqlite
      .prepare('SELECT table_name AS t, id, data FROM record_history')
      .all() as {
      t: string;
      id: string;
      data: string;
    }[];
    const conflicts = sqlite
      .prepare('SELECT table_name AS t, record_id AS id, data FROM conflicts')
      .all() as { t: string; id: string; data: string }[];

    // Convergence: each tablet holds exactly the server's records, at its versions.
    for (let t = 0; t < TABLETS; t++) {
      const db = this.tablets[t]!;
      expect(await db.outbox.count(), `tablet ${t} outbox`).toBe(0);
      let held = 0;
      for (const table of SYNC_TABLES) held += await db.table(table).count();
      expect(held, `tablet ${t} record count`).toBe(current.length);
      for (const r of current) {
        const stored = (await db.table(r.t).get(r.id)) as { id: string } | undefined;
        const local = (await asKnown(db, r.t, stored)) as Record<string, unknown> | undefined;
        expect(local, `tablet ${t} lacks ${r.t}/${r.id}`).toBeDefined();
        const server = JSON.parse(r.data) as Record<string, unknown>;
        const mine = syncedFields(local!);
        expect({ ...mine, version: mine.version }, `tablet ${t} ${r.t}/${r.id}`).toEqual({
          ...server,
          version: r.version,
        });
        expect(local!.deleted === true).toBe(r.deleted === 1);
      }
    }

    // No lost edit: the last value typed in each field reached the server or a recorded conflict.
    const seen = new Map<string, string[]>();
    for (const h of [...history, ...conflicts]) {
      const list = seen.get(`${h.t}/${h.id}`) ?? [];
      list.push(h.data);
      seen.set(`${h.t}/${h.id}`, list);
    }
    for (let t = 0; t < TABLETS; t++) {
      for (const [key, value] of this.typed[t]!) {
        const [table, id, field] = key.split('/') as [string, string, string];
        const versions = (seen.get(`${table}/${id}`) ?? []).map(
          (d) => (JSON.parse(d) as Record<string, unknown>)[field],
        );
        const found = versions.some((v) => JSON.stringify(v) === JSON.stringify(value));
        expect(found, `tablet ${t}: ${key} = ${JSON.stringify(value)} was lost`).toBe(true);
      }
    }
  }

  async close() {
    await Promise.all(this.tablets.map((db) => db.delete()));
  }
}

async function newWorld(): Promise<World> {
  const { server, users } = await teamOnServer(3);
  return new World(
    server,
    users.map((u, i) => ({ ...u.author, name: `Clinician ${i}` })),
    users.map((u) => u.transport),
  );
}

afterAll(() => {
  console.info('web sync property coverage:', JSON.stringify(coverage));
});

describe('the real web sync code against the real server', () => {
  it('converges and loses no edit, whatever the tablets do offline and however they sync', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 40 }), async (actions) => {
        const world = await newWorld();
        try {
          await world.newPatient(0);
          await world.newPatient(1);
          await world.sync(0);
          await world.sync(1);
          for (let t = 0; t < TABLETS; t++) await world.sync(t);
          for (const a of actions) await world.run(a);
          await world.settle();
          await world.check();
        } finally {
          await world.close();
          world.server.close();
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // The runs reached the paths that can lose an edit.
    expect(coverage['typed during a merged push'] ?? 0).toBeGreaterThan(0);
    expect(coverage['typed during a pull'] ?? 0).toBeGreaterThan(0);
    expect(coverage.conflicts ?? 0).toBeGreaterThan(0);
    expect(coverage.merged ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
