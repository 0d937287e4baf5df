/**
 * The append-only segment log: hands out log positions synchronously, writes records in groups (one writev per
 * group, one fd per segment, sequential) and commits them per the fsync policy.
 *
 * Invariants:
 * - A position is a byte offset in the log; segment files are named by the position of their first byte and hold
 *   whole records. Positions only grow, except that a failed write rolls the tail back to `committedEnd`.
 * - committedEnd <= written <= assigned. An append's promise resolves, in position order, once its record is
 *   committed as the fsync policy says (what each policy guarantees, and why: the `fsync` key in config/schema.ts):
 *   'always' once written and fdatasync'ed (group commit: appends that arrive meanwhile form the next group);
 *   'interval' and 'never' once written, 'interval' then fdatasyncing in the background beside the next writes.
 * - Rotation is a commit point: a segment is fully committed before the next one is opened, so uncommitted records
 *   always sit in the open segment or in the queue.
 * - A consumed segment is deleted, the open one included once it is idle; the log then has no segment and the next
 *   append opens one at `committedEnd`. Positions still only grow (recovery restarts from the highest cursor).
 * - One writer loop: writes, 'always' syncs, rotations and rollbacks never overlap. Only the background fdatasync
 *   of 'interval' runs beside writes, and never beside a rotation or close (quiesceSync).
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch } from '../../batch.js';
import { LogThrottle, type Logger } from '../../telemetry/logger.js';
import { SpoolError } from './errors.js';
import { segmentName, syncDir } from './files.js';
import { SegmentReader, type CorruptRange, type ScannedRecord } from './segment-reader.js';

import type { FsyncPolicy } from '../../config/enums.js';

export class Segment {
  /** Bytes handed out in this segment (its end is base + size). */
  size: number;
  /** Bytes written to the file. */
  written: number;
  /** Recovered segments are only read and deleted; appends go to a new one. */
  sealed: boolean;
  fh: FileHandle | undefined;
  constructor(
    readonly base: number,
    size = 0,
    sealed = false,
  ) {
    this.size = size;
    this.written = size;
    this.sealed = sealed;
  }
  get end(): number {
    return this.base + this.size;
  }
}

export interface RecordRef {
  readonly pos: number;
  readonly end: number;
  readonly seg: Segment;
}

/** A record that was handed a position but rolled back by a failed write. */
export interface RolledBack {
  readonly pos: number;
  readonly seg: Segment;
  readonly batch: Batch;
}

interface Pending extends RecordRef, RolledBack {
  readonly head: Buffer;
  readonly batch: Batch;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface LogOptions {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly segmentBytes: number;
  readonly logger: Logger;
  /** Records up to `end` are committed (called after their promises resolved). */
  readonly onCommit: (end: number) => void;
  /** A failed write: records from `to` on are gone, before their promises are rejected. */
  readonly onRollback: (to: number, records: readonly RolledBack[]) => void;
  /** A write, fdatasync or segment creation failed (after onRollback): `bytes` is what could not be written. */
  readonly onError?: (err: SpoolError, bytes: number) => void;
}

/** At most this many records per writev (2 iovecs each; Linux IOV_MAX is 1024). */
const MAX_GROUP_RECORDS = 500;
/** Large groups are split: one writev call stays reasonable, and appends resolve as their group lands. */
const MAX_GROUP_BYTES = 32 << 20;

export class SegmentLog {
  readonly io = { writes: 0, syncs: 0, bytesWritten: 0, bytesRead: 0 };
  /** A full disk fails every write a client retries: one error line per 10 s, with a count. */
  private readonly throttle = new LogThrottle();
  private readonly segs: Segment[];
  private queue: Pending[] = [];
  private queueHead = 0;
  private inFlight: Pending[] = [];
  /** Under 'always': written, waiting for their fdatasync. */
  private unsynced: Pending[] = [];
  /** Under 'interval': the open segment has writes no fdatasync has covered yet. */
  private dirty = false;
  private backgroundSync: Promise<void> | undefined;
  /** The segment open for writing. */
  private current: Segment | undefined;
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private lastSyncAt = -Infinity;
  private committed: number;
  private failure: SpoolError | undefined;
  private closed = false;

  /** @param segments recovered segments (sealed), sorted; @param end the log position where appends start */
  constructor(
    private readonly opts: LogOptions,
    segments: Segment[],
    end: number,
  ) {
    this.segs = segments;
    this.committed = end;
    const last = segments[segments.length - 1];
    if (last && last.end !== end) throw new Error('BUG: log end is not the end of its last segment');
  }

