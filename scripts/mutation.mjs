#!/usr/bin/env node
// Mutation testing of the sync and auth code (StrykerJS + its Vitest runner), one area at a time,
// each against the test files that exercise it. Not part of `pnpm test`: it takes a long while.
//
//   pnpm mutation                 every area
//   pnpm mutation merge scope     some areas (sync-device, sync-push, sync-pull: parts of sync.ts;
//                                sync-teams: how SQLite reads the caller's teams;
//                                web-lost-edit: rebase.ts and the guards in apply.ts; web-transport,
//                                web-engine, web-apply: the other parts of web/src/lib/sync)
//   MUTATION_CONCURRENCY=2 pnpm mutation web-sync
//   pnpm mutation --report        the scores of the areas already run
//
// Scores per file are printed at the end and written to reports/mutation/summary.json; the HTML
// and JSON reports of each area are under reports/mutation/<area>/. docs/mutation-testing.md says
// what the surviving mutants are.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'reports', 'mutation');

const server = (files) => files.map((f) => `src/${f}`).join(',');
const web = (files) => files.map((f) => `src/lib/sync/${f}`).join(',');

const webSyncTests = web([
  'apply.test.ts',
  'backoff.test.ts',
  'failures.test.ts',
  'locked.test.ts',
  'lost-edit.test.ts',
  'membership.test.ts',
  'no-echo.test.ts',
  'pages.test.ts',
  'progress.test.ts',
  'sync.test.ts',
  'sync.property.test.ts',
  'transport.test.ts',
]);

const syncTests = server([
  'services/scope.test.ts',
  'routes/sync.test.ts',
  'routes/sync.echo.test.ts',
  'routes/sync.limits.test.ts',
  // U+0000 refused per record, on plain and gzip-encoded pushes (the body check skips the walk).
  'routes/nul.test.ts',
  'routes/sync.gzip.test.ts',
  'routes/leaks.test.ts',
  'routes/review-sync.test.ts',
  // The review statistics a write updates (afterWrite: an encounter counted once, when created).
  'routes/review-dashboard.test.ts',
  'sync.property.test.ts',
]);

