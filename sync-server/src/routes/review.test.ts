import { describe, expect, it, onTestFinished } from 'vitest';
import { AuditListResponse, QueueResponse, ReportBundle, type MutationResult } from '../protocol';
import {
  diagnosis,
  mutation,
  patient,
  report,
  review,
  SyncClient,
  syncWorld,
  uid,
} from '../sync-test-utils';
import { DAY, errorOf, type TestClient } from '../test-utils';

/*
 * Issue 11, query side: the queue's scope, filters, sort and pages, the report page, and the
 * direct write route's 4xx answers.
 */

async function setup() {
  const w = await syncWorld();
  onTestFinished(w.cleanup);
  const m = await w.member('sue@example.org', 'supervisor', w.teamB);
  return { ...w, sue: new SyncClient(m.client, m.id) };
}
type World = Awaited<ReturnType<typeof setup>>;

function applied(r: MutationResult) {
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'applied' });
}

function encounter(teamId: string, patientId: string, vitals: Record<string, number | null>) {
  return {
    id: uid('e'),
    teamId,
    version: 0,
    updatedAt: '2026-01-15T10:00:00.000Z',
    updatedBy: 'x',
    deleted: false,
    patientId,
    date: '2026-01-15',
    complaint: 'Cough',
    vitals,
    symptoms: ['Cough'],
    notes: '',
  };
}

interface CaseSpec {
  by: SyncClient;
  teamId: string;
  village?: string;
  positive?: boolean;
  disagree?: boolean;
  spo2?: number;
  status?: 'draft' | 'shared';
  modelId?: string;
}

/** One patient with a visit, one diagnosis and a report, pushed by a clinician. */
async function makeCase(w: World, spec: CaseSpec) {
  const p = patient(spec.teamId, { village: spec.village ?? 'Kibera', birthDate: '1990-04-01' });
  const e = encounter(spec.teamId, p.id, { spo2: spec.spo2 ?? 97, temperatureC: 37 });
  const d = diagnosis(spec.teamId, p.id, {
    encounterId: e.id,
    modelId: spec.modelId ?? 'pneumonia-cxr',
    outputs: spec.positive ? { negative: 0.1, positive: 0.9 } : { negative: 0.9, positive: 0.1 },
    assessment: spec.disagree
      ? { verdict: 'disagree', note: '', at: '2026-01-15T10:00:00Z', by: 'x' }
      : { verdict: 'agree', note: '', at: '2026-01-15T10:00:00Z', by: 'x' },
  });
  const r = report(spec.teamId, p.id, {
    encounterId: e.id,
    diagnosisIds: [d.id],
    status: spec.status ?? 'shared',
  });
  const results = await spec.by.push([
    mutation('patients', p),
    mutation('encounters', e),
    mutation('diagnoses', d),
    mutation('reports', r),
  ]);
  results.forEach(applied);
  w.clock.advance(60_000);
  return { p, e, d, r };
}

