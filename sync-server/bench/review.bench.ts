/**
 * Supervisor review benchmark (issue 11): `pnpm bench:review` at the repository root.
 *
 * Seeds, through the server's own HTTP routes (in-process app.request: sign-up, invitations,
 * POST /api/sync/push, so every record goes through the push transaction, its checks and the
 * review read models), a district of 5 teams, 200 clinicians (40 per team) and 5 supervisors:
 * 50,000 shared reports (each with its patient and visit) holding 80,000 diagnoses, and 20,000
 * reviews with verdicts, spread over 12 weeks by a settable server clock. SQLite is a file in a
 * temporary DATA_DIR (WAL, as in production). Then measures, server-side (the time of
 * app.request, no sockets):
 * - GET /api/review/queue first page over filter combinations, as the admin (5 teams) and as a
 *   supervisor (1 team): p95 per combination and overall (target <= 100 ms);
 * - GET /api/review/dashboard (target p95 <= 300 ms);
 * - a review write, POST /api/review/mutations (target p95 <= 50 ms);
 * - GET /api/review/export.fhir of all 50,000 reports: time, size and RSS growth while streaming
 *   (target <= 50 MB), and the CSV export's time.
 * Writes bench-results/review.json. `--quick` seeds a tenth (a smoke run).
 * Diagnoses carry no heatmap (explanation null), which keeps the database at a few hundred MB.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app';
import { openDataDir } from '../src/db/connection';
import { PushResponse } from '../src/protocol';
import { seededRandom } from '../test/random';
import {
  tempDir,
  testEnv,
  testPasswords,
  TestClient,
  TestClock,
  withAdmin,
} from '../src/test-utils';
import { sqliteRepositories } from '../src/repositories/sqlite';

const REPO_DIR = path.resolve(fileURLToPath(new URL('..', import.meta.url)), '..');
const OUT_FILE = path.join(REPO_DIR, 'bench-results', 'review.json');

const quick = process.argv.includes('--quick');
const SCALE = quick ? 0.1 : 1;
const TEAMS = 5;
const CLINICIANS_PER_TEAM = 40;
const REPORTS = Math.round(50_000 * SCALE);
const TWO_DIAGNOSES = Math.round(30_000 * SCALE); // 20,000 with one, 30,000 with two: 80,000
const REVIEWS = Math.round(20_000 * SCALE);
const ROUNDS = 25;
const WEEKS = 12;
const ORIGIN = 'http://localhost:8787';

const rnd = seededRandom(11);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;

const VILLAGES = Array.from({ length: 40 }, (_, i) => `Village ${i + 1}`);
const ms = (t: number) => Math.round(t * 10) / 10;
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!;
};
const p95 = (xs: number[]) => percentile(xs, 0.95);
const p50 = (xs: number[]) => percentile(xs, 0.5);
/** `p50 / p95` in ms, for reading per combination. */
const both = (xs: number[]) => ({ p50Ms: ms(p50(xs)), p95Ms: ms(p95(xs)) });

let idCounter = 0;
const newId = () => {
  idCounter += 1;
  return `0193a000-0000-7000-8000-${idCounter.toString(16).padStart(12, '0')}`;
};

function meta(teamId: string, id = newId()) {
  return {
    id,
    teamId,
    version: 0,
    updatedAt: '2026-01-01T00:00:00.000Z',
    updatedBy: 'bench',
    deleted: false,
  };
}

