// bench:field-link — a sync over a slow field link, with pushes plain and gzip-encoded, and cut.
//   node web/bench/sync/field-link.mjs          (from the repository root)
// The real server and the app's own $lib/db + $lib/sync modules in headless Chromium (the same
// bundle and server as bench:sync), the link throttled with the Chrome DevTools Protocol
// (Network.emulateNetworkConditions): 400 kbit/s up, 1.6 Mbit/s down, 150 ms round trip.
// For each of plain and gzip, in a fresh team: tablet A syncs 1,000 new ~1 KB patients and 20
// images (FIELD_IMAGE_BYTES random bytes each, as incompressible as a JPEG); tablet B, new, syncs
// them down and downloads the images. Time and bytes each way (bytes as the page sends them and
// as the responses arrive, encoded) for both. Then, gzip again: the link is cut (offline) in the
// middle of A's sync and restored; A syncs again until it succeeds; asserts that the server holds
// every record and image once (B pulls exactly them, each at version 1: nothing written twice)
// and that A's outbox is empty. Writes bench-results/field-link.json.
// Environment: FIELD_RECORDS (1000), FIELD_IMAGES (20), FIELD_IMAGE_BYTES (30720), CHROMIUM_PATH.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, request as apiRequest } from '@playwright/test';
import { build } from 'vite';
import { freePort, spawnSyncServer, stopServer, waitForHealth } from '../server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const webDir = fileURLToPath(new URL('../../', import.meta.url));
const rootDir = fileURLToPath(new URL('../../../', import.meta.url));
const serverDir = join(rootDir, 'sync-server');
const resultsFile = join(rootDir, 'bench-results/field-link.json');

const int = (name, fallback) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const RECORDS = int('FIELD_RECORDS', 1000);
const IMAGES = int('FIELD_IMAGES', 20);
const IMAGE_BYTES = int('FIELD_IMAGE_BYTES', 30 * 1024);
/** Bytes per second: 400 kbit/s up, 1.6 Mbit/s down; 150 ms round trip. */
const LINK = { latency: 150, uploadThroughput: 400_000 / 8, downloadThroughput: 1_600_000 / 8 };
const log = (...a) =>
  console.log(`[bench:field-link ${new Date().toISOString().slice(11, 19)}]`, ...a);
const round = (x, d = 1) => +x.toFixed(d);

const tempRoot = mkdtempSync(join(tmpdir(), 'fielddx-field-link-'));
const wwwDir = join(tempRoot, 'www');
const dataDir = join(tempRoot, 'data');
for (const dir of [wwwDir, dataDir]) mkdirSync(dir);
let server;
/** What the server printed so far (its last 20 KB). */
let serverOutput = () => '';
let browser;
let admin;

async function cleanup() {
  await admin?.dispose().catch(() => {});
  await browser?.close().catch(() => {});
  if (server) await stopServer(server);
  rmSync(tempRoot, { recursive: true, force: true });
}

