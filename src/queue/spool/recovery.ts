/**
 * Opening a spool directory after a clean stop or a crash: finds the segments and cursors, checksums every record a
 * backend still needs, and rebuilds each backend's backlog (the oldest part in memory, the rest as on-disk spans).
 *
 * Nothing found on disk is fatal. A torn last record (power cut mid-write) is cut off; a corrupt record elsewhere is
 * skipped up to the next valid one; a missing segment, a junk file, or a missing or unreadable cursor (that backend
 * restarts from the oldest segment: at-least-once, and rewriting a point is harmless) is logged and the rest kept.
 */
import { open, readdir, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../batch.js';
import { PENDING } from '../entries.js';
import type { Logger } from '../../telemetry/logger.js';
import { PROBE_FILE, isCursorTemp, parseCursorName, parseSegmentName, readCursor, segmentName } from './files.js';
import { LOCK_FILE, LOCK_SOCKET } from './lock.js';
import { Segment } from './segment-log.js';
import { SegmentReader } from './segment-reader.js';
import type { Entry, Span } from './view.js';

export interface RecoveredView {
  readonly entries: Entry[];
  readonly spans: Span[];
  /** The log end: a view with nothing to replay has its cursor here. */
  readonly end: number;
}

export interface Recovered {
  readonly segments: Segment[];
  readonly end: number;
  readonly views: ReadonlyMap<string, RecoveredView>;
}

const SCAN_BYTES = 16 << 20;

class ViewBuilder {
  readonly entries: Entry[] = [];
  readonly spans: Span[] = [];
  private memBytes = 0;
  constructor(
    public cursor: number,
    private readonly memoryBytes: number,
  ) {}

  add(pos: number, seg: Segment, batch: Batch): void {
    if (pos < this.cursor) return;
    const len = batch.body.length;
    if (this.spans.length === 0 && (this.memBytes + len <= this.memoryBytes || this.entries.length === 0)) {
      this.entries.push({ batch, pos, state: PENDING });
      this.memBytes += len;
      return;
    }
    let span = this.spans[this.spans.length - 1];
    if (span?.seg !== seg) {
      span = { seg, from: pos, records: 0, bytes: 0, points: 0, firstReceivedAt: batch.receivedAt };
      this.spans.push(span);
    }
    span.records++;
    span.bytes += len;
    span.points += batch.points;
  }
}

export async function recover(
  dir: string,
  backends: readonly string[],
  memoryBytes: number,
  logger: Logger,
): Promise<Recovered> {
  const names = await readdir(dir);
  const segments: Segment[] = [];
  const junk: string[] = [];
  const cursorFiles = new Set<string>();
  for (const name of names) {
    const base = parseSegmentName(name);
    if (base !== undefined) {
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st?.isFile()) segments.push(new Segment(base, st.size, true));
      else junk.push(name);
    } else if (isCursorTemp(name) || name === PROBE_FILE) {
      await unlink(join(dir, name)).catch(() => undefined); // a cursor creation or a space probe cut short
    } else if (parseCursorName(name) !== undefined) {
      cursorFiles.add(parseCursorName(name)!);
    } else if (name !== LOCK_FILE && name !== LOCK_SOCKET) {
      junk.push(name);
    }
  }
  if (junk.length > 0) logger.warn({ dir, files: junk.slice(0, 20), count: junk.length }, 'spool: ignoring files that are not spool files');
  const unknown = [...cursorFiles].filter((n) => !backends.includes(n));
  if (unknown.length > 0) logger.warn({ dir, backends: unknown }, 'spool: ignoring cursors of backends no longer configured');

  segments.sort((a, b) => a.base - b.base);
  for (let i = 0; i + 1 < segments.length; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]!;
    if (s.end > next.base) {
      logger.warn({ segment: segmentName(s.base), next: segmentName(next.base) }, 'spool: segment overlaps the next one; reading it up to the next');
      s.size = s.written = next.base - s.base;
    } else if (s.end < next.base) {
      logger.warn({ from: s.end, to: next.base }, 'spool: segments missing; the batches they held are lost');
    }
  }
  await dropEmpty(dir, segments);
  const hadSegments = segments.length > 0;

  const first = segments[0];
  const fileEnd = segments.length > 0 ? segments[segments.length - 1]!.end : 0;
  const builders = new Map<string, ViewBuilder>();
  let maxCursor = 0;
  for (const name of backends) {
    const read = await readCursor(dir, name);
    let cursor: number;
    if ('pos' in read) {
      cursor = read.pos;
      maxCursor = Math.max(maxCursor, cursor);
      if (first && cursor < first.base) {
        logger.warn({ backend: name, cursor, oldest: first.base }, 'spool: cursor is before the oldest segment (segments missing); replaying from the oldest');
        cursor = first.base;
      } else if (segments.length > 0 && cursor > fileEnd) {
        logger.warn({ backend: name, cursor, end: fileEnd }, 'spool: cursor is past the end of the log; nothing to replay');
        cursor = fileEnd;
      }
    } else {
      cursor = first?.base ?? 0;
      if ('corrupt' in read) logger.warn({ backend: name, why: read.corrupt }, 'spool: cursor file unreadable; replaying from the oldest segment');
      else if (segments.length > 0) logger.warn({ backend: name }, 'spool: no cursor file; replaying from the oldest segment');
    }
    builders.set(name, new ViewBuilder(cursor, memoryBytes));
  }

  // Segments every backend has passed are kept only until the next checkpoint would delete them anyway.
  const minCursor = Math.min(...[...builders.values()].map((b) => b.cursor), fileEnd);
  while (segments.length > 0 && segments[0]!.end <= minCursor) {
    const s = segments.shift()!;
    await unlink(join(dir, segmentName(s.base))).catch(() => undefined);
  }

  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const isLast = i === segments.length - 1;
    await scanSegment(dir, seg, Math.max(seg.base, minCursor), isLast, logger, (pos, batch) => {
      for (const b of builders.values()) b.add(pos, seg, batch);
    });
  }
  await dropEmpty(dir, segments);

  // Positions only grow: with no segment left, the log goes on from where the last one ended (or the cursors say).
  const end = segments.length > 0 ? segments[segments.length - 1]!.end : hadSegments ? fileEnd : maxCursor;
  const views = new Map<string, RecoveredView>();
  for (const [name, b] of builders) views.set(name, { entries: b.entries, spans: b.spans, end });
  return { segments, end, views };
}

