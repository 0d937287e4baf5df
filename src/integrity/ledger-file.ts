/**
 * On-disk format of the missed-window ledger: JSON lines, appended, one record per line.
 *
 *   {"type":"ledger","version":1}                      first line after a compaction
 *   {"type":"window","id":..., "backend":..., ...}     a window's latest state; a later line with the same id wins
 *   {"type":"backlog","backend":..., "at":..., "ranges":[...]}  a backend's latest memory-backlog summary
 *   {"type":"clean","at":...}                         written last by a clean close
 *
 * Reading never throws on content: a line that does not parse or does not match its record (a torn last line
 * after a crash, or damage) is skipped and counted. The stop was clean when the last valid record is "clean".
 * Timestamps of points are decimal strings of nanoseconds (they exceed 2^53); wall-clock times are RFC 3339.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const LEDGER_FORMAT_VERSION = 1;

/** One window of points a backend may be missing. */
export interface MissedWindow {
  readonly id: string;
  readonly backend: string;
  readonly db: string;
  /** Empty: the database's default retention policy. */
  readonly rp: string;
  /** Oldest and newest point timestamp, ns since the epoch, as decimal strings. */
  readonly fromNs: string;
  readonly toNs: string;
  readonly points: number;
  readonly batches: number;
  /** Why the points were not delivered: queue-full, drop-oldest, dead-letter, shutdown, too-large, unclean-stop, ... */
  readonly reason: string;
  /** When the first and the last batch of the window were given up (RFC 3339). */
  readonly firstAt: string;
  readonly lastAt: string;
  /** Set once a repair made the backend whole for this window. */
  readonly repairedAt?: string;
}

export interface BacklogNoteRange {
  readonly db: string;
  readonly rp: string;
  readonly fromNs: string;
  readonly toNs: string;
  readonly points: number;
}

/** A backend's memory backlog as last persisted. */
export interface BacklogNote {
  readonly backend: string;
  readonly at: string;
  readonly ranges: readonly BacklogNoteRange[];
}

const ns = z.string().regex(/^-?\d{1,20}$/);
const count = z.number().int().nonnegative();
const time = z.string().min(1);

const windowRecord = z.object({
  type: z.literal('window'),
  id: z.string().min(1),
  backend: z.string(),
  db: z.string(),
  rp: z.string(),
  fromNs: ns,
  toNs: ns,
  points: count,
  batches: count,
  reason: z.string(),
  firstAt: time,
  lastAt: time,
  repairedAt: time.optional(),
});

const backlogRecord = z.object({
  type: z.literal('backlog'),
  backend: z.string(),
  at: time,
  ranges: z.array(z.object({ db: z.string(), rp: z.string(), fromNs: ns, toNs: ns, points: count })),
});

const record = z.discriminatedUnion('type', [
  windowRecord,
  backlogRecord,
  z.object({ type: z.literal('ledger') }),
  z.object({ type: z.literal('clean') }),
]);

export interface LedgerContents {
  /** Latest state of every window, by id, in first-seen order. */
  readonly windows: Map<string, MissedWindow>;
  /** Latest backlog note of every backend. */
  readonly backlogs: Map<string, BacklogNote>;
  /** The last valid record is a clean-close marker (or the file is empty). */
  readonly clean: boolean;
  /** Lines skipped as unreadable (a torn last line counts here). */
  readonly skipped: number;
}

export function parseLedger(text: string): LedgerContents {
  const windows = new Map<string, MissedWindow>();
  const backlogs = new Map<string, BacklogNote>();
  let clean = true;
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: z.infer<typeof record>;
    try {
      const r = record.safeParse(JSON.parse(line));
      if (!r.success) {
        skipped++;
        continue;
      }
      parsed = r.data;
    } catch {
      skipped++;
      continue;
    }
    switch (parsed.type) {
      case 'window': {
        const { type: _type, ...w } = parsed;
        windows.set(w.id, w);
        clean = false;
        break;
      }
      case 'backlog': {
        const { type: _type, ...b } = parsed;
        backlogs.set(b.backend, b);
        clean = false;
        break;
      }
      case 'ledger':
        clean = false;
        break;
      case 'clean':
        clean = true;
        break;
    }
  }
  return { windows, backlogs, clean, skipped };
}

/** Reads and parses a ledger file; a missing file is an empty, clean ledger. */
export async function readLedger(file: string): Promise<LedgerContents> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    text = '';
  }
  return parseLedger(text);
}

export function windowLine(w: MissedWindow): string {
  return JSON.stringify({ type: 'window', ...w }) + '\n';
}

export function backlogLine(b: BacklogNote): string {
  return JSON.stringify({ type: 'backlog', ...b }) + '\n';
}

export function headerLine(): string {
  return JSON.stringify({ type: 'ledger', version: LEDGER_FORMAT_VERSION }) + '\n';
}

export function cleanLine(at: string): string {
  return JSON.stringify({ type: 'clean', at }) + '\n';
}

/** Replaces `file` with `text` so that a crash leaves either the old or the new file, never half of one. */
export async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o640);
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  // The rename is durable only once the directory entry is.
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
