// Writes .br and .gz siblings of the built text and WASM assets; the server serves them when the
// browser accepts them, so nothing is compressed per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../build/', import.meta.url).pathname;
const compressible = /\.(js|mjs|css|html|json|svg|webmanifest|wasm|txt)$/;

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
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(raw, {
      params: {
        // Level 11 on the 27 MB ONNX runtime WASM takes minutes on 2 cores; 9 takes seconds and
        // is ~15% larger for that one file.
        [constants.BROTLI_PARAM_QUALITY]: raw.length > 2_000_000 ? 9 : 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    }),
  );
  count++;
}
console.log(`precompressed ${count} files in ${root}`);
