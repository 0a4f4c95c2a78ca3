// Lighthouse (performance, accessibility, best practices) on the built app served by the real sync
// server, in tablet emulation, in English, French and Portuguese (issue 16). Expects web/build
// (`pnpm build`; `pnpm bench:lighthouse` builds first). Writes bench-results/lighthouse.json.
//
// Encryption at rest makes every page load start locked, so a plain Lighthouse navigation of an
// in-app URL only ever sees the PIN screen. Each in-app page is therefore measured twice, in the
// same browser (Playwright launches the system Chromium with a remote debugging port; Lighthouse
// drives the same page through it, with disableStorageReset so IndexedDB and the session survive):
//   - navigation mode: a load of the page's URL, up to the PIN screen (the service worker already
//     installed: a returning user's load). Performance comes from this run only.
//   - snapshot mode: after Playwright enters the PIN and the page shows its content (or a model's
//     result), the page as the user sees it: accessibility and best practices of that state.
// The sign-in page is one cold navigation (fresh profile, storage reset) in the browser's language.
// Lighthouse's default simulated throttling (mobile: slow 4G, 4x CPU) is used throughout.
//
// Options: --langs en,fr,pt  --pages signin,patients,visit,diagnosis,diagnose,dashboard
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnSyncServer, stopServer, waitForHealth } from './server.mjs';

const root = new URL('../..', import.meta.url).pathname;
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('@playwright/test');
const lighthouseDir = realpathSync(join(root, 'web/node_modules/lighthouse'));
const { navigation, snapshot } = await import(join(lighthouseDir, 'core/index.js'));
const puppeteer = createRequire(join(lighthouseDir, 'package.json'))('puppeteer-core');

/** The app's messages in a language: the bench finds buttons by the words the user reads. */
const messages = (lang) =>
  JSON.parse(readFileSync(join(root, `web/messages/${lang}.json`), 'utf8'));
const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1].split(',');
};
const LANGS = option('--langs', ['en', 'fr', 'pt']);
const PAGES = option('--pages', [
  'signin',
  'patients',
  'visit',
  'diagnosis',
  'diagnose',
  'dashboard',
]);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PIN = '135790';
const PASSWORD = 'a long field password';
const TARGETS = { performance: 90, accessibility: 95, 'best-practices': 95 };

if (!existsSync(join(root, 'web/build/index.html'))) {
  console.error('web/build is missing: run `pnpm build` first (or `pnpm bench:lighthouse`).');
  process.exit(1);
}

// A tablet: 800 x 1280 CSS pixels at 2x, touch, a tablet's user agent (no "Mobile").
const TABLET = { width: 800, height: 1280, deviceScaleFactor: 2, mobile: true };
const TABLET_UA =
  'Mozilla/5.0 (Linux; Android 14; SM-X210) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/140.0.0.0 Safari/537.36';
const settings = (extra = {}) => ({
  formFactor: 'mobile',
  screenEmulation: { ...TABLET, disabled: false },
  emulatedUserAgent: TABLET_UA,
  throttlingMethod: 'simulate',
  // Nothing may leave this machine: Lighthouse's bundled config needs no network of its own.
  ...extra,
});

