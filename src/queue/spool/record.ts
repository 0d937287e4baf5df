/**
 * One spooled batch on disk: a record. Little-endian, not padded; records follow each other in a segment file.
 *
 *   off  size  field
 *     0     4  magic       "IRSP" (0x49 0x52 0x53 0x50): where a reader resynchronizes after a corrupt record
 *     4     4  crc         CRC-32 (IEEE) of bytes [8, length): header fields, target and body
 *     8     1  version     1
 *     9     1  precision   index in PRECISIONS (n u ms s m h)
 *    10     2  flags       bit 0: a statement (InfluxQL for /query, batch.ts), not line protocol; other bits 0.
 *                          Records written before the flag existed hold 0 here: writes, as they were.
 *    12     4  metaLen     bytes of the target section
 *    16     4  bodyLen     bytes of line protocol
 *    20     4  points      lines in the body
 *    24     8  receivedAt  ms since the epoch (float64): a batch's age counts from its first receipt, across restarts
 *    32  meta  target      db, rp, authorization, u, p: each a u16 byte length (0xFFFF: absent) then UTF-8.
 *                          Credentials are stored in clear because the backend needs them to replay the write:
 *                          the spool directory must be as private as the config file.
 *     …  body  line protocol, exactly the batch's body
 *   length = 32 + metaLen + bodyLen
 *
 * A header is validated (magic, version, lengths within what is left of the file) before its length is trusted, so
 * garbage never makes a reader allocate gigabytes.
 */
import { makeBatch, makeStatement, type Batch, type Credentials, type WriteTarget } from '../../batch.js';
import { PRECISIONS } from '../../lineprotocol/precision.js';
import { crc32 } from './crc32.js';

const HEADER_BYTES = 32;
export const MAGIC = Buffer.from('IRSP', 'latin1');
const MAGIC_U32 = MAGIC.readUInt32LE(0);
const VERSION = 1;
const ABSENT = 0xffff;
/** The flags bit of a statement record. */
const STATEMENT = 0x0001;
/** Five strings of at most 65534 bytes each, plus their lengths. */
const MAX_META = 5 * (2 + 0xfffe);

/** Thrown by encodeHead when a target cannot be framed (a string over 64 KiB). */
export class RecordTooLargeError extends Error {}

function metaString(s: string | undefined): number {
  if (s === undefined) return 2;
  const n = Buffer.byteLength(s, 'utf8');
  if (n >= ABSENT) throw new RecordTooLargeError(`a target field of ${n} bytes cannot be spooled (limit 65534)`);
  return 2 + n;
}

function putString(buf: Buffer, off: number, s: string | undefined): number {
  if (s === undefined) {
    buf.writeUInt16LE(ABSENT, off);
    return off + 2;
  }
  const n = buf.write(s, off + 2, 'utf8');
  buf.writeUInt16LE(n, off);
  return off + 2 + n;
}

/**
 * The header and target of a batch's record, checksum included; the body is written after it as is (no copy).
 * Throws RecordTooLargeError when a target field is over 64 KiB.
 */
export function encodeHead(batch: Batch): Buffer {
  const t = batch.target;
  const c = t.credentials;
  const metaLen =
    metaString(t.db) + metaString(t.rp) + metaString(c.authorization) + metaString(c.u) + metaString(c.p);
  const head = Buffer.allocUnsafe(HEADER_BYTES + metaLen);
  MAGIC.copy(head, 0);
  head[8] = VERSION;
  head[9] = PRECISIONS.indexOf(t.precision);
  head.writeUInt16LE(batch.statement ? STATEMENT : 0, 10);
  head.writeUInt32LE(metaLen, 12);
  head.writeUInt32LE(batch.body.length, 16);
  head.writeUInt32LE(batch.points, 20);
  head.writeDoubleLE(batch.receivedAt, 24);
  let off = HEADER_BYTES;
  off = putString(head, off, t.db);
  off = putString(head, off, t.rp);
  off = putString(head, off, c.authorization);
  off = putString(head, off, c.u);
  putString(head, off, c.p);
  head.writeUInt32LE(crc32(batch.body, crc32(head.subarray(8))), 4);
  return head;
}

