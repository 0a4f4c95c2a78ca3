// What the benchmarks share to run the real sync server: a free port, and waiting for it to answer.
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