async function getQueue(client: TestClient, query = '') {
  const res = await client.get(`/api/review/queue${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return QueueResponse.parse(await res.json());
}

describe('GET /api/review/queue', () => {
  it('lists the shared reports of the supervised teams only; admins see every team', async () => {
    const w = await setup();
    const a1 = await makeCase(w, { by: w.alice, teamId: w.teamA });
    await makeCase(w, { by: w.alice, teamId: w.teamA, status: 'draft' });
    const b1 = await makeCase(w, { by: w.carol, teamId: w.teamB });

    const sam = await getQueue(w.sam.client);
    expect(sam.items.map((i) => i.reportId)).toEqual([a1.r.id]);
    expect(sam.items[0]).toMatchObject({
      patientName: 'Amina Okafor',
      village: 'Kibera',
      state: 'awaiting',
      revision: 1,
      clinicianId: w.alice.userId,
      teamName: 'Team A',
      diagnoses: [{ diagnosisId: a1.d.id, modelId: 'pneumonia-cxr', positive: false }],
    });
    expect(sam.counts).toEqual({ awaiting: 1, approved: 0, returned: 0 });
    expect((await getQueue(w.sue.client)).items.map((i) => i.reportId)).toEqual([b1.r.id]);
    const admin = await getQueue(w.admin);
    expect(admin.items.map((i) => i.reportId).sort()).toEqual([a1.r.id, b1.r.id].sort());

    const other = await w.sam.client.get(`/api/review/queue?teamId=${w.teamB}`);
    expect(other.status).toBe(403);
    const clinician = await w.alice.client.get('/api/review/queue');
    expect(clinician.status).toBe(403);
    expect((await errorOf(clinician)).message).toBe('Only supervisors and admins review reports');
  });

  it('filters by state, clinician, village, model, finding, disagreement and dates', async () => {
    const w = await setup();
    const plain = await makeCase(w, { by: w.alice, teamId: w.teamA });
    const pos = await makeCase(w, {
      by: w.bob,
      teamId: w.teamA,
      positive: true,
      village: 'Mathare',
    });
    const dis = await makeCase(w, { by: w.alice, teamId: w.teamA, disagree: true });
    const diab = await makeCase(w, {
      by: w.alice,
      teamId: w.teamA,
      modelId: 'diabetes-risk',
      positive: true,
      spo2: 85,
    });
    applied(await w.sam.pushOne(mutation('reviews', review(w.teamA, plain.r.id))));
    const ids = async (q: string) => (await getQueue(w.sam.client, q)).items.map((i) => i.reportId);

    expect(await ids('?state=approved')).toEqual([plain.r.id]);
    expect(await ids('?state=awaiting')).toEqual([pos.r.id, dis.r.id, diab.r.id]);
    expect(await ids(`?clinicianId=${w.bob.userId}`)).toEqual([pos.r.id]);
    expect(await ids('?village=mathare')).toEqual([pos.r.id]);
    expect(await ids('?modelId=diabetes-risk')).toEqual([diab.r.id]);
    expect(await ids('?modelId=pneumonia-cxr&finding=positive')).toEqual([pos.r.id]);
    expect(await ids('?finding=negative')).toEqual([plain.r.id, dis.r.id]);
    expect(await ids('?disagreement=true')).toEqual([dis.r.id]);
    expect(await ids('?from=2026-01-16')).toEqual([]);
    expect(await ids('?from=2026-01-15&to=2026-01-15&state=approved')).toEqual([plain.r.id]);
    // Counts follow the filters but not the state.
    expect((await getQueue(w.sam.client, '?finding=negative&state=approved')).counts).toEqual({
      awaiting: 1,
      approved: 1,
      returned: 0,
    });
    // Priority: positive + abnormal vitals (SpO2 85) first, then one flag, oldest first.
    expect(await ids('?sort=priority')).toEqual([diab.r.id, pos.r.id, dis.r.id, plain.r.id]);
  });

  it('keeps the counters per state in step with every kind of write (counts match a recount)', async () => {
    const w = await setup();
    const plain = await makeCase(w, { by: w.alice, teamId: w.teamA });
    const pos = await makeCase(w, { by: w.bob, teamId: w.teamA, positive: true });
    const gone = await makeCase(w, { by: w.alice, teamId: w.teamA, modelId: 'diabetes-risk' });
    const draft = await makeCase(w, { by: w.alice, teamId: w.teamA, status: 'draft' });
    await makeCase(w, { by: w.carol, teamId: w.teamB, disagree: true });
    applied(await w.sam.pushOne(mutation('reviews', review(w.teamA, plain.r.id))));
    applied(
      await w.sam.pushOne(
        mutation('reviews', review(w.teamA, pos.r.id, { decision: 'returned', comment: 'Redo' })),
      ),
    );
    // The clinician now disagrees with the model (disagreement moves the report between counters),
    // shares the returned report again (back to awaiting), deletes one, and shares the draft.
    applied(
      await w.bob.pushOne(
        mutation(
          'diagnoses',
          {
            ...pos.d,
            assessment: { verdict: 'disagree', note: '', at: '2026-01-15T10:00:00Z', by: 'x' },
          },
          1,
        ),
      ),
    );
    applied(
      await w.bob.pushOne(mutation('reports', { ...pos.r, sharedAt: '2026-01-16T09:00:00Z' }, 1)),
    );
    applied(await w.alice.pushOne(mutation('reports', { ...gone.r, deleted: true }, 1)));
    applied(await w.alice.pushOne(mutation('reports', { ...draft.r, status: 'shared' }, 1)));

    const key = 'team_id, state, disagreement, positive, models';
    // sum() cast: of integers it is bigint on PostgreSQL, a number as count(*) is.
    const counters = await w.rows(
      `SELECT ${key}, CAST(sum(n) AS bigint) AS n FROM review_counts
       GROUP BY ${key} HAVING sum(n) <> 0 ORDER BY ${key}`,
    );
    const recount = await w.rows(
      `SELECT ${key}, count(*) AS n FROM review_reports GROUP BY ${key} ORDER BY ${key}`,
    );
    expect(counters).toEqual(recount);
    expect(recount).toHaveLength(4);
    const sam = await getQueue(w.sam.client);
    expect(sam.counts).toEqual({ awaiting: 2, approved: 1, returned: 0 });
    expect((await getQueue(w.sam.client, '?disagreement=true')).counts).toEqual({
      awaiting: 1,
      approved: 0,
      returned: 0,
    });
    // A period filter counts the reports themselves: the same answer.
    expect((await getQueue(w.sam.client, '?from=2026-01-01')).counts).toEqual(sam.counts);
  });

  it('pages with a cursor through every report exactly once, in both sorts', async () => {
    const w = await setup();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      made.push((await makeCase(w, { by: w.alice, teamId: w.teamA, positive: i % 3 === 0 })).r.id);
    }
    for (const sort of ['age', 'priority']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: QueueResponse = await getQueue(
          w.sam.client,
          `?sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((i) => i.reportId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.slice().sort()).toEqual(made.slice().sort());
      if (sort === 'age') expect(seen).toEqual(made);
    }
  });

  it('answers bad parameters with a 400 naming them', async () => {
    const w = await setup();
    for (const [q, message] of [
      ['?state=done', 'state: must be one of awaiting, approved, returned'],
      ['?limit=0', 'limit: must be between 1 and 200'],
      ['?from=yesterday', 'from: must be a date (YYYY-MM-DD)'],
      ['?cursor=garbage', 'cursor: not a cursor this server gave'],
      ['?sort=name', "sort: must be 'age' or 'priority'"],
    ]) {
      const res = await w.sam.client.get(`/api/review/queue${q}`);
      expect(res.status, q).toBe(400);
      expect((await errorOf(res)).message).toBe(message);
    }
  });
});

