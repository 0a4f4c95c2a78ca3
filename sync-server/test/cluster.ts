import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/test-utils';

/**
 * Real server processes (`tsx src/index.ts`) for tests and benchmarks that need more than one
 * app in one process can show: several instances on one data folder, a SIGKILL in the middle of
 * a request, a restart on the same data.
 */

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface InstanceOptions {
  dataDir: string;
  /** The address users type; every instance of a cluster answers for the same one. */
  publicOrigin?: string;
  /** Extra environment (DATABASE_URL, TRUST_PROXY, …). */
  env?: Record<string, string>;
  /** Serve the built web app (web/build); off by default, as API tests need none. */
  serveWeb?: boolean;
  /** What the instance prints: LOG_LEVEL (silent by default) and where it goes. */
  logLevel?: string;
}

export class ServerInstance {
  private proc: ChildProcess | null = null;
  private stderr = '';
  readonly origin: string;

  private constructor(
    readonly port: number,
    private readonly options: InstanceOptions,
  ) {
    this.origin = `http://127.0.0.1:${port}`;
  }

  /** Starts a server on a free port and waits until /api/health answers. */
  static async start(options: InstanceOptions): Promise<ServerInstance> {
    const instance = new ServerInstance(await freePort(), options);
    await instance.restart();
    return instance;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** (Re)starts the process on the same port and data; resolves once it answers. */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`instance on ${this.port} is already running`);
    this.stderr = '';
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: SERVER_DIR,
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.options.dataDir,
        PUBLIC_ORIGIN: this.options.publicOrigin ?? this.origin,
        LOG_LEVEL: this.options.logLevel ?? 'silent',
        ...(this.options.serveWeb ? {} : { WEB_DIR: '/nonexistent/fielddx-web-build' }),
        ...this.options.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d) => (this.stderr += d));
    this.proc = proc;
    const t0 = Date.now();
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`server exited early:\n${this.stderr}`);
      try {
        if ((await fetch(`${this.origin}/api/health`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - t0 > 60_000) throw new Error(`no health after 60 s:\n${this.stderr}`);
      await sleep(20);
    }
  }

  /** Sends the signal and waits for the process to end (SIGKILL: no shutdown code runs). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  }
}

/** n instances on one data folder, started one after the other (the first applies migrations). */
export async function startCluster(n: number, options: InstanceOptions): Promise<ServerInstance[]> {
  const instances: ServerInstance[] = [];
  try {
    for (let i = 0; i < n; i++) instances.push(await ServerInstance.start(options));
  } catch (err) {
    await Promise.all(instances.map((s) => s.stop('SIGKILL')));
    throw err;
  }
  return instances;
}
