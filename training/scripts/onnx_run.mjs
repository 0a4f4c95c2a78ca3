// Runs an ONNX model once with onnxruntime-node, for training/utils.py (Python here has no onnxruntime).
// Usage: node onnx_run.mjs <model.onnx> <input name> <dims, comma-separated> <input.bin> <output.bin>
// The input is raw little-endian float32; the first output is written the same way and its dims are
// printed as JSON on the last line of stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function loadOrt() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir =
    process.env.FIELDDX_ORT_NODE_DIR ??
    path.resolve(here, '../../web/node_modules/onnxruntime-node');
  return createRequire(path.join(dir, 'package.json'))(dir);
}

async function main() {
  const [modelPath, inputName, dimsText, inPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error(
      'usage: node onnx_run.mjs <model.onnx> <input name> <dims> <input.bin> <output.bin>',
    );
    process.exit(2);
  }
  const ort = loadOrt();
  const dims = dimsText.split(',').map(Number);
  const buf = readFileSync(inPath);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const result = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) });
  const out = result[session.outputNames[0]];
  writeFileSync(outPath, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(JSON.stringify({ name: session.outputNames[0], dims: out.dims }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
  });
}
