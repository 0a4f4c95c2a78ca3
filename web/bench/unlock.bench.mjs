// bench:unlock — what a PIN or password unlock costs in Chromium on this machine (issue 15):
//   node web/bench/unlock.bench.mjs
// The same WebCrypto steps as crypto/keys.ts unwrapWithSecret: PBKDF2-SHA256 at 600,000 iterations
// into a non-extractable AES-GCM key, then opening the 32-byte wrapped data key. Run on a page of a
// localhost server (WebCrypto needs a secure context), 7 times; prints p50 and max.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';

const require = createRequire(new URL('../package.json', import.meta.url));
const { chromium } = require('@playwright/test');
const ITERATIONS = 600_000;
const RUNS = 7;

const server = createServer((_req, res) => res.end('<!doctype html><title>unlock</title>'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${server.address().port}/`);
  const times = await page.evaluate(
    async ({ iterations, runs }) => {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const derive = async (pin) => {
        const material = await crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(pin),
          'PBKDF2',
          false,
          ['deriveKey'],
        );
        return crypto.subtle.deriveKey(
          { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
          material,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        );
      };
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const wrapped = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv },
        await derive('135790'),
        crypto.getRandomValues(new Uint8Array(32)),
      );
      const out = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, await derive('135790'), wrapped);
        out.push(performance.now() - t0);
      }
      return out;
    },
    { iterations: ITERATIONS, runs: RUNS },
  );
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `unlock (PBKDF2-SHA256 ${ITERATIONS} + AES-GCM unwrap): p50 ${Math.round(sorted[RUNS >> 1])} ms, ` +
      `max ${Math.round(sorted[RUNS - 1])} ms over ${RUNS} runs; load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
} finally {
  await browser.close();
  server.close();
}
