/**
 * The spool directory's files: segment names, cursor files, the lock, and directory fsync.
 *
 * Cursor file (20 bytes, little-endian), replaced atomically (write `.tmp`, fsync, rename, fsync the directory):
 *     0  4  magic     "IRCU"
 *     4  1  version   1
 *     5  3  reserved  0
 *     8  8  position  u64: the log position of the first record this backend still needs
 *    16  4  crc       CRC-32 of bytes [0, 16)
 */
import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from './crc32.js';

const SEGMENT_RE = /^(\d{20})\.seg$/;
const CURSOR_PREFIX = 'cursor-';
const CURSOR_MAGIC = Buffer.from('IRCU', 'latin1');
const CURSOR_BYTES = 20;
export const LOCK_FILE = 'LOCK';

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
export function cursorName(backend: string): string {
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

export async function readCursor(dir: string, backend: string): Promise<CursorRead> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, cursorName(backend)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { corrupt: (err as Error).message };
  }
  if (buf.length !== CURSOR_BYTES) return { corrupt: `${buf.length} bytes, expected ${CURSOR_BYTES}` };
  if (!buf.subarray(0, 4).equals(CURSOR_MAGIC) || buf[4] !== 1) return { corrupt: 'bad magic or version' };
  if (crc32(buf.subarray(0, 16)) !== buf.readUInt32LE(16)) return { corrupt: 'checksum mismatch' };
  const pos = Number(buf.readBigUInt64LE(8));
  if (!Number.isSafeInteger(pos)) return { corrupt: 'position out of range' };
  return { pos };
}

export async function writeCursor(dir: string, backend: string, pos: number, durable: boolean): Promise<void> {
  const buf = Buffer.alloc(CURSOR_BYTES);
  CURSOR_MAGIC.copy(buf, 0);
  buf[4] = 1;
  buf.writeBigUInt64LE(BigInt(pos), 8);
  buf.writeUInt32LE(crc32(buf.subarray(0, 16)), 16);
  const path = join(dir, cursorName(backend));
  const fh = await open(`${path}.tmp`, 'w', 0o600);
  try {
    await fh.write(buf, 0, buf.length, 0);
    if (durable) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(`${path}.tmp`, path);
  if (durable) await syncDir(dir);
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

/**
 * Takes the directory for this process: two relays appending to one log would interleave records. A lock left by
 * a dead process (kill -9) is taken over; one held by a live process other than this one is an error.
 */
export async function lockDir(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
    throw new Error(`spool directory ${dir} is in use by process ${holder} (if that is not a relay, delete ${path})`);
  }
  await writeFile(path, `${process.pid}\n`, { mode: 0o600 });
}

export async function unlockDir(dir: string): Promise<void> {
  await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
