// How much JavaScript the first page (/signin) makes the browser load: raw, gzip and brotli bytes.
// Opens the built app served by the real server in headless Chromium and counts every script
// request of the page. Writes bench-results/web-size.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('@playwright/test');

if (!existsSync(join(root, 'web/build/index.html'))) {
  console.error('web/build is missing: run `pnpm build` first (pnpm bench:web-size does).');
  process.exit(1);
}

const port = 20000 + Math.floor(Math.random() * 20000);
const origin = `http://localhost:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'fielddx-bench-'));
const server = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
  cwd: join(root, 'sync-server'),
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
  stdio: 'inherit',
});

try {
  for (let i = 0; ; i++) {
    const ok = await fetch(`${origin}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage();
  const scripts = new Set();
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.add(new URL(request.url()).pathname);
  });
  await page.goto(`${origin}/signin`, { waitUntil: 'networkidle' });
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await browser.close();

  const files = [...scripts].sort().map((path) => {
    const raw = readFileSync(join(root, 'web/build', path));
    return {
      path,
      raw: raw.length,
      gzip: gzipSync(raw, { level: 9 }).length,
      brotli: brotliCompressSync(raw).length,
    };
  });
  const sum = (key) => files.reduce((total, file) => total + file[key], 0);
  const result = {
    page: '/signin',
    scripts: files.length,
    rawBytes: sum('raw'),
    gzipBytes: sum('gzip'),
    brotliBytes: sum('brotli'),
    files,
  };
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results/web-size.json'), JSON.stringify(result, null, 2));
  console.log(
    `first page JS: ${result.scripts} files, ${(result.rawBytes / 1024).toFixed(1)} KiB raw, ` +
      `${(result.gzipBytes / 1024).toFixed(1)} KiB gzip, ${(result.brotliBytes / 1024).toFixed(1)} KiB brotli`,
  );
} finally {
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
