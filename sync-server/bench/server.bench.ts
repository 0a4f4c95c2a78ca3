/**
 * Server benchmark: `pnpm --filter sync-server bench`.
 * Spawns the real server on a free port with a temporary DATA_DIR, measures cold start (spawn to the
 * first 200 from /api/health), signs up the first user, then runs autocannon against
 * GET /api/auth/me with that session for 10 s on 50 connections. Writes bench-results/server.json
 * at the repository root.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/test-utils';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = path.resolve(SERVER_DIR, '..');
const OUT_FILE = path.join(REPO_DIR, 'bench-results', 'server.json');
const CONNECTIONS = 50;
const DURATION_S = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-bench-'));
  let stderr = '';

  const started = performance.now();
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'info', // as in production: one JSON line per request (to /dev/null here)
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));

  try {
    // Cold start: spawn → first 200 from /api/health.
    let coldStartMs = 0;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`server exited early:\n${stderr}`);
      try {
        const res = await fetch(`${origin}/api/health`);
        if (res.status === 200) {
          coldStartMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 30_000) throw new Error(`no health after 30 s:\n${stderr}`);
      await sleep(10);
    }

    const signup = await fetch(`${origin}/api/auth/signup`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'bench@example.org',
        password: 'a long bench password',
        name: 'Bench',
      }),
    });
    if (signup.status !== 201) throw new Error(`signup failed: ${signup.status}`);
    const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!;

    const result = await autocannon({
      url: `${origin}/api/auth/me`,
      connections: CONNECTIONS,
      duration: DURATION_S,
      headers: { cookie },
    });

    const summary = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      coldStartMs: Math.round(coldStartMs),
      me: {
        endpoint: 'GET /api/auth/me',
        connections: CONNECTIONS,
        durationS: DURATION_S,
        requestsPerSecMean: Math.round(result.requests.mean),
        requestsTotal: result.requests.total,
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean },
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
      },
    };
    mkdirSync(path.dirname(OUT_FILE), { recursive: true });
    writeFileSync(OUT_FILE, JSON.stringify(summary, null, 2) + '\n');
    console.log(
      [
        `cold start: ${summary.coldStartMs} ms`,
        `GET /api/auth/me, ${CONNECTIONS} connections, ${DURATION_S} s: ` +
          `${summary.me.requestsPerSecMean} req/s, p50 ${summary.me.latencyMs.p50} ms, ` +
          `p99 ${summary.me.latencyMs.p99} ms, non-2xx ${summary.me.non2xx}, errors ${summary.me.errors}`,
        `written to ${path.relative(process.cwd(), OUT_FILE) || OUT_FILE}`,
      ].join('\n'),
    );
    if (summary.me.non2xx > 0 || summary.me.errors > 0) process.exitCode = 1;
  } finally {
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