const port = await freePort();
const origin = `http://localhost:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'fielddx-lighthouse-'));
const profiles = [];
const server = spawnSyncServer({
  serverDir: join(root, 'sync-server'),
  port,
  origin,
  dataDir,
  wwwDir: join(root, 'web/build'),
});

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

let counter = 0;
const newId = () => `0193c000-0000-7000-8000-${(++counter).toString(16).padStart(12, '0')}`;
const meta = (teamId) => ({
  id: newId(),
  teamId,
  version: 0,
  updatedAt: new Date().toISOString(),
  updatedBy: 'bench',
  deleted: false,
});
const GIVEN = ['Amina', 'Moussa', 'Awa', 'Seydou', 'Fatou', 'Bakary', 'Kofi', 'Abena'];
const FAMILY = ['Traoré', 'Diarra', 'Coulibaly', 'Keita', 'Sanogo', 'Konaté', 'Mensah'];

/** A patient, a visit, a model result on it and a shared report: what a clinician's day leaves. */
function clinicalCase(teamId, i) {
  const sharedAt = new Date(Date.now() - (i % 60) * 86_400_000).toISOString();
  const p = {
    ...meta(teamId),
    givenName: GIVEN[i % GIVEN.length],
    familyName: FAMILY[(i * 3) % FAMILY.length],
    sex: i % 2 ? 'female' : 'male',
    birthDate: `${1950 + (i % 60)}-0${1 + (i % 9)}-1${i % 9}`,
    birthDateEstimated: false,
    village: `Village ${1 + (i % 12)}`,
    phone: '',
    identifiers: [],
  };
  const e = {
    ...meta(teamId),
    patientId: p.id,
    date: sharedAt.slice(0, 10),
    complaint: 'Cough and fever',
    vitals: {
      temperatureC: 38.4,
      pulseBpm: 96,
      respiratoryRate: 24,
      spo2: 95,
      systolicBp: 120,
      diastolicBp: 80,
      weightKg: 60,
      heightCm: 165,
      muacMm: null,
    },
    symptoms: ['Cough'],
    notes: '',
  };
  const pd = (i % 10) / 10;
  const d = {
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
    assessment: { verdict: 'agree', note: '', at: sharedAt, by: 'bench' },
  };
  const r = {
    ...meta(teamId),
    patientId: p.id,
    encounterId: e.id,
    diagnosisIds: [d.id],
    summary: 'Productive cough for two weeks, febrile.',
    plan: 'Amoxicillin, review in 3 days.',
    status: 'shared',
    authorName: 'Clinician',
    sharedAt,
  };
  return [
    ['patients', p],
    ['encounters', e],
    ['diagnoses', d],
    ['reports', r],
  ];
}

async function push(call, records) {
  const mutations = records.map(([table, data]) => ({
    mutationId: newId(),
    table,
    id: data.id,
    baseVersion: 0,
    op: 'put',
    data,
  }));
  const { results } = await call('POST', '/api/sync/push', {
    deviceId: 'lighthouse-seed',
    mutations,
  });
  const refused = results.filter((r) => r.status === 'rejected');
  if (refused.length) throw new Error(`push refused: ${refused[0].reason}`);
}

/** Admin, a team, a clinician with 40 shared cases, a supervisor of the team. */
async function seed() {
  const admin = client();
  await admin('POST', '/api/auth/signup', {
    name: 'Admin',
    email: 'admin@bench.org',
    password: 'correct horse battery',
  });
  const team = await admin('POST', '/api/admin/teams', { name: 'Northern district' });
  const enrol = async (role) => {
    const { code } = await admin('POST', '/api/admin/invitations', { teamId: team.id, role });
    const call = client();
    await call('POST', '/api/auth/signup', {
      name: role === 'clinician' ? 'Awa Clinician' : 'Sami Supervisor',
      email: `${role}@bench.org`,
      password: PASSWORD,
      invitationCode: code,
    });
    return call;
  };
  const clinician = await enrol('clinician');
  await enrol('supervisor');
  const records = [];
  for (let i = 0; i < 40; i++) records.push(...clinicalCase(team.id, i));
  await push(clinician, records);
  const first = (table) => records.find(([t]) => t === table)[1];
  return {
    patient: first('patients'),
    encounter: first('encounters'),
    diagnosis: first('diagnoses'),
  };
}

/**
 * The system Chromium with a remote debugging port, as a persistent profile (so the page Lighthouse
 * audits shares IndexedDB, localStorage and cookies with the one Playwright signed in), and the
 * same browser seen through puppeteer, which is how Lighthouse drives a page.
 */
async function openBrowser(lang) {
  const debugPort = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'fielddx-lighthouse-profile-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    baseURL: origin,
    locale: lang,
    viewport: { width: TABLET.width, height: TABLET.height },
    deviceScaleFactor: TABLET.deviceScaleFactor,
    isMobile: true,
    hasTouch: true,
    userAgent: TABLET_UA,
    args: [
      `--remote-debugging-port=${debugPort}`,
      `--lang=${lang}`,
      `--accept-lang=${lang}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto('about:blank#lighthouse');
  const browser = await puppeteer.connect({
    browserURL: `http://127.0.0.1:${debugPort}`,
    defaultViewport: null,
  });
  const target = (await browser.pages()).find((p) => p.url().endsWith('#lighthouse'));
  if (!target) throw new Error('Lighthouse cannot see the page Playwright opened');
  return {
    context,
    page,
    lhPage: target,
    close: async () => {
      await browser.disconnect();
      await context.close();
    },
  };
}

/** The PIN screen's form, found by its inputs, in any language. */
const pinForm = (page) =>
  page.locator('main form:has(input[type="password"][inputmode="numeric"])');

async function enterPin(page) {
  const form = pinForm(page);
  await form.waitFor({ timeout: 60_000 });
  for (const input of await form.locator('input[inputmode="numeric"]').all()) await input.fill(PIN);
  await form.locator('button[type="submit"]').click();
  await form.waitFor({ state: 'detached', timeout: 60_000 });
}

async function signIn(page, email) {
  await page.goto('/signin');
  await page.locator('input[autocomplete="username"]').fill(email);
  await page.locator('input[autocomplete="current-password"]').fill(PASSWORD);
  await page.locator('form button[type="submit"]').click();
  // The first sign-in on a tablet sets its PIN.
  await enterPin(page);
  await page.getByRole('banner').waitFor();
}

