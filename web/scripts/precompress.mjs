// Writes .br and .gz siblings of the built text and WASM assets; the server serves them when the
// browser accepts them, so nothing is compressed per request.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../build/', import.meta.url).pathname;
const compressible = /\.(js|mjs|css|html|json|svg|webmanifest|wasm|txt)$/;
// Brotli's best setting on the 14 MB ONNX runtime WASM takes ~40 s on 2 cores (14 % smaller than
// quality 9), and that file is the same in every build: its compressed copy is kept here by hash.
const cacheDir = new URL('../node_modules/.cache/fielddx-precompress/', import.meta.url).pathname;
const LARGE = 2_000_000;

function brotli(raw) {
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      // Large files gain from the largest window (16 MiB), which every brotli decoder accepts.
      [constants.BROTLI_PARAM_LGWIN]: raw.length > LARGE ? 24 : 22,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

function cachedBrotli(raw) {
  if (raw.length <= LARGE) return brotli(raw);
  const cached = join(cacheDir, `${createHash('sha256').update(raw).digest('hex')}.br`);
  if (existsSync(cached)) return readFileSync(cached);
  const out = brotli(raw);
  mkdirSync(cacheDir, { recursive: true });
  // Written aside, then renamed: an interrupted build never leaves a truncated copy to reuse.
  writeFileSync(`${cached}.${process.pid}.tmp`, out);
  renameSync(`${cached}.${process.pid}.tmp`, cached);
  return out;
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let count = 0;
for (const path of files(root)) {
  if (!compressible.test(path)) continue;
  const raw = readFileSync(path);
  if (raw.length < 1024) continue;
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
  writeFileSync(`${path}.br`, cachedBrotli(raw));
  count++;
}
console.log(`precompressed ${count} files in ${root}`);