describe('GET /api/review/reports/:id', () => {
  it('returns the whole report, and a 404 for drafts, other teams and unknown ids', async () => {
    const w = await setup();
    const c = await makeCase(w, { by: w.alice, teamId: w.teamA, positive: true, spo2: 88 });
    const draft = await makeCase(w, { by: w.alice, teamId: w.teamA, status: 'draft' });
    const res = await w.sam.client.get(`/api/review/reports/${c.r.id}`);
    expect(res.status).toBe(200);
    const bundle = ReportBundle.parse(await res.json());
    expect(bundle.patient).toEqual({
      id: c.p.id,
      name: 'Amina Okafor',
      sex: 'female',
      birthDate: '1990-04-01',
      birthDateEstimated: false,
      ageYears: 35,
      village: 'Kibera',
    });
    expect(JSON.stringify(bundle)).not.toContain('identifiers');
    expect(bundle.encounter?.flags.spo2).toEqual({ level: 'danger', message: 'Severe hypoxaemia' });
    expect(bundle.diagnoses).toMatchObject([{ id: c.d.id, positive: true, image: null }]);
    expect(bundle.report).toMatchObject({ revision: 1, state: 'awaiting' });
    expect(bundle.diff).toBeNull();

    for (const [client, id] of [
      [w.sam.client, draft.r.id],
      [w.sue.client, c.r.id],
      [w.sam.client, 'missing'],
    ] as const) {
      const r = await client.get(`/api/review/reports/${id}`);
      expect(r.status).toBe(404);
      expect(await errorOf(r)).toEqual({ code: 'not_found', message: 'Report not found' });
    }
    // The read is in the audit log (who, which report, which team), the refused ones are not.
    const audit = await w.admin.get('/api/admin/audit?action=review.read');
    const { entries } = AuditListResponse.parse(await audit.json());
    expect(entries).toMatchObject([
      {
        userId: w.sam.userId,
        userEmail: 'sam@example.org',
        target: c.r.id,
        detail: { teamId: w.teamA, revision: 1 },
      },
    ]);
  });

  it('shows reviews per revision and the field diff since the returned revision', async () => {
    const w = await setup();
    const c = await makeCase(w, { by: w.alice, teamId: w.teamA, spo2: 88 });
    applied(
      await w.sam.pushOne(
        mutation('reviews', review(w.teamA, c.r.id, { decision: 'returned', comment: 'Recheck' })),
      ),
    );
    w.clock.advance(DAY);
    const bundle1 = ReportBundle.parse(
      await (await w.sam.client.get(`/api/review/reports/${c.r.id}`)).json(),
    );
    expect(bundle1.report.state).toBe('returned');
    // The clinician corrects the visit and the summary, and shares again.
    applied(
      await w.alice.pushOne(
        mutation('encounters', { ...c.e, vitals: { spo2: 95, temperatureC: 37 } }, 1),
      ),
    );
    applied(
      await w.alice.pushOne(
        mutation(
          'reports',
          { ...c.r, summary: 'SpO2 rechecked', sharedAt: '2026-01-16T09:00:00Z' },
          1,
        ),
      ),
    );
    const bundle = ReportBundle.parse(
      await (await w.sam.client.get(`/api/review/reports/${c.r.id}`)).json(),
    );
    expect(bundle.report).toMatchObject({ revision: 2, state: 'awaiting' });
    expect(bundle.reviews).toMatchObject([
      { revision: 1, decision: 'returned', comment: 'Recheck' },
    ]);
    expect(bundle.diff).toEqual({
      fromRevision: 1,
      toRevision: 2,
      changes: [
        { path: 'encounter.vitals.spo2', before: 88, after: 95 },
        { path: 'report.summary', before: 'Cough for 3 weeks', after: 'SpO2 rechecked' },
      ],
    });
    const queue = await getQueue(w.sam.client);
    expect(queue.items[0]).toMatchObject({ revision: 2, state: 'awaiting', abnormalVitals: false });
  });
});

