// The supervisor's screens in headless Chromium against the real server (issue 11): dashboard
// first render with every chart drawn, and a review page opened from the queue. Seeds a district
// through the server's HTTP routes (sign-ups, POST /api/sync/push): 5 teams of clinicians, shared
// reports with one or two model results (an X-ray result with its occlusion heatmap), and
// supervisor reviews. `--reports N` (default 5,000) sets the size; the server-side figures at
// 50,000 reports are `pnpm bench:review`. Writes bench-results/review-ui.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from './random.mjs';
import { freePort, stopServer, waitForHealth } from './server.mjs';

const root = new URL('../..', import.meta.url).pathname;
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('@playwright/test');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const REPORTS = arg('--reports', 5000);
const TEAMS = 5;
const CLINICIANS_PER_TEAM = 4;
const REVIEWS = Math.round(REPORTS * 0.4);
const ROUNDS = 7;

if (!existsSync(join(root, 'web/build/index.html'))) {
  console.error('web/build is missing: run `pnpm build` first.');
  process.exit(1);
}

const rnd = seededRandom(7);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
let counter = 0;
const newId = () => `0193b000-0000-7000-8000-${(++counter).toString(16).padStart(12, '0')}`;
const meta = (teamId) => ({
  id: newId(),
  teamId,
  version: 0,
  updatedAt: new Date().toISOString(),
  updatedBy: 'bench',
  deleted: false,
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
};
const round = (x) => Math.round(x * 10) / 10;

const port = await freePort();
const origin = `http://localhost:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'fielddx-review-ui-'));
let output = '';
const server = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
  cwd: join(root, 'sync-server'),
  env: {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    PUBLIC_ORIGIN: origin,
  },
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
});
server.stdout.on('data', (d) => (output += d));
server.stderr.on('data', (d) => (output += d));

/** A signed-in HTTP client (its own session cookie). */
function client() {
  let cookie = '';
  return async (method, path, body) => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: { 'content-type': 'application/json', origin, ...(cookie ? { cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  };
}

function clinicalCase(teamId, sharedAt) {
  const p = {
    ...meta(teamId),
    givenName: pick(['Amina', 'Moussa', 'Awa', 'Seydou', 'Fatou', 'Bakary']),
    familyName: pick(['Traoré', 'Diarra', 'Coulibaly', 'Keita', 'Sanogo', 'Konaté']),
    sex: rnd() < 0.5 ? 'female' : 'male',
    birthDate: `${1950 + Math.floor(rnd() * 70)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`,
    birthDateEstimated: false,
    village: `Village ${1 + Math.floor(rnd() * 40)}`,
    phone: '',
    identifiers: [],
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
  const assessment = {
    verdict: rnd() < 0.8 ? 'agree' : 'disagree',
    note: '',
    at: sharedAt,
    by: 'bench',
  };
  const pPneumonia = rnd();
  const side = 28;
  const diagnoses = [
    {
      ...meta(teamId),
      patientId: p.id,
      encounterId: e.id,
      modelId: 'pneumonia-cxr',
      modelVersion: '1.0.0',
      modelName: 'Pneumonia on a chest X-ray',
      inputs: { kind: 'image', attachmentId: newId(), sha256: '0'.repeat(64) },
      outputs: { normal: 1 - pPneumonia, pneumonia: pPneumonia },
      positiveLabel: 'pneumonia',
      threshold: 0.3286,
      explanation: {
        kind: 'heatmap',
        width: side,
        height: side,
        channels: 1,
        input: Array.from({ length: side * side }, () => Math.round(rnd() * 100) / 100),
        values: Array.from({ length: side * side }, () => Math.round((rnd() - 0.5) * 100) / 100),
        maxAbs: 0.5,
      },
      modelNotice: { intendedUse: 'Triage support', limitations: '28x28 input' },
      assessment,
    },
  ];
  if (rnd() < 0.6) {
    const pd = rnd();
    diagnoses.push({
      ...meta(teamId),
      patientId: p.id,
      encounterId: e.id,
      modelId: 'diabetes-risk',
      modelVersion: '1.0.0',
      modelName: 'Diabetes (Pima women, OGTT-based)',
      inputs: { kind: 'tabular', values: { glucose: 140, bmi: 31, insulin: null } },
      outputs: { 'no diabetes': 1 - pd, diabetes: pd },
      positiveLabel: 'diabetes',
      threshold: 0.2416,
      explanation: { kind: 'contributions', values: { glucose: 0.21, bmi: 0.05, insulin: 0 } },
      modelNotice: { intendedUse: 'Screening', limitations: 'Pima women' },
      assessment,
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
  return [
    ['patients', p],
    ['encounters', e],
    ...diagnoses.map((d) => ['diagnoses', d]),
    ['reports', r],
  ];
}

// One device id per user: the server binds a device id to the first user who pushes from it.
let devices = 0;
const deviceIds = new WeakMap();
async function push(call, records) {
  if (!deviceIds.has(call))
    deviceIds.set(call, `bench-device-${String(++devices).padStart(2, '0')}`);
  for (let i = 0; i < records.length; i += 400) {
    const mutations = records.slice(i, i + 400).map(([table, data]) => ({
      mutationId: newId(),
      table,
      id: data.id,
      baseVersion: 0,
      op: 'put',
      data,
    }));
    const { results } = await call('POST', '/api/sync/push', {
      deviceId: deviceIds.get(call),
      mutations,
    });
    const refused = results.filter((r) => r.status === 'rejected');
    if (refused.length) throw new Error(`push refused: ${refused[0].reason}`);
  }
}

try {
  await waitForHealth(origin, server, () => output);
  const t0 = performance.now();
  const admin = client();
  await admin('POST', '/api/auth/signup', {
    name: 'Admin',
    email: 'admin@bench.org',
    password: 'correct horse battery',
  });
  const teams = [];
  for (let t = 0; t < TEAMS; t++)
    teams.push(await admin('POST', '/api/admin/teams', { name: `Team ${t + 1}` }));
  const enrol = async (teamId, role, i) => {
    const { code } = await admin('POST', '/api/admin/invitations', { teamId, role });
    const call = client();
    await call('POST', '/api/auth/signup', {
      name: `${role} ${i}`,
      email: `${role}-${i}@bench.org`,
      password: 'a long field password',
      invitationCode: code,
    });
    return call;
  };
  const clinicians = [];
  for (const [t, team] of teams.entries())
    for (let c = 0; c < CLINICIANS_PER_TEAM; c++)
      clinicians.push({ team, call: await enrol(team.id, 'clinician', `${t}-${c}`) });
  const supervisor = await enrol(teams[0].id, 'supervisor', 0);
  // The supervisor of team 1 also supervises the others (5 teams on one desk).
  const supUser = (await admin('GET', '/api/admin/users')).users.find(
    (u) => u.email === 'supervisor-0@bench.org',
  );
  for (const team of teams.slice(1))
    await admin('POST', `/api/admin/teams/${team.id}/members`, {
      userId: supUser.id,
      role: 'supervisor',
    });

  const perClinician = Math.ceil(REPORTS / clinicians.length);
  const reportsByTeam = new Map();
  for (const { team, call } of clinicians) {
    const records = [];
    for (let i = 0; i < perClinician; i++) {
      const sharedAt = new Date(Date.now() - rnd() * 80 * 86_400_000).toISOString();
      const rows = clinicalCase(team.id, sharedAt);
      records.push(...rows);
      const report = rows[rows.length - 1][1];
      const list = reportsByTeam.get(team.id) ?? [];
      list.push(report);
      reportsByTeam.set(team.id, list);
    }
    await push(call, records);
  }
  const all = [...reportsByTeam.values()].flat();
  const reviews = all.slice(0, REVIEWS).map((r) => [
    'reviews',
    {
      ...meta(r.teamId),
      reportId: r.id,
      revision: 1,
      decision: rnd() < 0.8 ? 'approved' : 'returned',
      comment: 'Checked.',
      verdicts: [
        { diagnosisId: r.diagnosisIds[0], verdict: pick(['right', 'right', 'wrong', 'cant_tell']) },
      ],
      createdAt: new Date().toISOString(),
    },
  ]);
  await push(supervisor, reviews);
  const seedSeconds = (performance.now() - t0) / 1000;
  console.log(
    `seeded ${all.length} reports, ${reviews.length} reviews in ${seedSeconds.toFixed(0)} s`,
  );

  const BENCH_PIN = '135790';
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('Email').fill('supervisor-0@bench.org');
  await page.getByLabel('Password').fill('a long field password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Encryption at rest: the first sign-in on a device sets its PIN; every page load starts locked.
  await page.getByLabel('PIN', { exact: true }).fill(BENCH_PIN);
  await page.getByLabel('Confirm PIN').fill(BENCH_PIN);
  await page.getByRole('button', { name: 'Set PIN' }).click();
  await page.getByRole('link', { name: 'Dashboard' }).waitFor();
  const chartsDrawn = () =>
    page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll('[data-drawn]')];
        return charts.length >= 5 && charts.every((c) => c.getAttribute('data-drawn') === 'true');
      },
      undefined,
      { timeout: 60_000 },
    );

  // Dashboard: from a click on Dashboard in the menu to every chart drawn (how a supervisor opens
  // it in the app), each round from Home.
  const dashboard = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.getByRole('link', { name: 'Home' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    const start = await page.evaluate(() => performance.now());
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await chartsDrawn();
    dashboard.push((await page.evaluate(() => performance.now())) - start);
  }
  // And a full page load of /dashboard, the PIN entered when asked: from navigation start.
  const dashboardLoad = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.goto('/dashboard');
    await page.getByLabel('PIN', { exact: true }).fill(BENCH_PIN);
    await page.getByRole('button', { name: 'Unlock', exact: true }).click();
    await chartsDrawn();
    dashboardLoad.push(await page.evaluate(() => performance.now()));
  }
  // The last round's requests (start and end, ms from navigation start): waterfalls show here.
  const timeline = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => !e.name.includes('/_app/immutable/') || e.duration > 20)
      .map((e) => ({
        name: e.name.replace(location.origin, ''),
        start: Math.round(e.startTime),
        end: Math.round(e.responseEnd),
      })),
  );
  const charts = await page.locator('[data-drawn]').count();
  // How much of that is the server's answer (the same request, from the page).
  const dashboardApi = [];
  for (let i = 0; i < ROUNDS; i++) {
    dashboardApi.push(
      await page.evaluate(async () => {
        const start = performance.now();
        await (await fetch('/api/review/dashboard')).json();
        return performance.now() - start;
      }),
    );
  }

  // Review page: from a click on a report in the queue to its page with every result shown.
  await page.goto('/review?sort=priority');
  await page.getByLabel('PIN', { exact: true }).fill(BENCH_PIN);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  await page.locator('tbody a').first().waitFor();
  const review = [];
  for (let i = 0; i < ROUNDS * 2; i++) {
    const link = page.locator('tbody a').nth(i);
    await link.waitFor();
    const start = await page.evaluate(() => performance.now());
    await link.click();
    await page.getByRole('heading', { name: 'Your review of revision' }).first().waitFor();
    await page.locator('[aria-label^="Model result:"]').first().waitFor();
    review.push((await page.evaluate(() => performance.now())) - start);
    await page.goBack();
    await page
      .locator('tbody a')
      .nth(i + 1)
      .waitFor();
  }
  await browser.close();

  const result = {
    reports: all.length,
    reviews: reviews.length,
    teams: TEAMS,
    clinicians: clinicians.length,
    seedSeconds: Math.round(seedSeconds),
    dashboardFirstRenderMs: {
      median: round(median(dashboard)),
      p95: round(p95(dashboard)),
      charts,
      rounds: dashboard.map(round),
      timeline,
    },
    dashboardPageLoadWithUnlockMs: {
      median: round(median(dashboardLoad)),
      p95: round(p95(dashboardLoad)),
    },
    dashboardApiMs: { median: round(median(dashboardApi)), p95: round(p95(dashboardApi)) },
    reviewPageOpenMs: {
      median: round(median(review)),
      p95: round(p95(review)),
      rounds: review.map(round),
    },
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results/review-ui.json'), JSON.stringify(result, null, 2));
  console.log(
    `dashboard first render (${charts} charts): median ${result.dashboardFirstRenderMs.median} ms, p95 ${result.dashboardFirstRenderMs.p95} ms (its API call: median ${result.dashboardApiMs.median} ms; a full page load with the PIN: median ${result.dashboardPageLoadWithUnlockMs.median} ms); ` +
      `review page open: median ${result.reviewPageOpenMs.median} ms, p95 ${result.reviewPageOpenMs.p95} ms`,
  );
} catch (error) {
  console.error(`server output:\n${output}`);
  throw error;
} finally {
  await stopServer(server);
  rmSync(dataDir, { recursive: true, force: true });
}
