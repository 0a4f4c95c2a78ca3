import { defineConfig } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One free port and one empty data folder per run, decided once: workers inherit this env.
process.env.E2E_PORT ??= spawnSync(process.execPath, [
  '-e',
  "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
])
  .stdout.toString()
  .trim();
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'fielddx-e2e-'));

const port = process.env.E2E_PORT;
const origin = `http://localhost:${port}`;
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: origin,
    browserName: 'chromium',
    // The app follows the browser's language: the specs read English unless one asks for another.
    locale: 'en-US',
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  // accounts.spec.ts signs up the very first account of the empty server (it becomes admin), so it
  // runs before every other spec, whatever their names.
  projects: [
    { name: 'first-account', testMatch: /accounts\.spec\.ts$/ },
    { name: 'app', testIgnore: /accounts\.spec\.ts$/, dependencies: ['first-account'] },
  ],
  webServer: {
    // The real server serving the built app (pnpm test builds it first), as a user runs it; with
    // E2E_INSTANCES=n, n server processes on one data folder behind a round-robin proxy.
    command: process.env.E2E_INSTANCES ? 'npx tsx test/serve-cluster.ts' : 'npx tsx src/index.ts',
    cwd: '../sync-server',
    url: `${origin}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    // SIGTERM first, so that serve-cluster stops its instances and its PostgreSQL (E2E_DB).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: {
      PORT: port,
      DATA_DIR: process.env.E2E_DATA_DIR,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'warn',
      INSTANCES: process.env.E2E_INSTANCES ?? '1',
    },
  },
});