/** Each area: what is mutated, and the tests (relative to their package) that must kill it. */
const AREAS = {
  merge: {
    mutate: ['sync-server/src/services/merge.ts'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: server(['services/merge.test.ts', 'routes/sync.test.ts', 'sync.property.test.ts']),
  },
  scope: {
    mutate: ['sync-server/src/services/scope.ts'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: server([
      'services/scope.test.ts',
      'scope.property.test.ts',
      'routes/sync.test.ts',
      'routes/review-sync.test.ts',
      'routes/leaks.test.ts',
    ]),
  },
  sync: {
    mutate: ['sync-server/src/services/sync.ts'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: syncTests,
  },
  // sync.ts in parts, for shorter runs: the device binding, push with its per-mutation merge, and
  // pull (the conflict listing only by the whole-file area; the SQL itself is in repositories/).
  'sync-device': {
    mutate: ['sync-server/src/services/sync.ts:61-137'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: syncTests,
  },
  'sync-push': {
    mutate: ['sync-server/src/services/sync.ts:138-543'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: syncTests,
  },
  'sync-pull': {
    mutate: ['sync-server/src/services/sync.ts:544-671'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: syncTests,
  },
  // What a pull, its count and the cursor advance read on SQLite: one arm per team.
  'sync-teams': {
    mutate: ['sync-server/src/repositories/sqlite/team-changes.ts'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: server([
      'repositories/team-changes.test.ts',
      'routes/sync.echo.test.ts',
      'routes/sync.remaining.test.ts',
      'sync.property.test.ts',
    ]),
  },
  auth: {
    mutate: ['sync-server/src/auth/**/*.ts', '!sync-server/src/auth/**/*.test.ts'],
    config: 'sync-server/vitest.mutation.config.ts',
    tests: server([
      'auth/attempt-limiter.test.ts',
      'auth/middleware.test.ts',
      'auth/password.test.ts',
      'auth/rate-limit.test.ts',
      'auth/session.test.ts',
      'routes/auth.test.ts',
      'routes/auth.limits.test.ts',
      'routes/request-security.test.ts',
      'routes/request-security.routes.test.ts',
      'instances.test.ts',
    ]),
  },
  // The device's lost-edit guards only (rebase, a pull's skip of pending or older records, the
  // recording of push answers): a run that fits where the whole engine's does not.
  'web-lost-edit': {
    mutate: [
      'web/src/lib/sync/rebase.ts',
      'web/src/lib/sync/apply.ts:112-164',
      'web/src/lib/sync/apply.ts:219-385',
    ],
    config: 'web/vitest.mutation.config.ts',
    tests: web([
      'apply.test.ts',
      'failures.test.ts',
      'lost-edit.test.ts',
      'sync.test.ts',
      'sync.property.test.ts',
    ]),
  },
  'web-sync': {
    mutate: [
      'web/src/lib/sync/**/*.ts',
      '!web/src/lib/sync/**/*.test.ts',
      '!web/src/lib/sync/test-server.ts',
      // Stryker's instrumentation wraps `$state(...)` in expressions the Svelte compiler refuses;
      // failures.test.ts was checked against hand-made mutants of it instead.
      '!web/src/lib/sync/status.svelte.ts',
    ],
    config: 'web/vitest.mutation.config.ts',
    tests: webSyncTests,
  },
  // web-sync in parts that each fit in a shorter run (with web-lost-edit they cover all of it):
  // the transport, back-off, conflict resolution and pull queue; the engine; the rest of apply.ts.
  'web-transport': {
    mutate: ['transport.ts', 'backoff.ts', 'resolve.ts', 'pages.ts'].map(
      (f) => `web/src/lib/sync/${f}`,
    ),
    config: 'web/vitest.mutation.config.ts',
    tests: webSyncTests,
  },
  'web-engine': {
    mutate: ['web/src/lib/sync/engine.ts'],
    config: 'web/vitest.mutation.config.ts',
    tests: webSyncTests,
  },
  // apply.ts outside web-lost-edit: storing server records, where patients sort, the reset.
  'web-apply': {
    mutate: ['web/src/lib/sync/apply.ts:1-111', 'web/src/lib/sync/apply.ts:165-218'],
    config: 'web/vitest.mutation.config.ts',
    tests: webSyncTests,
  },
};

/** Parts of the areas above, for shorter runs: not run by a plain `pnpm mutation`. */
const PARTS = new Set([
  'sync-device',
  'sync-push',
  'sync-pull',
  'web-lost-edit',
  'web-transport',
  'web-engine',
  'web-apply',
]);

// `--report`: no run; the scores of the areas already run, from their reports.
const reportOnly = process.argv[2] === '--report';
const wanted = reportOnly ? [] : process.argv.slice(2);
for (const name of wanted) {
  if (!(name in AREAS)) {
    console.error(`Unknown area "${name}". Areas: ${Object.keys(AREAS).join(', ')}`);
    process.exit(2);
  }
}
const areas = reportOnly
  ? []
  : wanted.length
    ? wanted
    : Object.keys(AREAS).filter((a) => !PARTS.has(a));
const concurrency = Number(process.env.MUTATION_CONCURRENCY ?? 2);

const summary = existingSummary();
let failed = false;
for (const name of areas) {
  const area = AREAS[name];
  const dir = path.join(OUT, name);
  mkdirSync(dir, { recursive: true });
  const config = {
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: area.config, related: false },
    mutate: area.mutate,
    coverageAnalysis: 'perTest',
    concurrency,
    reporters: ['clear-text', 'json', 'html', 'progress-append-only'],
    jsonReporter: { fileName: path.relative(ROOT, path.join(dir, 'mutation.json')) },
    htmlReporter: { fileName: path.relative(ROOT, path.join(dir, 'mutation.html')) },
    clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
    tempDirName: `.stryker-tmp/${name}`,
    ignorePatterns: [
      'training',
      'models',
      'docs',
      'web/tests',
      'web/bench',
      'reports',
      '.stryker-tmp',
      // Git-ignored, so Stryker would leave it out, but Vite needs it for web/tsconfig.json.
      '!web/.svelte-kit',
    ],
    cleanTempDir: 'always',
    timeoutMS: Number(process.env.MUTATION_TIMEOUT_MS ?? 20_000),
    // A tighter threshold would only fail the run; the scores are reported and the survivors explained.
    thresholds: { high: 90, low: 75, break: null },
  };
  const configFile = path.join(dir, 'stryker.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  console.log(`\n=== ${name}: ${area.mutate.join(' ')} ===`);
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', path.relative(ROOT, configFile)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      MUTATION_TESTS: area.tests,
      // The property tests run fewer worlds per mutant; their full runs are in `pnpm test`.
      SYNC_PROPERTY_RUNS: process.env.SYNC_PROPERTY_RUNS ?? '30',
      SCOPE_RUNS: process.env.SCOPE_RUNS ?? '4',
      // A fixed seed whose 4 worlds reach every path the web property test checks it reached (with
      // 3 random worlds that check failed about half the time, and Stryker refuses a red dry run).
      WEB_SYNC_PROPERTY_RUNS: process.env.WEB_SYNC_PROPERTY_RUNS ?? '4',
      WEB_SYNC_PROPERTY_SEED: process.env.WEB_SYNC_PROPERTY_SEED ?? '1',
    },
  });
  if (run.status !== 0) {
    console.error(`Stryker failed for ${name} (exit ${run.status})`);
    failed = true;
    continue;
  }
  // Re-read: another area may have finished meanwhile (areas can run in parallel processes).
  Object.assign(summary, existingSummary(), {
    [name]: { minutes: +((Date.now() - started) / 60_000).toFixed(1), files: scores(dir) },
  });
  writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));
}

if (reportOnly) {
  for (const name of Object.keys(AREAS)) {
    const dir = path.join(OUT, name);
    if (!summary[name] && existsSync(path.join(dir, 'mutation.json')))
      summary[name] = { minutes: null, files: scores(dir) };
  }
  writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));
}

