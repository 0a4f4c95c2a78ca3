// Draws the app icons (a white medical cross on the brand green) as PNGs, so no image tool is needed.
// Run once after changing the design: node web/scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BRAND = [0x0f, 0x5c, 0x4d];
const WHITE = [0xff, 0xff, 0xff];

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** @param {number} size @param {number} crossScale share of the icon the cross spans */
function icon(size, crossScale) {
  const arm = Math.round(size * crossScale);
  const bar = Math.round(arm / 3);
  const lo = (size - arm) / 2;
  const barLo = (size - bar) / 2;
  const inside = (v, a, len) => v >= a && v < a + len;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const isCross =
        (inside(x, lo, arm) && inside(y, barLo, bar)) ||
        (inside(y, lo, arm) && inside(x, barLo, bar));
      Buffer.from(isCross ? WHITE : BRAND).copy(row, 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../static/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), icon(192, 0.6));
writeFileSync(new URL('icon-512.png', dir), icon(512, 0.6));
// Maskable icons keep their content inside the 80% safe zone.
writeFileSync(new URL('icon-maskable-512.png', dir), icon(512, 0.45));
