/**
 * Model catalogue update benchmark: `pnpm bench:catalogue`.
 * Spawns the real server on loopback with a temporary DATA_DIR (it imports the bundled models),
 * signs up the administrator, uploads pneumonia-cxr again as a new version (the same 1.5 MB graph
 * under version +0.0.1), activates it, then lets the app's own ModelStore (web/src/lib/inference)
 * read the catalogue, see the pending version and download, verify and keep it — in Node, with an
 * in-memory Cache Storage. Reports the time from "catalogue read" to "ready" and the bytes received,
 * median of 5 runs (each with an empty cache). Writes bench-results/catalogue.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ModelStore } from '../../web/src/lib/inference/model-store';
import { freePort } from '../src/test-utils';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = path.resolve(SERVER_DIR, '..');
const OUT_FILE = path.join(REPO_DIR, 'bench-results', 'catalogue.json');
const RUNS = 5;

/** Cache Storage in memory: what the store needs of it. */
function memoryCaches(): CacheStorage {
  const stores = new Map<string, Map<string, Response>>();
  return {
    keys: async () => [...stores.keys()],
    open: async (name: string) => {
      const store = stores.get(name) ?? new Map<string, Response>();
      stores.set(name, store);
      return {
        match: async (key: string, o?: { ignoreSearch?: boolean }) => {
          const strip = (k: string) => (o?.ignoreSearch ? k.split('?')[0] : k);
          const hit = [...store.keys()].find((k) => strip(k) === strip(key));
          return hit === undefined ? undefined : store.get(hit)!.clone();
        },
        put: async (key: string, r: Response) => void store.set(key, r.clone()),
        delete: async (key: string) => store.delete(key),
      };
    },
  } as unknown as CacheStorage;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fdx-bench-catalogue-'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`${origin}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const signup = await fetch(`${origin}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({
        email: 'admin@example.org',
        password: 'correct horse battery staple',
        name: 'Ada',
      }),
    });
    const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!;
    const manifest = JSON.parse(
      readFileSync(path.join(REPO_DIR, 'models/pneumonia-cxr/manifest.json'), 'utf8'),
    );
    const [major, minor, patch] = String(manifest.version).split('.').map(Number);
    const version = `${major}.${minor}.${patch! + 1}`;
    const form = new FormData();
    form.append('manifest', new Blob([JSON.stringify({ ...manifest, version })]), 'manifest.json');
    form.append(
      'model',
      new Blob([readFileSync(path.join(REPO_DIR, 'models/pneumonia-cxr', manifest.file))]),
    );
    if (manifest.input?.image?.check) {
      form.append(
        'check',
        new Blob([
          readFileSync(path.join(REPO_DIR, 'models/pneumonia-cxr', manifest.input.image.check)),
        ]),
      );
    }
    const up = await fetch(`${origin}/api/admin/models`, {
      method: 'POST',
      body: form,
      headers: { cookie, origin },
    });
    if (up.status !== 201) throw new Error(`upload failed: ${up.status} ${await up.text()}`);
    const act = await fetch(`${origin}/api/admin/models/pneumonia-cxr/${version}/activate`, {
      method: 'POST',
      headers: { cookie, origin },
    });
    if (!act.ok) throw new Error(`activate failed: ${act.status}`);

    const times: number[] = [];
    let received = 0;
    for (let run = 0; run < RUNS; run++) {
      received = 0;
      const counting: typeof fetch = async (input, init) => {
        const url = new URL(String(input), origin);
        const res = await fetch(url, {
          ...init,
          headers: { ...(init?.headers as object), cookie },
        });
        const body = new Uint8Array(await res.arrayBuffer());
        received += body.byteLength;
        return new Response(body, { status: res.status, headers: res.headers });
      };
      const store = new ModelStore({
        fetch: counting,
        caches: memoryCaches(),
        subtle: webcrypto.subtle as SubtleCrypto,
      });
      const started = performance.now();
      const choice = await store.catalogueChoice().catch(async () => {
        // No web build serving /models/index.json here: the server catalogue alone decides.
        return {
          pending: (await store.serverCatalogue())!.filter(
            (m) => m.status === 'active' && m.id === 'pneumonia-cxr',
          ),
        };
      });
      const pending = choice.pending.find((p) => p.id === 'pneumonia-cxr' && p.version === version);
      if (!pending) throw new Error('the new version is not pending');
      await store.downloadVersion(pending);
      times.push(performance.now() - started);
    }
    const result = {
      model: 'pneumonia-cxr',
      version,
      modelBytes: manifest.bytes,
      runs: RUNS,
      timeToReadyMs: {
        median: Math.round(median(times) * 10) / 10,
        all: times.map((t) => Math.round(t)),
      },
      bytesReceivedPerUpdate: received,
    };
    mkdirSync(path.dirname(OUT_FILE), { recursive: true });
    writeFileSync(OUT_FILE, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