describe('POST /api/review/mutations', () => {
  it('writes a review like a push, and answers a rejection with a 4xx and its reason', async () => {
    const w = await setup();
    const c = await makeCase(w, { by: w.alice, teamId: w.teamA });
    const draft = await makeCase(w, { by: w.alice, teamId: w.teamA, status: 'draft' });
    // One device per user: a device id is bound to the first user who uses it.
    const devices = new Map<TestClient, string>();
    const send = (client: TestClient, m: unknown) => {
      if (!devices.has(client)) devices.set(client, `desk-device-${devices.size + 1}`);
      return client.post('/api/review/mutations', { deviceId: devices.get(client), mutation: m });
    };

    const ok = mutation('reviews', review(w.teamA, c.r.id));
    const res = await send(w.sam.client, ok);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ mutationId: ok.mutationId, status: 'applied', version: 1 });
    // A retry is answered the same, with nothing written twice.
    expect((await send(w.sam.client, ok)).status).toBe(200);

    const cases: [TestClient, unknown, number, string][] = [
      [
        w.sam.client,
        mutation('reviews', review(w.teamA, draft.r.id)),
        400,
        'the report is a draft: only shared reports can be reviewed',
      ],
      [
        w.sam.client,
        mutation('reviews', review(w.teamA, 'nope')),
        400,
        'the report does not exist in this team',
      ],
      [
        w.alice.client,
        mutation('reviews', review(w.teamA, c.r.id)),
        403,
        'only supervisors of the team write reviews',
      ],
      [
        w.sam.client,
        mutation(
          'reviews',
          { ...review(w.teamA, c.r.id), id: ok.id, decision: 'returned', comment: 'x' },
          1,
        ),
        409,
        'reviews are append-only: a saved one cannot be changed',
      ],
      [
        w.sam.client,
        mutation('patients', patient(w.teamA)),
        400,
        'mutation.table: must be reviews, comments or followups',
      ],
    ];
    for (const [client, m, status, message] of cases) {
      const r = await send(client, m);
      expect(r.status, message).toBe(status);
      expect((await errorOf(r)).message).toBe(message);
    }
  });
});
