/**
 * CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, the checksum of zlib, gzip and PNG), slicing-by-8.
 *
 * Node 20 has no zlib.crc32 (it arrived in Node 22), and a byte-at-a-time table runs at a few hundred MB/s in V8,
 * which would make checksumming the spool's bottleneck. Eight tables and aligned 32-bit reads (little-endian host,
 * which is every platform Node supports but s390x) consume 8 bytes per step: about 1 GB/s. Values equal
 * zlib.crc32's, so a later Node may swap in the native one.
 */
import { endianness } from 'node:os';

const TABLES = buildTables();
const LITTLE_ENDIAN = endianness() === 'LE';

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/** CRC-32 of `buf`, continuing from `crc` (the value returned for the bytes before it). Unsigned. */
export function crc32(buf: Uint8Array, crc = 0): number {
  const t = TABLES;
  const n = buf.length;
  const bytes = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, n);
  let c = ~crc;
  let i = 0;
  if (LITTLE_ENDIAN && n >= 16) {
    while ((bytes.byteOffset + i) & 3) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
    const words = ((n - i) >>> 3) * 2;
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const lo = c ^ w[j]!;
      const hi = w[j + 1]!;
      c =
        t[1792 + (lo & 0xff)]! ^
        t[1536 + ((lo >>> 8) & 0xff)]! ^
        t[1280 + ((lo >>> 16) & 0xff)]! ^
        t[1024 + (lo >>> 24)]! ^
        t[768 + (hi & 0xff)]! ^
        t[512 + ((hi >>> 8) & 0xff)]! ^
        t[256 + ((hi >>> 16) & 0xff)]! ^
        t[hi >>> 24]!;
    }
    i += words * 4;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
