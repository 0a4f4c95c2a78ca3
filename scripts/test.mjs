// `pnpm test`: every check and every suite, in order, even after a failure, then one totals line
// "N passed, N failed" (static checks count one each). Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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

function pythonForTraining() {
  const candidates = [process.env.FIELDDX_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  return candidates.find(
    (python) => spawnSync(python, ['-c', 'import torch, sklearn, onnx, yaml, pytest']).status === 0,
  );
}

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
  const python = pythonForTraining();
  if (python) {
    suite(
      'training (pytest)',
      python,
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
  } else {
    console.error(
      '\n=== training (pytest) ===\nNo Python with torch, scikit-learn, onnx, yaml and pytest found.\n' +
        'On Debian: apt-get install -y python3-torch python3-sklearn python3-yaml python3-onnx python3-pytest',
    );
    record('training (pytest)', 0, 1);
  }
}

if (step('build web', 'pnpm', ['--filter', 'web', 'build'])) {
  suite(
    'playwright',
    'pnpm',
    ['--filter', 'web', 'exec', 'playwright', 'test', '--reporter=list,json'],
    { PLAYWRIGHT_JSON_OUTPUT_NAME: join(results, 'playwright.json') },
    () => {
      const { stats } = readJson('playwright.json');
      return { passed: stats.expected + stats.flaky, failed: stats.unexpected };
    },
  );
}

console.log('\n=== summary ===');
for (const line of summary) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 ? 1 : 0);
