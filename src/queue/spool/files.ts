/**
 * The spool directory's files: segment names, cursor files, the space probe, and directory fsync.
 *
 * Cursor file: two 32-byte slots, overwritten in place (little-endian). An update writes the slot that does not hold
 * the newest valid record, so a torn write (power cut) spoils at most that slot and the previous cursor stands.
 * Overwriting allocated bytes needs no new disk space: a full disk never stops cursors from moving, hence never
 * stops consumed segments from being deleted (on copy-on-write filesystems, btrfs or ZFS, an overwrite does need
 * space: keep the spool off them or leave headroom). The file is created once (write `.tmp`, fsync, rename).
 *     0  4  magic     "IRCU"
 *     4  1  version   2
 *     5  3  reserved  0
 *     8  8  position  u64: the log position of the first record this backend still needs
 *    16  8  sequence  u64: the slot with the higher sequence is the cursor
 *    24  4  crc       CRC-32 of bytes [0, 24)
 *    28  4  reserved  0
 * Version 1 (one 20-byte record: magic, 1, reserved, position, CRC-32 of [0, 16)) is read as slot 0, sequence 0.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from './crc32.js';

const SEGMENT_RE = /^(\d{20})\.seg$/;
const CURSOR_PREFIX = 'cursor-';
const CURSOR_MAGIC = Buffer.from('IRCU', 'latin1');
const SLOT_BYTES = 32;
const CURSOR_BYTES = 2 * SLOT_BYTES;
/** Written and removed by probeSpace; one left by a crash is removed by recovery. */
export const PROBE_FILE = 'PROBE';

/** A segment is named by the log position of its first byte, zero-padded so names sort like positions. */
export function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  if (!m) return undefined;
  const base = Number(m[1]);
  return Number.isSafeInteger(base) ? base : undefined;
}

/** Backend names come from the config: encoded so that any name is one safe file name. */
function cursorName(backend: string): string {
  return CURSOR_PREFIX + encodeURIComponent(backend).replace(/\./g, '%2E');
}

export function parseCursorName(name: string): string | undefined {
  if (!name.startsWith(CURSOR_PREFIX) || name.endsWith('.tmp')) return undefined;
  try {
    return decodeURIComponent(name.slice(CURSOR_PREFIX.length));
  } catch {
    return undefined;
  }
}

export function isCursorTemp(name: string): boolean {
  return name.startsWith(CURSOR_PREFIX) && name.endsWith('.tmp');
}

export type CursorRead = { readonly pos: number } | { readonly missing: true } | { readonly corrupt: string };

interface Slot {
  readonly pos: number;
  readonly seq: bigint;
}

/** One slot, or undefined when it holds no valid record (never written, torn, or junk). */
function parseSlot(buf: Buffer, at: number): Slot | undefined {
  const b = buf.subarray(at, at + SLOT_BYTES);
  if (b.length < 20 || !b.subarray(0, 4).equals(CURSOR_MAGIC)) return undefined;
  let seq: bigint;
  if (b[4] === 1 && at === 0) {
    if (crc32(b.subarray(0, 16)) !== b.readUInt32LE(16)) return undefined;
    seq = 0n;
  } else if (b[4] === 2 && b.length === SLOT_BYTES) {
    if (crc32(b.subarray(0, 24)) !== b.readUInt32LE(24)) return undefined;
    seq = b.readBigUInt64LE(16);
  } else {
    return undefined;
  }
  const pos = Number(b.readBigUInt64LE(8));
  return Number.isSafeInteger(pos) ? { pos, seq } : undefined;
}

/** The newest valid slot and the index of the slot to overwrite next. */
function parseCursor(buf: Buffer): { newest: Slot | undefined; next: 0 | 1 } {
  const s0 = parseSlot(buf, 0);
  const s1 = parseSlot(buf, SLOT_BYTES);
  if (s0 && (!s1 || s0.seq >= s1.seq)) return { newest: s0, next: 1 };
  return { newest: s1, next: 0 };
}

function encodeSlot(pos: number, seq: bigint): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  CURSOR_MAGIC.copy(b, 0);
  b[4] = 2;
  b.writeBigUInt64LE(BigInt(pos), 8);
  b.writeBigUInt64LE(seq, 16);
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

export async function readCursor(dir: string, backend: string): Promise<CursorRead> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, cursorName(backend)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { corrupt: (err as Error).message };
  }
  const { newest } = parseCursor(buf);
  return newest ? { pos: newest.pos } : { corrupt: `no valid record in ${buf.length} bytes` };
}

/**
 * Persists a backend's cursor by overwriting the older slot in place: no new disk space needed, so it works on a
 * full disk. Only the first write of a backend creates the file (and needs space; it is retried at the next call).
 */
/** A backend removed by a reload: its cursor no longer holds segments back. */
export async function removeCursor(dir: string, backend: string): Promise<void> {
  await unlink(join(dir, cursorName(backend))).catch(() => undefined);
}

export async function writeCursor(dir: string, backend: string, pos: number, durable: boolean): Promise<void> {
  const path = join(dir, cursorName(backend));
  let fh;
  try {
    fh = await open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return createCursor(dir, path, pos, durable);
  }
  try {
    const buf = Buffer.alloc(CURSOR_BYTES);
    const { bytesRead } = await fh.read(buf, 0, CURSOR_BYTES, 0);
    const { newest, next } = parseCursor(buf.subarray(0, bytesRead));
    const slot = encodeSlot(pos, (newest?.seq ?? 0n) + 1n);
    await fh.write(slot, 0, SLOT_BYTES, next * SLOT_BYTES);
    if (durable) await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function createCursor(dir: string, path: string, pos: number, durable: boolean): Promise<void> {
  const buf = Buffer.alloc(CURSOR_BYTES); // slot 1 stays zero: invalid until the first update writes it
  encodeSlot(pos, 1n).copy(buf, 0);
  const fh = await open(`${path}.tmp`, 'w', 0o600);
  try {
    await fh.write(buf, 0, buf.length, 0);
    if (durable) await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(`${path}.tmp`).catch(() => undefined); // on a full disk, do not leave it holding an inode
    throw err;
  }
  await fh.close();
  await rename(`${path}.tmp`, path);
  if (durable) await syncDir(dir);
}

/**
 * Whether `bytes` of new data fit on the disk now: writes and removes PROBE. Used while appends are failing, so the
 * spool notices by itself that space came back (nothing else would: a relay out of rotation gets no writes).
 */
export async function probeSpace(dir: string, bytes: number): Promise<void> {
  const path = join(dir, PROBE_FILE);
  const fh = await open(path, 'w', 0o600);
  try {
    const chunk = Buffer.alloc(Math.min(bytes, 1 << 20));
    for (let at = 0; at < bytes; at += chunk.length) {
      const n = Math.min(chunk.length, bytes - at);
      const { bytesWritten } = await fh.write(chunk, 0, n, at);
      if (bytesWritten !== n) throw Object.assign(new Error('short write (disk full?)'), { code: 'ENOSPC' });
    }
  } finally {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
  }
}

/** Makes a created, renamed or removed directory entry durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
