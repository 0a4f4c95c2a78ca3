// What the benchmarks share to run the real sync server: a free port, starting it, waiting for it to
// answer, stopping it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * Resolves once `${origin}/api/health` answers OK; throws with the server's output when the
 * process exits first or 60 s pass. `output()` returns what the process printed so far.
 */
export async function waitForHealth(origin, child, output = () => '') {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`the server exited (${child.exitCode}):\n${output()}`);
    const ok = await fetch(`${origin}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (i > 600) throw new Error(`the server did not answer /api/health in 60 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops a server started with `detached: true` (its own process group: tsx and the node process
 * it starts): SIGTERM, then SIGKILL after 5 s. A process already gone is fine.
 */
export async function stopServer(child) {
  const running = () => child.exitCode === null && child.signalCode === null;
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch (error) {
      if (error.code !== 'ESRCH') throw error;
    }
  };
  if (!running()) return;
  const exited = once(child, 'exit');
  signal('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (running()) signal('SIGKILL');
}

/**
 * Starts the real sync server (node itself with tsx's loader, so `child.pid` is the server's own
 * process) in its own process group, serving `wwwDir`; wait for it with waitForHealth. Returned
 * at once, so a caller can stop a server that never answers. `output()` is the last 20 KB it printed.
 */
export function spawnSyncServer({ serverDir, port, origin, dataDir, wwwDir }) {
  // BENCH_SERVER_CPU_PROFILE=<folder>: the server writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_SERVER_CPU_PROFILE;
  const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', 'src/index.ts'], {
    cwd: serverDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'warn',
      WEB_DIR: wwwDir,
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let printed = '';
  const keep = (d) => (printed = (printed + d).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => printed };
}