console.log('\nMutation score (killed + timeout) / (killed + timeout + survived + no coverage):');
for (const [name, { minutes, files }] of Object.entries(summary)) {
  for (const [file, s] of Object.entries(files)) {
    console.log(
      `${name.padEnd(9)} ${file.padEnd(46)} ${String(s.score).padStart(6)}%  ` +
        `killed ${s.killed}, timeout ${s.timeout}, survived ${s.survived}, no coverage ${s.noCoverage}` +
        ` (${minutes} min for the area)`,
    );
  }
}
process.exit(failed ? 1 : 0);

function scores(dir) {
  const report = JSON.parse(readFileSync(path.join(dir, 'mutation.json'), 'utf8'));
  const out = {};
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const n = (status) => mutants.filter((m) => m.status === status).length;
    const s = {
      killed: n('Killed'),
      timeout: n('Timeout'),
      survived: n('Survived'),
      noCoverage: n('NoCoverage'),
      errors: n('CompileError') + n('RuntimeError'),
    };
    const detected = s.killed + s.timeout;
    const valid = detected + s.survived + s.noCoverage;
    s.score = valid ? +((100 * detected) / valid).toFixed(1) : null;
    out[path.relative(ROOT, path.resolve(ROOT, file))] = s;
  }
  return out;
}

function existingSummary() {
  try {
    return JSON.parse(readFileSync(path.join(OUT, 'summary.json'), 'utf8'));
  } catch {
    return {};
  }
}