const scoresOf = (lhr) =>
  Object.fromEntries(
    Object.entries(lhr.categories).map(([id, c]) => [
      id,
      c.score === null ? null : Math.round(c.score * 100),
    ]),
  );
/** Audits below full marks that count towards a score: what to fix. */
const failingOf = (lhr) =>
  Object.values(lhr.categories).flatMap((c) =>
    c.auditRefs
      .filter((ref) => ref.weight > 0)
      .map((ref) => lhr.audits[ref.id])
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative')
      .map((a) => `${c.id}/${a.id} (${a.score})${a.displayValue ? ` ${a.displayValue}` : ''}`),
  );

const results = [];
function record(lang, pageName, mode, lhr, note) {
  const row = {
    lang,
    page: pageName,
    mode,
    url: lhr.finalDisplayedUrl.replace(origin, ''),
    scores: scoresOf(lhr),
    metrics: mode === 'navigation' ? metricsOf(lhr) : undefined,
    failing: failingOf(lhr),
    runtimeError: lhr.runtimeError?.message,
    // The page's requests that left this origin: none expected (the bench must run offline).
    otherOrigins: [
      ...new Set(
        (lhr.audits['network-requests']?.details?.items ?? [])
          .map((r) => new URL(r.url).origin)
          .filter((o) => o !== origin && o.startsWith('http')),
      ),
    ],
    note,
  };
  results.push(row);
  // --lhr-dir DIR keeps each full report (Lighthouse's JSON), to see which element fails an audit.
  const dir = option('--lhr-dir', [])[0];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${lang}-${pageName}-${mode}.json`), JSON.stringify(lhr));
  }
  console.log(
    `${lang} ${pageName} [${mode}] ${JSON.stringify(row.scores)}${row.failing.length ? `\n    below full marks: ${row.failing.join('; ')}` : ''}`,
  );
}
function metricsOf(lhr) {
  const ms = (id) => Math.round(lhr.audits[id]?.numericValue ?? NaN);
  return {
    fcpMs: ms('first-contentful-paint'),
    lcpMs: ms('largest-contentful-paint'),
    tbtMs: ms('total-blocking-time'),
    cls: Math.round((lhr.audits['cumulative-layout-shift']?.numericValue ?? NaN) * 1000) / 1000,
    speedIndexMs: ms('speed-index'),
  };
}

async function audit(mode, lhPage, url, extra) {
  // A snapshot has no page load to time: performance is not scored there.
  const onlyCategories =
    mode === 'navigation'
      ? ['performance', 'accessibility', 'best-practices']
      : ['accessibility', 'best-practices'];
  const options = {
    config: { extends: 'lighthouse:default', settings: settings({ onlyCategories, ...extra }) },
    flags: { logLevel: 'error' },
  };
  for (let attempt = 1; ; attempt++) {
    const result =
      mode === 'navigation'
        ? await navigation(lhPage, url, options)
        : await snapshot(lhPage, options);
    // Under load the trace sometimes misses the navigation start (NO_NAVSTART): Lighthouse itself
    // says to run again.
    if (!result.lhr.runtimeError || attempt === 3) return result.lhr;
    console.log(`  ${result.lhr.runtimeError.code}: running that audit again`);
  }
}

try {
  await waitForHealth(origin, server.child, server.output);
  const seeded = await seed();
  console.log(`server at ${origin}; seeded 40 shared cases`);

  // Sign-in: a first visit (cold: storage reset, no service worker yet) in the browser's language.
  if (PAGES.includes('signin')) {
    for (const lang of LANGS) {
      const b = await openBrowser(lang);
      try {
        record(
          lang,
          'signin',
          'navigation',
          await audit('navigation', b.lhPage, `${origin}/signin`),
        );
      } finally {
        await b.close();
      }
    }
  }

  /** Navigation of the URL (up to the PIN screen), then the unlocked page's snapshot. */
  async function auditPage(b, lang, name, path, ready) {
    record(
      lang,
      name,
      'navigation',
      await audit('navigation', b.lhPage, `${origin}${path}`, {
        disableStorageReset: true,
      }),
      'a page load: every load starts locked, so this is the PIN screen',
    );
    await enterPin(b.page);
    await ready(b.page);
    record(
      lang,
      name,
      'snapshot',
      await audit('snapshot', b.lhPage, undefined),
      'unlocked, content shown',
    );
  }

  const clinicianPages = ['patients', 'visit', 'diagnosis', 'diagnose'].filter((p) =>
    PAGES.includes(p),
  );
  if (clinicianPages.length) {
    const b = await openBrowser('en');
    try {
      await signIn(b.page, 'clinician@bench.org');
      // The seeded cases arrive with the first sync after sign-in.
      await b.page.goto('/patients');
      await enterPin(b.page);
      await b.page
        .locator(`a[href="/patients/${seeded.patient.id}"]`)
        .waitFor({ timeout: 120_000 });
      for (const lang of LANGS) {
        await b.page.evaluate((l) => localStorage.setItem('PARAGLIDE_LOCALE', l), lang);
        if (clinicianPages.includes('patients'))
          await auditPage(b, lang, 'patients', '/patients', (page) =>
            page.locator(`a[href="/patients/${seeded.patient.id}"]`).waitFor(),
          );
        if (clinicianPages.includes('visit'))
          await auditPage(b, lang, 'visit', `/encounters/${seeded.encounter.id}`, (page) =>
            page.locator(`a[href="/diagnoses/${seeded.diagnosis.id}"]`).waitFor(),
          );
        if (clinicianPages.includes('diagnosis'))
          await auditPage(b, lang, 'diagnosis', `/diagnoses/${seeded.diagnosis.id}`, (page) =>
            page.locator('main section').first().waitFor(),
          );
        if (clinicianPages.includes('diagnose')) {
          // A model run in the page, then the page holding its result (snapshot only: a
          // navigation would reload the page and lose the result).
          await b.page.goto(
            `/diagnose?patient=${seeded.patient.id}&encounter=${seeded.encounter.id}`,
          );
          await enterPin(b.page);
          const msg = messages(lang);
          await b.page.locator('input[type="radio"][value="diabetes-risk"]').check();
          await b.page.locator('input[name="glucose"]').fill('150');
          await b.page.locator('input[name="bmi"]').fill('31');
          const run = b.page.getByRole('button', { name: msg.action_run_model, exact: true });
          const anyway = b.page.getByRole('checkbox', { name: msg.dx_run_anyway });
          // Where the app warns first (the seeded patient is outside the model's eligibility), the
          // run needs the clinician's confirmation.
          for (let i = 0; !(await run.isEnabled()) && !(await anyway.isVisible()); i++) {
            if (i > 600) throw new Error('Run model stayed disabled');
            await b.page.waitForTimeout(100);
          }
          if (await anyway.isVisible()) await anyway.check();
          await run.click();
          await b.page
            .getByRole('region', { name: msg.result_region, exact: true })
            .waitFor({ timeout: 120_000 });
          record(
            lang,
            'diagnose',
            'snapshot',
            await audit('snapshot', b.lhPage),
            'a model run in the page, its result shown',
          );
        }
      }
    } finally {
      await b.close();
    }
  }

  if (PAGES.includes('dashboard')) {
    const b = await openBrowser('en');
    try {
      await signIn(b.page, 'supervisor@bench.org');
      for (const lang of LANGS) {
        await b.page.evaluate((l) => localStorage.setItem('PARAGLIDE_LOCALE', l), lang);
        await auditPage(b, lang, 'dashboard', '/dashboard', (page) =>
          page.waitForFunction(
            () => {
              const charts = [...document.querySelectorAll('[data-drawn]')];
              return (
                charts.length > 0 && charts.every((c) => c.getAttribute('data-drawn') === 'true')
              );
            },
            undefined,
            { timeout: 60_000 },
          ),
        );
      }
    } finally {
      await b.close();
    }
  }

  const belowTarget = results.flatMap((r) =>
    Object.entries(TARGETS)
      .filter(([id, target]) => r.scores[id] != null && r.scores[id] < target)
      .map(([id, target]) => `${r.lang} ${r.page} [${r.mode}] ${id} ${r.scores[id]} < ${target}`),
  );
  const out = {
    lighthouse: createRequire(join(lighthouseDir, 'package.json'))('./package.json').version,
    chromium: CHROMIUM,
    emulation: { ...TABLET, userAgent: TABLET_UA },
    throttling: 'Lighthouse default: simulated (mobile: slow 4G, 4x CPU slowdown)',
    targets: TARGETS,
    modes: {
      navigation:
        'a load of the URL; in-app pages stop at the PIN screen (every load starts locked)',
      snapshot: 'the page after the PIN, its content or result shown (no performance score)',
    },
    results,
    belowTarget,
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results/lighthouse.json'), JSON.stringify(out, null, 2));
  console.log('\n| page | lang | mode | performance | accessibility | best practices |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const s = r.scores;
    console.log(
      `| ${r.page} | ${r.lang} | ${r.mode} | ${s.performance ?? '–'} | ${s.accessibility ?? '–'} | ${s['best-practices'] ?? '–'} |`,
    );
  }
  console.log(
    belowTarget.length ? `\nbelow target:\n${belowTarget.join('\n')}` : '\nall targets met',
  );
} catch (error) {
  console.error(`server output:\n${server.output()}`);
  throw error;
} finally {
  await stopServer(server.child);
  rmSync(dataDir, { recursive: true, force: true });
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
}
