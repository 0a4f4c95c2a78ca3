// `pnpm test`: what the suites need first (Chromium, the training Python, the dependencies), then
// every check and every suite, in order, even after a failure, then one totals line
// "N passed, N failed" (static checks count one each). Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installDependencies } from './install.mjs';
import { ensureTestPrerequisites } from './prerequisites.mjs';

const root = new URL('..', import.meta.url).pathname;
const results = join(root, 'test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const totals = { passed: 0, failed: 0 };
const summary = [];

function run(command, args, env = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return result.status === 0;
}

function record(name, passed, failed) {
  totals.passed += passed;
  totals.failed += failed;
  summary.push(`${name}: ${passed} passed, ${failed} failed`);
}

function step(name, command, args) {
  console.log(`\n=== ${name} ===`);
  const ok = run(command, args);
  record(name, ok ? 1 : 0, ok ? 0 : 1);
  return ok;
}

/** Runs a suite that writes a report file; a crash that leaves no report counts as one failure. */
function suite(name, command, args, env, countFromReport) {
  console.log(`\n=== ${name} ===`);
  const ok = run(command, args, env);
  let counts;
  try {
    counts = countFromReport();
  } catch {
    counts = { passed: 0, failed: 1 };
  }
  if (!ok && counts.failed === 0) counts.failed = 1;
  record(name, counts.passed, counts.failed);
}

const readJson = (file) => JSON.parse(readFileSync(join(results, file), 'utf8'));

/** Stops before any suite ran: one line saying why, then the totals line. */
function stop(why) {
  console.error(why);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const prerequisites = ensureTestPrerequisites();
if (prerequisites.error) stop(prerequisites.error);
console.log(`Chromium: ${prerequisites.chromium}; training Python: ${prerequisites.python}`);
if (!installDependencies()) stop('Installing the dependencies failed (see above).');

step('typecheck sync-server', 'pnpm', ['--filter', 'sync-server', 'check']);
step('typecheck web (svelte-check)', 'pnpm', ['--filter', 'web', 'check']);
step('eslint', 'pnpm', ['exec', 'eslint', '.']);
step('prettier', 'pnpm', ['exec', 'prettier', '--check', '.']);

suite(
  'vitest',
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${join(results, 'vitest.json')}`,
  ],
  {},
  () => {
    const report = readJson('vitest.json');
    return { passed: report.numPassedTests, failed: report.numFailedTests };
  },
);

if (existsSync(join(root, 'training/tests'))) {
  suite(
    'training (pytest)',
    prerequisites.python,
    ['-m', 'pytest', 'training/tests', '-q', `--junitxml=${join(results, 'pytest.xml')}`],
    {},
    () => {
      const xml = readFileSync(join(results, 'pytest.xml'), 'utf8');
      const attr = (name) =>
        Number(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`).exec(xml)?.[1] ?? 0);
      const failed = attr('failures') + attr('errors');
      return { passed: attr('tests') - failed - attr('skipped'), failed };
    },
  );
}

if (step('build web', 'pnpm', ['--filter', 'web', 'build'])) {
  suite(
    'playwright',
    'pnpm',
    ['--filter', 'web', 'exec', 'playwright', 'test', '--reporter=list,json'],
    {
      PLAYWRIGHT_JSON_OUTPUT_NAME: join(results, 'playwright.json'),
      CHROMIUM_PATH: prerequisites.chromium,
    },
    () => {
      const { stats } = readJson('playwright.json');
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected };
    },
  );
  // The two-tablet test again, with two server processes on one PostgreSQL database behind a
  // round-robin proxy (sync-server/test/serve-cluster.ts): any instance serves any request.
  suite(
    'playwright, two instances on PostgreSQL behind a proxy',
    'pnpm',
    [
      '--filter',
      'web',
      'exec',
      'playwright',
      'test',
      '--project',
      'app',
      '--no-deps',
      'tests/e2e/sync.spec.ts',
      '--reporter=list,json',
    ],
    {
      PLAYWRIGHT_JSON_OUTPUT_NAME: join(results, 'playwright-instances.json'),
      CHROMIUM_PATH: prerequisites.chromium,
      E2E_INSTANCES: '2',
      E2E_DB: 'postgres',
    },
    () => {
      const { stats } = readJson('playwright-instances.json');
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected };
    },
  );
}

console.log('\n=== summary ===');
for (const line of summary) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 ? 1 : 0);