  get segments(): readonly Segment[] {
    return this.segs;
  }
  get committedEnd(): number {
    return this.committed;
  }
  /** Where the next record goes. */
  get end(): number {
    const last = this.segs[this.segs.length - 1];
    return last ? last.end : this.committed;
  }
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segs) n += s.written;
    return n;
  }
  /** Set once the log can no longer append (a rollback could not truncate): every append fails. */
  get broken(): SpoolError | undefined {
    return this.failure;
  }

  /** Hands the record its position now; the promise settles when it is committed or rolled back. */
  append(head: Buffer, batch: Batch): { ref: RecordRef; done: Promise<void> } {
    if (this.failure) throw this.failure;
    if (this.closed) throw new SpoolError('the spool is closed');
    const len = head.length + batch.body.length;
    let seg = this.segs[this.segs.length - 1];
    if (!seg || seg.sealed || (seg.size > 0 && seg.size + len > this.opts.segmentBytes)) {
      seg = new Segment(this.end);
      this.segs.push(seg);
    }
    const pos = seg.end;
    seg.size += len;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = { pos, end: pos + len, seg, head, batch, resolve, reject };
    this.queue.push(p);
    this.kick();
    return { ref: p, done };
  }

  /** Reads committed records of `seg` from `from`, about `maxBytes` of them. `next` is where to continue. */
  async read(seg: Segment, from: number, maxBytes: number, onCorrupt: (r: CorruptRange) => void): Promise<{ records: ScannedRecord[]; next: number }> {
    const limit = Math.min(seg.base + seg.written, this.committed);
    if (from >= limit) return { records: [], next: from };
    const fh = await open(join(this.opts.dir, segmentName(seg.base)), 'r');
    try {
      const reader = new SegmentReader(fh, seg.base, from, limit, onCorrupt);
      const records = await reader.read(maxBytes);
      this.io.bytesRead += reader.position - from;
      return { records, next: reader.position };
    } finally {
      await fh.close();
    }
  }

  /**
   * Deletes the segments that end at or before `pos` (every persisted cursor has passed them). The open segment goes
   * too once it is idle (nothing queued or being written, no fdatasync running): the next append starts a new
   * segment at the same position. Without that, a disk that filled up would stay full after every backend caught up.
   */
  async releaseBefore(pos: number): Promise<void> {
    while (this.segs.length > 0) {
      const s = this.segs[0]!;
      if (s.end > pos || s.end > this.committed) break;
      if (s === this.current) {
        if (this.busy || this.segs.length > 1) break;
        // Everything in it is consumed: its pending background fdatasync is moot.
        if (this.syncTimer) clearTimeout(this.syncTimer);
        this.syncTimer = undefined;
        this.dirty = false;
        this.current = undefined;
        s.sealed = true;
      }
      this.segs.shift();
      const fh = s.fh;
      s.fh = undefined;
      await fh?.close().catch(() => undefined);
      await unlink(join(this.opts.dir, segmentName(s.base))).catch((err: unknown) => {
        this.opts.logger.warn({ err, segment: segmentName(s.base) }, 'could not delete a consumed spool segment');
      });
    }
  }

  /** Appends are queued or being written, or an fdatasync runs. */
  get busy(): boolean {
    return this.running || this.queueHead < this.queue.length || this.backgroundSync !== undefined;
  }

  /** Writes and commits everything appended (with a final fdatasync whatever the policy), then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.quiesceSync();
    const seg = this.current;
    this.current = undefined;
    if (!seg?.fh) return;
    try {
      if (!this.failure) await seg.fh.datasync();
    } catch (err) {
      this.opts.logger.error({ err }, 'spool: fdatasync at close failed');
    }
    await seg.fh.close().catch(() => undefined);
    seg.fh = undefined;
  }

  private idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.drive();
  }

  private async drive(): Promise<void> {
    for (;;) {
      if (this.failure) {
        this.rejectQueued(this.failure);
        break;
      }
      try {
        if (this.queueHead < this.queue.length) await this.writeGroup();
        else break;
      } catch (err) {
        await this.fail(err as Error);
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async writeGroup(): Promise<void> {
    const first = this.queue[this.queueHead]!;
    if (first.seg !== this.current) await this.openSegment(first.seg);
    const seg = first.seg;
    const group: Pending[] = [];
    const bufs: Buffer[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length && group.length < MAX_GROUP_RECORDS && bytes < MAX_GROUP_BYTES) {
      const p = this.queue[this.queueHead]!;
      if (p.seg !== seg) break;
      group.push(p);
      bufs.push(p.head, p.batch.body);
      bytes += p.end - p.pos;
      this.queueHead++;
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    this.inFlight = group;
    if (first.pos !== seg.base + seg.written) throw new Error(`BUG: spool write at ${first.pos}, file ends at ${seg.base + seg.written}`);
    const { bytesWritten } = await seg.fh!.writev(bufs, seg.written);
    if (bytesWritten !== bytes) {
      throw Object.assign(new Error(`short write: ${bytesWritten} of ${bytes} bytes (disk full?)`), { code: 'ENOSPC' });
    }
    seg.written += bytes;
    this.io.writes++;
    this.io.bytesWritten += bytes;
    this.inFlight = [];
    if (this.opts.fsync === 'always') {
      this.unsynced = group;
      return this.sync();
    }
    this.commit(group);
    if (this.opts.fsync === 'interval') {
      this.dirty = true;
      this.scheduleSync();
    }
  }

  /** 'always': the group is committed once its fdatasync returns. */
  private async sync(): Promise<void> {
    await this.current!.fh!.datasync();
    this.io.syncs++;
    const group = this.unsynced;
    this.unsynced = [];
    this.commit(group);
  }

  /** 'interval': one background fdatasync per interval at most; the first after an idle period starts at once. */
  private scheduleSync(): void {
    if (this.syncTimer || this.backgroundSync || !this.dirty || this.closed) return;
    const delay = Math.max(0, this.lastSyncAt + this.opts.fsyncIntervalMs - performance.now());
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.backgroundSync = this.syncInBackground().finally(() => {
        this.backgroundSync = undefined;
        this.scheduleSync();
      });
    }, delay);
  }

  /** No background fdatasync running or scheduled (one finishing may schedule the next: hence the loop). */
  private async quiesceSync(): Promise<void> {
    while (this.syncTimer || this.backgroundSync) {
      if (this.syncTimer) clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
      await this.backgroundSync;
    }
  }

  private async syncInBackground(): Promise<void> {
    const fh = this.current?.fh;
    this.dirty = false;
    if (!fh) return;
    this.lastSyncAt = performance.now();
    try {
      await fh.datasync();
      this.io.syncs++;
    } catch (err) {
      // The writes were acknowledged already: nothing to roll back, but a power cut may now take more than an interval.
      this.opts.logger.error({ err }, 'spool: background fdatasync failed; recent acknowledged writes may not survive a power cut');
    }
  }

  private commit(group: readonly Pending[]): void {
    const last = group[group.length - 1];
    if (!last) return;
    this.committed = last.end;
    for (const p of group) p.resolve();
    this.opts.onCommit(this.committed);
  }

  /** Seals the open segment (everything in it committed), then creates the next one. */
  private async openSegment(seg: Segment): Promise<void> {
    const prev = this.current;
    if (prev) {
      if (this.unsynced.length > 0) await this.sync();
      await this.quiesceSync();
      if (this.dirty) {
        this.dirty = false;
        await prev.fh!.datasync();
        this.io.syncs++;
      }
      this.current = undefined;
      prev.sealed = true;
      await prev.fh!.close();
      prev.fh = undefined;
    }
    seg.fh = await open(join(this.opts.dir, segmentName(seg.base)), 'wx', 0o600);
    this.current = seg;
    if (this.opts.fsync !== 'never') await syncDir(this.opts.dir);
  }

  /**
   * A write, sync or open failed: everything not committed is rolled back (views first, then promises rejected) and
   * the open file is cut back to what was committed. If that cut fails too, the log is broken until a restart
   * (recovery will checksum its way past whatever is on disk).
   */
  private async fail(cause: Error): Promise<void> {
    const err = new SpoolError(`spool write failed in ${this.opts.dir}: ${cause.message}`, { cause });
    const lost: Pending[] = [...this.unsynced, ...this.inFlight, ...this.queue.slice(this.queueHead)];
    this.unsynced = [];
    this.inFlight = [];
    this.queue = [];
    this.queueHead = 0;
    const to = this.committed;
    const seg = this.current;
    // Segments that hold nothing committed go; the open one is cut back to its committed length.
    const dropped: Segment[] = [];
    while (this.segs.length > 0) {
      const s = this.segs[this.segs.length - 1]!;
      if (s.base < to || (s === seg && s.base === to)) break;
      dropped.push(this.segs.pop()!);
    }
    const tail = this.segs[this.segs.length - 1];
    if (tail) tail.size = to - tail.base;
    const suppressed = this.throttle.admit('write');
    if (suppressed !== undefined) {
      this.opts.logger.error(
        { err: cause, records: lost.length, position: to, ...(suppressed > 0 ? { suppressed } : {}) },
        'spool write failed; the uncommitted batches failed with it',
      );
    }
    this.opts.onRollback(to, lost);
    for (const p of lost) p.reject(err);
    this.opts.onError?.(err, lost.reduce((n, p) => n + (p.end - p.pos), 0));
    try {
      for (const s of dropped) {
        if (s.fh) {
          await s.fh.close().catch(() => undefined);
          s.fh = undefined;
          await unlink(join(this.opts.dir, segmentName(s.base)));
        }
      }
      if (seg && seg === tail) {
        await seg.fh!.truncate(to - seg.base);
        seg.written = to - seg.base;
      } else if (seg) {
        this.current = undefined;
      }
    } catch (truncErr) {
      this.failure = new SpoolError(`spool in ${this.opts.dir} is disabled until a restart: could not roll back a failed write (${(truncErr as Error).message})`, { cause: truncErr });
      this.opts.logger.error({ err: truncErr }, 'spool: rollback failed; every append fails until restart');
    }
  }

  private rejectQueued(err: SpoolError): void {
    const lost = [...this.queue.slice(this.queueHead)];
    this.queue = [];
    this.queueHead = 0;
    if (lost.length === 0) return;
    const to = lost[0]!.pos;
    this.opts.onRollback(to, lost);
    for (const p of lost) p.reject(err);
  }
}
