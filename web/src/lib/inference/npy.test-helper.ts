// Test helper: read NumPy .npy arrays and .npz archives (as written by numpy.savez / savez_compressed).
import { unzipSync } from 'fflate';

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses one .npy file (format versions 1-3, little-endian, C order). */
export function parseNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new Error(`${name}: not a .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${name}: cannot parse .npy header ${header}`);
  }
  if (fortran === 'True') throw new Error(`${name}: Fortran-ordered arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  // Copy so that typed arrays are aligned whatever the header length.
  const body = bytes.slice(start, start + count * itemSize(descr, name));
  const data = (() => {
    switch (descr) {
      case '|u1':
        return body;
      case '<i4':
        return new Int32Array(body.buffer, 0, count);
      case '<i8':
        return new BigInt64Array(body.buffer, 0, count);
      case '<f4':
        return new Float32Array(body.buffer, 0, count);
      case '<f8':
        return new Float64Array(body.buffer, 0, count);
      default:
        throw new Error(`${name}: dtype ${descr} is not supported`);
    }
  })();
  if (data.length !== count) throw new Error(`${name}: truncated data`);
  return { dtype: descr, shape, data };
}

function itemSize(descr: string, name: string): number {
  const size = Number(descr.slice(2));
  if (!Number.isInteger(size) || size <= 0) throw new Error(`${name}: bad dtype ${descr}`);
  return size;
}

/** Reads the named arrays (keys without ".npy") from an .npz archive. */
export function readNpz(bytes: Uint8Array, keys: string[]): Record<string, NpyArray> {
  const wanted = new Set(keys.map((k) => `${k}.npy`));
  const files = unzipSync(bytes, { filter: (f) => wanted.has(f.name) });
  const out: Record<string, NpyArray> = {};
  for (const key of keys) {
    const file = files[`${key}.npy`];
    if (!file) throw new Error(`.npz has no array ${key}`);
    out[key] = parseNpy(file, key);
  }
  return out;
}