export type Decoded =
  | { readonly kind: 'record'; readonly length: number; readonly batch: Batch }
  /** The buffer ends before the record does: read `length` bytes from `off` and decode again. */
  | { readonly kind: 'short'; readonly length: number }
  /** Not a valid record at this offset: resynchronize at the next magic. */
  | { readonly kind: 'bad'; readonly why: string };

const SHORT_HEADER: Decoded = { kind: 'short', length: HEADER_BYTES };

/**
 * Decodes records; remembers the last target so that a run of records for one target shares one object (and one
 * merge key) instead of allocating strings per record.
 */
export class RecordDecoder {
  private lastMeta: Buffer | undefined;
  private lastTarget: WriteTarget | undefined;

  /**
   * Decodes the record at buf[off], where the file has `fileLeft` bytes from `off` (the buffer may hold fewer).
   * The batch's body is a view of `buf`, not a copy.
   */
  decode(buf: Buffer, off: number, fileLeft: number): Decoded {
    const avail = buf.length - off;
    if (avail < HEADER_BYTES) return fileLeft < HEADER_BYTES ? { kind: 'bad', why: 'truncated header' } : SHORT_HEADER;
    if (buf.readUInt32LE(off) !== MAGIC_U32) return { kind: 'bad', why: 'bad magic' };
    if (buf[off + 8] !== VERSION) return { kind: 'bad', why: `unknown version ${buf[off + 8]}` };
    const precision = PRECISIONS[buf[off + 9]!];
    const flags = buf.readUInt16LE(off + 10);
    if (precision === undefined || (flags & ~STATEMENT) !== 0) return { kind: 'bad', why: 'bad header' };
    const metaLen = buf.readUInt32LE(off + 12);
    const bodyLen = buf.readUInt32LE(off + 16);
    const length = HEADER_BYTES + metaLen + bodyLen;
    if (metaLen < 10 || metaLen > MAX_META) return { kind: 'bad', why: 'bad target length' };
    if (length > fileLeft) return { kind: 'bad', why: 'record runs past the end of the file' };
    if (length > avail) return { kind: 'short', length };
    if (crc32(buf.subarray(off + 8, off + length)) !== buf.readUInt32LE(off + 4)) return { kind: 'bad', why: 'checksum mismatch' };
    const metaStart = off + HEADER_BYTES;
    const metaEnd = metaStart + metaLen;
    let target = this.lastTarget;
    const meta = buf.subarray(metaStart, metaEnd);
    if (!target || !this.lastMeta?.equals(meta) || target.precision !== precision) {
      const t = readTarget(buf, metaStart, metaEnd, precision);
      if (!t) return { kind: 'bad', why: 'bad target' };
      target = t;
      this.lastTarget = t;
      this.lastMeta = Buffer.from(meta);
    }
    const body = buf.subarray(metaEnd, off + length);
    const receivedAt = buf.readDoubleLE(off + 24);
    const batch = flags & STATEMENT ? makeStatement(target, body, receivedAt) : makeBatch(target, body, buf.readUInt32LE(off + 20), receivedAt);
    return { kind: 'record', length, batch };
  }
}

function readTarget(buf: Buffer, start: number, end: number, precision: WriteTarget['precision']): WriteTarget | undefined {
  const out: (string | undefined)[] = [];
  let off = start;
  for (let i = 0; i < 5; i++) {
    if (off + 2 > end) return undefined;
    const n = buf.readUInt16LE(off);
    off += 2;
    if (n === ABSENT) {
      out.push(undefined);
      continue;
    }
    if (off + n > end) return undefined;
    out.push(buf.toString('utf8', off, off + n));
    off += n;
  }
  const [db, rp, authorization, u, p] = out;
  if (off !== end || db === undefined || rp === undefined) return undefined;
  const credentials: Credentials = {
    ...(authorization !== undefined ? { authorization } : {}),
    ...(u !== undefined ? { u } : {}),
    ...(p !== undefined ? { p } : {}),
  };
  return { db, rp, precision, credentials };
}