/** A patient, visit, one or two model results and the shared report that lists them. */
function clinicalCase(teamId: string, twoModels: boolean, sharedAt: string) {
  const p = {
    ...meta(teamId),
    givenName: pick(['Amina', 'Wanjiru', 'Otieno', 'Kiprop', 'Achieng', 'Mwangi']),
    familyName: pick(['Okafor', 'Kamau', 'Odhiambo', 'Njoroge', 'Wafula', 'Chebet']),
    sex: rnd() < 0.5 ? 'female' : 'male',
    birthDate: `${1950 + Math.floor(rnd() * 70)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`,
    birthDateEstimated: false,
    village: pick(VILLAGES),
    phone: '+254700000000',
    identifiers: [{ kind: 'National ID', value: String(Math.floor(rnd() * 1e8)) }],
  };
  const e = {
    ...meta(teamId),
    patientId: p.id,
    date: sharedAt.slice(0, 10),
    complaint: 'Cough and fever',
    vitals: {
      temperatureC: 36 + Math.round(rnd() * 40) / 10,
      pulseBpm: 60 + Math.floor(rnd() * 60),
      respiratoryRate: 12 + Math.floor(rnd() * 20),
      spo2: 86 + Math.floor(rnd() * 14),
      systolicBp: 100 + Math.floor(rnd() * 60),
      diastolicBp: 60 + Math.floor(rnd() * 30),
      weightKg: 60,
      heightCm: 165,
      muacMm: null,
    },
    symptoms: ['Cough'],
    notes: '',
  };
  const assessment = () => ({
    verdict: rnd() < 0.8 ? 'agree' : rnd() < 0.5 ? 'disagree' : 'unsure',
    note: '',
    at: sharedAt,
    by: 'bench',
  });
  const pPneumonia = rnd() < 0.7 ? 0.5 + rnd() / 2 : rnd() / 3;
  const diagnoses: (Record<string, unknown> & { id: string })[] = [
    {
      ...meta(teamId),
      patientId: p.id,
      encounterId: e.id,
      modelId: 'pneumonia-cxr',
      modelVersion: '1.0.0',
      modelName: 'Pneumonia on a chest X-ray',
      inputs: {
        kind: 'image',
        attachmentId: newId(),
        sha256: (idCounter * 2654435761).toString(16).padStart(64, '0').slice(-64),
      },
      outputs: { normal: 1 - pPneumonia, pneumonia: pPneumonia },
      positiveLabel: 'pneumonia',
      threshold: 0.3286,
      explanation: null,
      modelNotice: { intendedUse: 'Triage support', limitations: '28x28 input' },
      assessment: assessment(),
    },
  ];
  if (twoModels) {
    const pDiabetes = rnd();
    diagnoses.push({
      ...meta(teamId),
      patientId: p.id,
      encounterId: e.id,
      modelId: 'diabetes-risk',
      modelVersion: '1.0.0',
      modelName: 'Diabetes (Pima women, OGTT-based)',
      inputs: { kind: 'tabular', values: { glucose: 140, bmi: 31 } },
      outputs: { 'no diabetes': 1 - pDiabetes, diabetes: pDiabetes },
      positiveLabel: 'diabetes',
      threshold: 0.2416,
      explanation: null,
      modelNotice: { intendedUse: 'Screening', limitations: 'Pima women' },
      assessment: assessment(),
    });
  }
  const r = {
    ...meta(teamId),
    patientId: p.id,
    encounterId: e.id,
    diagnosisIds: diagnoses.map((d) => d.id),
    summary: 'Productive cough for two weeks, febrile.',
    plan: 'Amoxicillin, review in 3 days.',
    status: 'shared',
    authorName: 'Clinician',
    sharedAt,
  };
  return { p, e, diagnoses, r };
}