async function bundleClient() {
  await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    publicDir: false,
    resolve: { alias: { $lib: join(webDir, 'src/lib') } },
    build: {
      outDir: wwwDir,
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: false,
      rollupOptions: {
        input: join(here, 'client.ts'),
        output: { format: 'es', entryFileNames: 'client.js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  });
  writeFileSync(
    join(wwwDir, 'index.html'),
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>bench:field-link</title>' +
      '<script type="module" src="/client.js"></script></head><body></body></html>\n',
  );
}

async function startServer(port, origin) {
  ({ child: server, output: serverOutput } = spawnSyncServer({
    serverDir,
    port,
    origin,
    dataDir,
    wwwDir,
  }));
  await waitForHealth(origin, server, serverOutput);
}

async function call(req, origin, method, path, data) {
  const res = await req[method](path, { data, headers: { Origin: origin } });
  if (!res.ok())
    throw new Error(`${method.toUpperCase()} ${path}: ${res.status()} ${await res.text()}`);
  return res.status() === 204 ? null : res.json().catch(() => null);
}

async function main() {
  const load0 = loadavg();
  log('bundling the bench client');
  await bundleClient();
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  await startServer(port, origin);
  admin = await apiRequest.newContext({ baseURL: origin });
  await call(admin, origin, 'post', '/api/auth/signup', {
    name: 'Ada Admin',
    email: 'ada@example.org',
    password: 'correct horse battery',
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });

  let n = 0;
  /** A new team. */
  async function tablet() {
    n++;
    const team = await call(admin, origin, 'post', '/api/admin/teams', { name: `Field ${n}` });
    return { team };
  }
  /** A browser context signed up as a new clinician of the team, its link throttled. */
  async function signIn(teamInfo, email) {
    const invitation = await call(admin, origin, 'post', '/api/admin/invitations', {
      teamId: teamInfo.team.id,
      role: 'clinician',
    });
    const context = await browser.newContext({ baseURL: origin });
    await call(context.request, origin, 'post', '/api/auth/signup', {
      name: email,
      email,
      password: 'a long field password',
      invitationCode: invitation.code,
    });
    const me = await call(context.request, origin, 'get', '/api/auth/me');
    const page = await context.newPage();
    page.setDefaultTimeout(15 * 60_000);
    await page.goto('/');
    await page.waitForFunction(() => typeof window.bench === 'object', null, { timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const link = (offline) => cdp.send('Network.emulateNetworkConditions', { offline, ...LINK });
    await link(false);
    const b = (fn, arg) => page.evaluate(fn, arg);
    return { context, page, b, link, author: { userId: me.user.id, teamId: teamInfo.team.id } };
  }

  /** A's sync up, then a new tablet B's sync down and image download, over the field link. */
  async function scenario(compress, cut) {
    const info = await tablet();
    const a = await signIn(info, `a${n}@example.org`);
    await a.b((name) => window.bench.open(name), `a-${n}`);
    await a.b(([r, auth]) => window.bench.seedPatients(r, auth), [RECORDS, a.author]);
    await a.b(
      ([k, bytes, auth]) => window.bench.seedAttachments(k, bytes, auth),
      [IMAGES, IMAGE_BYTES, a.author],
    );
    await a.b((on) => window.bench.setCompress(on), compress);
    await a.b(() => window.bench.takeWire());

    const t0 = Date.now();
    const attempts = [];
    if (cut) {
      const first = a.b(() => window.bench.trySync());
      // Cut the link once the first push batch was acknowledged (the outbox shrank).
      const total = RECORDS + IMAGES + 1;
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        const { outbox } = await a.b(() => window.bench.versions());
        if (outbox < total) break;
      }
      await a.link(true);
      log(`${cut}: link cut ${Date.now() - t0} ms into the sync`);
      attempts.push(await first);
      await new Promise((r) => setTimeout(r, 2000));
      await a.link(false);
    }
    for (let i = 0; i < 5 && !attempts.at(-1)?.ok; i++) {
      attempts.push(await a.b(() => window.bench.trySync()));
    }
    const upMs = Date.now() - t0;
    const upWire = await a.b(() => window.bench.takeWire());
    if (!attempts.at(-1).ok) throw new Error(`A never synced: ${JSON.stringify(attempts)}`);
    const aState = await a.b(() => window.bench.versions());

    const b = await signIn(info, `b${n}@example.org`);
    await b.b((name) => window.bench.open(name), `b-${n}`);
    await b.b(() => window.bench.takeWire());
    const t1 = Date.now();
    const down = await b.b(() => window.bench.trySync());
    const blobs = await b.b(() => window.bench.downloadAll());
    const downMs = Date.now() - t1;
    const downWire = await b.b(() => window.bench.takeWire());
    const bState = await b.b(() => window.bench.versions());
    await a.context.close();
    await b.context.close();

    // Nothing lost, nothing written twice: B holds every record once, each at version 1.
    const problems = [];
    if (aState.outbox !== 0) problems.push(`A's outbox holds ${aState.outbox}`);
    if (!down.ok) problems.push(`B's sync failed: ${down.error}`);
    if (bState.patients.length !== RECORDS + 1)
      problems.push(`B holds ${bState.patients.length} patients, not ${RECORDS + 1}`);
    if (bState.attachments.length !== IMAGES)
      problems.push(`B holds ${bState.attachments.length} attachments, not ${IMAGES}`);
    if ([...bState.patients, ...bState.attachments].some((v) => v !== 1))
      problems.push('a record on the server is past version 1 (written twice)');
    if (aState.patients.some((v) => v !== 1)) problems.push("A's records did not all learn v1");
    if (blobs.count !== IMAGES) problems.push(`B downloaded ${blobs.count} images`);
    if (problems.length) throw new Error(`${cut ?? 'sync'}: ${problems.join('; ')}`);
    return {
      compress,
      up: {
        ms: upMs,
        bytesUp: upWire.up,
        bytesDown: upWire.down,
        requests: upWire.requests,
        attempts: attempts.map((x) => ({ ok: x.ok, ms: x.ms, error: x.error })),
      },
      down: {
        ms: downMs,
        bytesUp: downWire.up,
        bytesDown: downWire.down,
        requests: downWire.requests,
      },
    };
  }

  const plain = await scenario(false);
  log(
    `plain: up ${plain.up.ms} ms ${plain.up.bytesUp} B; down ${plain.down.ms} ms ${plain.down.bytesDown} B`,
  );
  const gzip = await scenario(true);
  log(
    `gzip: up ${gzip.up.ms} ms ${gzip.up.bytesUp} B; down ${gzip.down.ms} ms ${gzip.down.bytesDown} B`,
  );
  const cut = await scenario(true, 'cut');
  log(
    `cut and restored: up ${cut.up.ms} ms in ${cut.up.attempts.length} attempts; nothing lost or duplicated`,
  );

  const result = {
    date: new Date().toISOString(),
    loadAvgAtStart: load0.map((x) => round(x, 2)),
    loadAvgAtEnd: loadavg().map((x) => round(x, 2)),
    link: { upKbit: 400, downKbit: 1600, rttMs: LINK.latency },
    config: { records: RECORDS, images: IMAGES, imageBytes: IMAGE_BYTES },
    plain,
    gzip,
    cutAndRestored: cut,
  };
  mkdirSync(join(rootDir, 'bench-results'), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(result, null, 2) + '\n');
  const kb = (x) => `${round(x / 1024)} KB`;
  const line = (r) =>
    `up ${round(r.up.ms / 1000, 2)} s (sent ${kb(r.up.bytesUp)}, received ${kb(r.up.bytesDown)}); ` +
    `down on a new tablet ${round(r.down.ms / 1000, 2)} s (sent ${kb(r.down.bytesUp)}, received ${kb(r.down.bytesDown)})`;
  console.log(`
FieldDx field link (400 kbit/s up, 1.6 Mbit/s down, 150 ms RTT; ${RECORDS} records + ${IMAGES} × ${kb(IMAGE_BYTES)} images; load ${result.loadAvgAtStart.join(' ')})
  plain pushes: ${line(plain)}
  gzip pushes:  ${line(gzip)}
  gzip, link cut in the middle and restored: ${line(cut)}; attempts ${cut.up.attempts.map((x) => (x.ok ? 'ok' : 'failed')).join(', ')}; nothing lost or duplicated
  written to ${resultsFile}`);
}

main().then(cleanup, async (error) => {
  console.error(error);
  console.error(serverOutput().slice(-3000));
  await cleanup();
  process.exit(1);
});