async function scanSegment(
  dir: string,
  seg: Segment,
  from: number,
  isLast: boolean,
  logger: Logger,
  onRecord: (pos: number, batch: Batch) => void,
): Promise<void> {
  const path = join(dir, segmentName(seg.base));
  let tornAt: number | undefined;
  try {
    const fh = await open(path, 'r');
    try {
      const reader = new SegmentReader(fh, seg.base, from, seg.end, (r) => {
        if (r.atEnd && isLast) tornAt = r.from;
        else logger.warn({ segment: segmentName(seg.base), from: r.from, to: r.to, why: r.why }, 'spool: corrupt bytes skipped; the batches there are lost');
      });
      while (!reader.done) for (const r of await reader.read(SCAN_BYTES)) onRecord(r.pos, r.batch);
    } finally {
      await fh.close();
    }
  } catch (err) {
    logger.error({ err, segment: segmentName(seg.base) }, 'spool: segment unreadable; skipping it');
    return;
  }
  if (tornAt !== undefined) {
    logger.warn({ segment: segmentName(seg.base), at: tornAt, cut: seg.end - tornAt }, 'spool: torn tail (an interrupted write) truncated');
    await truncate(path, tornAt - seg.base);
    seg.size = seg.written = tornAt - seg.base;
  }
}

async function dropEmpty(dir: string, segments: Segment[]): Promise<void> {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i]!.size > 0) continue;
    await unlink(join(dir, segmentName(segments[i]!.base))).catch(() => undefined);
    segments.splice(i, 1);
  }
}