async function main() {
  const data = tempDir('fdx-review-bench-');
  const database = openDataDir(data.dir);
  const clock = new TestClock(
    new Date(Date.parse('2026-01-15T08:00:00Z') - WEEKS * 7 * 86_400_000),
  );
  const env = testEnv({ DATA_DIR: data.dir });
  const app = createApp({
    repos: sqliteRepositories(database.db),
    env,
    passwords: testPasswords,
    now: clock.now,
  });
  const { admin, createTeam, invite } = await withAdmin(app);

  const request = async (client: TestClient, method: string, url: string, body?: unknown) => {
    const t0 = performance.now();
    const res = await app.request(url, {
      method,
      headers: {
        origin: ORIGIN,
        cookie: `fdx_session=${client.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const elapsed = performance.now() - t0;
    if (res.status !== 200)
      throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
    return { elapsed, text };
  };
  const push = async (client: TestClient, deviceId: string, mutations: unknown[]) => {
    const { text } = await request(client, 'POST', '/api/sync/push', { deviceId, mutations });
    for (const r of PushResponse.parse(JSON.parse(text)).results) {
      if (r.status !== 'applied') throw new Error(`push: ${JSON.stringify(r)}`);
    }
  };
  const signup = async (email: string, name: string, code: string) => {
    const c = new TestClient(app);
    const res = await c.signup(email, name, code);
    if (res.status !== 201) throw new Error(`signup ${email}: ${res.status}`);
    return c;
  };

  // People -----------------------------------------------------------------------------------
  const t0 = performance.now();
  const teams: { id: string; supervisor: TestClient; clinicians: TestClient[] }[] = [];
  for (let t = 0; t < TEAMS; t++) {
    const id = await createTeam(`District team ${t + 1}`);
    const supervisor = await signup(
      `sup${t}@example.org`,
      `Supervisor ${t + 1}`,
      await invite(id, 'supervisor'),
    );
    const clinicians: TestClient[] = [];
    for (let i = 0; i < CLINICIANS_PER_TEAM; i++) {
      clinicians.push(
        await signup(
          `c${t}-${i}@example.org`,
          `Clinician ${t + 1}.${i + 1}`,
          await invite(id, 'clinician'),
        ),
      );
    }
    teams.push({ id, supervisor, clinicians });
  }

  // Reports and reviews, round by round over 12 weeks -----------------------------------------
  const clinicianCount = TEAMS * CLINICIANS_PER_TEAM;
  const perRound = Math.ceil(REPORTS / ROUNDS);
  const reviewsPerRound = Math.ceil(REVIEWS / ROUNDS);
  const roundMs = (WEEKS * 7 * 86_400_000) / ROUNDS;
  let made = 0;
  let twoLeft = TWO_DIAGNOSES;
  let reviewed = 0;
  let mutationCount = 0;
  for (let round = 0; round < ROUNDS && made < REPORTS; round++) {
    const byTeam = new Map<number, { reportId: string; diagnosisIds: string[] }[]>();
    for (let k = 0; k < clinicianCount && made < REPORTS; k++) {
      const t = k % TEAMS;
      const team = teams[t]!;
      const clinician = team.clinicians[Math.floor(k / TEAMS)]!;
      const n = Math.min(Math.ceil(perRound / clinicianCount), REPORTS - made);
      const mutations: unknown[] = [];
      for (let j = 0; j < n; j++) {
        const two = twoLeft > 0 && rnd() < TWO_DIAGNOSES / REPORTS + 0.05;
        if (two) twoLeft -= 1;
        const c = clinicalCase(team.id, two, clock.now().toISOString());
        const list = byTeam.get(t) ?? [];
        list.push({ reportId: c.r.id, diagnosisIds: c.r.diagnosisIds });
        byTeam.set(t, list);
        for (const [table, rec] of [
          ['patients', c.p],
          ['encounters', c.e],
          ...c.diagnoses.map((d) => ['diagnoses', d] as const),
          ['reports', c.r],
        ] as const) {
          mutations.push({
            mutationId: newId(),
            table,
            id: rec.id,
            baseVersion: 0,
            op: 'put',
            data: rec,
          });
        }
        made += 1;
      }
      mutationCount += mutations.length;
      await push(clinician, `tablet-${t}-${k}`, mutations);
    }
    clock.advance(roundMs / 2);
    // Each supervisor reviews part of the round's reports half a round later.
    for (let t = 0; t < TEAMS; t++) {
      const list = byTeam.get(t) ?? [];
      const quota = Math.min(Math.ceil(reviewsPerRound / TEAMS), list.length, REVIEWS - reviewed);
      const mutations: unknown[] = [];
      for (const item of list.slice(0, quota)) {
        const returned = rnd() < 0.2;
        const review = {
          ...meta(teams[t]!.id),
          reportId: item.reportId,
          revision: 1,
          decision: returned ? 'returned' : 'approved',
          comment: returned ? 'Please recheck the SpO2 and repeat the X-ray.' : '',
          verdicts: item.diagnosisIds.map((diagnosisId) => ({
            diagnosisId,
            verdict: rnd() < 0.7 ? 'right' : rnd() < 0.66 ? 'wrong' : 'cant_tell',
            referenceOutcome: null,
          })),
          createdAt: clock.now().toISOString(),
        };
        mutations.push({
          mutationId: newId(),
          table: 'reviews',
          id: review.id,
          baseVersion: 0,
          op: 'put',
          data: review,
        });
      }
      reviewed += mutations.length;
      mutationCount += mutations.length;
      for (let i = 0; i < mutations.length; i += 500) {
        await push(teams[t]!.supervisor, `desk-team-${t}`, mutations.slice(i, i + 500));
      }
    }
    clock.advance(roundMs / 2);
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${made} reports, ${reviewed} reviews\n`);
  }
  const seedMs = performance.now() - t0;
  const count = (sql: string) => database.sqlite.prepare(sql).pluck().get() as number;
  const seeded = {
    reports: count('SELECT count(*) FROM review_reports'),
    diagnoses: count('SELECT count(*) FROM review_diagnoses'),
    reviews: count('SELECT count(*) FROM review_events'),
    clinicians: clinicianCount,
    teams: TEAMS,
    mutations: mutationCount,
    seedMs: Math.round(seedMs),
    databaseMb: mb(statSync(path.join(data.dir, 'fielddx.sqlite')).size),
  };
  process.stderr.write(`${JSON.stringify(seeded)}\n`);
  // The admin's session lapsed during the 12 simulated weeks.
  admin.token = undefined;
  if ((await admin.login('admin@example.org')).status !== 200) throw new Error('admin login');
  database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  database.sqlite.exec('ANALYZE');

  // The machine's load as the measurements start (the figures are wall-clock times).
  const loadAtStart = loadavg().map((l) => Math.round(l * 10) / 10);

  // Queue -------------------------------------------------------------------------------------
  const team0 = teams[0]!.id;
  const combos = [
    '',
    'state=awaiting',
    'state=approved',
    'state=returned',
    'sort=priority',
    'state=awaiting&sort=priority',
    `teamId=${team0}`,
    `teamId=${team0}&state=awaiting&sort=priority`,
    'village=village%207',
    'modelId=pneumonia-cxr',
    'modelId=pneumonia-cxr&finding=positive',
    'modelId=diabetes-risk&finding=negative&state=awaiting',
    'finding=positive&sort=priority',
    'disagreement=true',
    'disagreement=true&state=awaiting&sort=priority',
    'from=2025-12-01&to=2025-12-31',
    'from=2025-12-01&to=2025-12-31&modelId=pneumonia-cxr&finding=positive&sort=priority',
    'village=village%203&disagreement=true&modelId=diabetes-risk',
    'state=returned&village=village%2012&from=2025-11-01',
  ];
  const supervisor = teams[0]!.supervisor;
  const RUNS = quick ? 5 : 15;
  const queue: Record<string, { p50Ms: number; p95Ms: number }> = {};
  const allQueue: number[] = [];
  for (const [who, client] of [
    ['admin', admin],
    ['supervisor', supervisor],
  ] as const) {
    for (const q of combos) {
      if (who === 'supervisor' && q.startsWith('teamId')) continue;
      const times: number[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        const { elapsed } = await request(client, 'GET', `/api/review/queue?${q}`);
        if (i >= 2) times.push(elapsed);
      }
      queue[`${who}: ${q || '(no filter)'}`] = both(times);
      allQueue.push(...times);
    }
  }
  // A first page with the clinician filter (one of 200).
  const someClinician = database.sqlite
    .prepare('SELECT clinician_id FROM review_reports LIMIT 1')
    .pluck()
    .get() as string;
  {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const { elapsed } = await request(
        admin,
        'GET',
        `/api/review/queue?clinicianId=${someClinician}&sort=priority`,
      );
      if (i >= 2) times.push(elapsed);
    }
    queue['admin: clinicianId=…&sort=priority'] = both(times);
    allQueue.push(...times);
  }

  // Dashboard ---------------------------------------------------------------------------------
  const dashboardTimes: number[] = [];
  const dashboardPer: Record<string, { p50Ms: number; p95Ms: number }> = {};
  for (const [label, client, q] of [
    ['admin, 5 teams, 12 weeks', admin, ''],
    ['admin, one team', admin, `teamId=${team0}`],
    ['supervisor, 12 weeks', supervisor, ''],
    ['admin, 4 weeks', admin, 'from=2025-12-18&to=2026-01-15'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < (quick ? 4 : 10) + 1; i++) {
      const { elapsed } = await request(client, 'GET', `/api/review/dashboard?${q}`);
      if (i >= 1) times.push(elapsed);
    }
    dashboardPer[label] = both(times);
    dashboardTimes.push(...times);
  }

  // Review writes -----------------------------------------------------------------------------
  const awaiting = database.sqlite
    .prepare(
      `SELECT report_id FROM review_reports WHERE team_id = ? AND state = 'awaiting' LIMIT 200`,
    )
    .pluck()
    .all(team0) as string[];
  const writeTimes: number[] = [];
  for (const reportId of awaiting) {
    const review = {
      ...meta(team0),
      reportId,
      revision: 1,
      decision: 'approved',
      comment: '',
      verdicts: [],
      createdAt: clock.now().toISOString(),
    };
    const { elapsed } = await request(supervisor, 'POST', '/api/review/mutations', {
      deviceId: 'desk-bench-writes',
      mutation: {
        mutationId: newId(),
        table: 'reviews',
        id: review.id,
        baseVersion: 0,
        op: 'put',
        data: review,
      },
    });
    writeTimes.push(elapsed);
  }

  // Exports -----------------------------------------------------------------------------------
  const streamed = async (url: string) => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const t = performance.now();
    const res = await app.request(url, { headers: { cookie: `fdx_session=${admin.token}` } });
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    const reader = res.body!.getReader();
    let bytes = 0;
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      chunks += 1;
      if (chunks % 10 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    return {
      ms: Math.round(performance.now() - t),
      mb: mb(bytes),
      rssBeforeMb: mb(rssBefore),
      rssMaxMb: mb(rssMax),
      rssGrowthMb: mb(rssMax - rssBefore),
    };
  };
  const fhir = await streamed('/api/review/export.fhir');
  const csv = await streamed('/api/review/export.csv?rows=diagnoses');

  database.close();
  // --keep leaves the database for EXPLAIN QUERY PLAN and friends.
  if (process.argv.includes('--keep')) process.stderr.write(`kept ${data.dir}\n`);
  else data.remove();

  const result = {
    quick,
    seeded,
    queueFirstPage: {
      p50Ms: ms(p50(allQueue)),
      p95Ms: ms(p95(allQueue)),
      maxComboP95Ms: Math.max(...Object.values(queue).map((q) => q.p95Ms)),
      targetMs: 100,
      combinations: queue,
    },
    dashboard: { ...both(dashboardTimes), targetMs: 300, byCase: dashboardPer },
    reviewWrite: { ...both(writeTimes), writes: writeTimes.length, targetMs: 50 },
    exportFhirAll: {
      reports: seeded.reports,
      ...fhir,
      targetRssGrowthMb: 50,
      gcExposed: Boolean(global.gc),
    },
    exportCsvPerDiagnosis: csv,
    cpus: cpus().length,
    loadAverageAtStart: loadAtStart,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
