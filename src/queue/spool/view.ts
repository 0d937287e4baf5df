/**
 * One backend's view of the spool: the BatchQueue its sender leases from, over the log from this backend's cursor.
 *
 * Memory holds the oldest part of the backlog as entries in log order, up to `memoryBytes`. Past that, newer records
 * stay on disk only, counted in spans (per segment: this view's records from a position on), and a loader reads them
 * back in order as memory drains. While any span exists every new record joins a span too, so nothing overtakes the
 * backlog; once the loader has caught up, new records are kept in memory again: the healthy path never reads disk.
 *
 * Entry states: RESERVED (appended, its append not yet resolved: not leasable until committed), PENDING, LEASED, DONE
 * (acked or dropped). The cursor, persisted lazily by the spool, is the position of the first entry not DONE, else
 * of the first span, else the end of the last record appended, and never beyond the log's committed end.
 */
import { DONE, Entries, LEASED, PENDING, RESERVED, type QueueEntry } from '../entries.js';
import type { Batch } from '../../batch.js';
import type { Logger } from '../../telemetry/logger.js';
import type { BatchQueue, Lease } from '../queue.js';
import type { RecordRef, RolledBack, Segment, SegmentLog } from './segment-log.js';
import type { CorruptRange } from './segment-reader.js';


/** A spool record in memory: its batch and its position in the log. */
export interface Entry extends QueueEntry {
  readonly pos: number;
}

/** Records of this view in one segment, from `from` on, that are on disk only. */
export interface Span {
  readonly seg: Segment;
  from: number;
  records: number;
  bytes: number;
  points: number;
  /** receivedAt of the first record ever counted here: the age of the head while it is on disk (an upper bound). */
  firstReceivedAt: number;
}

interface SpoolLease extends Lease {
  readonly entries: readonly Entry[];
}

/** The queue a backend gets from the spool. */
export interface SpoolQueue extends BatchQueue {
  /** Part of the backlog is on disk only and is being read back. */
  readonly catchingUp: boolean;
  /**
   * Called when batches read back from disk became leasable. A sender that found nothing to lease is idle and
   * nothing else would wake it: the backend should try to lease again.
   */
  onLeasable(listener: () => void): void;
}

export interface ViewOptions {
  readonly name: string;
  readonly capacityBytes: number;
  readonly memoryBytes: number;
  readonly log: Pick<SegmentLog, 'read' | 'committedEnd'>;
  readonly logger: Logger;
  /** Records lost from the backlog; `sinceMs`: receipt time of the oldest of them (the window starts there). */
  readonly onLost: (points: number, records: number, why: string, sinceMs: number) => void;
}

/** A failed disk read is retried after this long. */
const READ_RETRY_MS = 1000;

export class SpoolView implements SpoolQueue {
  readonly name: string;
  readonly capacityBytes: number;
  readonly replayedRecords: number;
  private readonly entries: Entries<Entry>;
  /** Bytes and count of entries not DONE; of those, leased and reserved ones. */
  private memBytes = 0;
  private memCount = 0;
  private pendingCount = 0;
  private leasedBytes = 0;
  private reservedBytes = 0;
  private reserved = 0;
  private spans: Span[];
  private diskBytes = 0;
  private diskRecords = 0;
  private lastEnd: number;
  private loading = false;
  /** Bumped when spans are dropped: a read in flight for them is discarded. */
  private generation = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private listener: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly opts: ViewOptions,
    initial: { readonly entries: Entry[]; readonly spans: Span[]; readonly end: number },
  ) {
    this.name = opts.name;
    this.capacityBytes = opts.capacityBytes;
    this.entries = new Entries(initial.entries);
    this.spans = initial.spans;
    this.lastEnd = initial.end;
    for (const e of initial.entries) {
      if (e.state !== PENDING) throw new Error('BUG: a replayed entry is not pending');
      this.memBytes += e.batch.body.length;
    }
    this.memCount = this.pendingCount = initial.entries.length;
    for (const s of this.spans) {
      this.diskBytes += s.bytes;
      this.diskRecords += s.records;
    }
    this.replayedRecords = this.memCount + this.diskRecords;
  }

  get bytes(): number {
    return this.memBytes + this.diskBytes;
  }
  get length(): number {
    return this.memCount + this.diskRecords;
  }
  get pending(): number {
    return this.pendingCount + this.diskRecords;
  }
  /** Points held, in memory or on disk (counted when asked: only a reload removing this backend asks). */
  get points(): number {
    let n = 0;
    for (const e of this.entries.live()) if (e.state !== DONE) n += e.batch.points;
    for (const s of this.spans) n += s.points;
    return n;
  }

  get catchingUp(): boolean {
    return this.spans.length > 0;
  }

  oldestReceivedAt(): number | undefined {
    return this.entries.first?.batch.receivedAt ?? this.spans[0]?.firstReceivedAt;
  }

  onLeasable(listener: () => void): void {
    this.listener = listener;
  }

  /** Where replay starts for this backend after a restart. */
  cursor(): number {
    const pos = this.entries.first?.pos ?? this.spans[0]?.from ?? this.lastEnd;
    return Math.min(pos, this.opts.log.committedEnd);
  }

  /** What drop-oldest could free: everything not leased and not in the middle of its append. */
  get droppableBytes(): number {
    return this.memBytes - this.leasedBytes - this.reservedBytes + this.diskBytes;
  }

  /**
   * The spool appended a record for every backend (capacity already checked): it joins the tail, RESERVED until
   * its append is durable. Returns the entry to commit then; none when the record joined the on-disk spans (the
   * loader reads it once committed).
   */
  appended(batch: Batch, ref: RecordRef): Entry | undefined {
    const len = batch.body.length;
    this.lastEnd = ref.end;
    if (this.spans.length === 0 && (this.memBytes + len <= this.opts.memoryBytes || this.memCount === 0)) {
      const entry: Entry = { batch, pos: ref.pos, state: RESERVED };
      this.entries.push(entry);
      this.memBytes += len;
      this.memCount++;
      this.reservedBytes += len;
      this.reserved++;
      return entry;
    }
    let span = this.spans[this.spans.length - 1];
    if (span?.seg !== ref.seg) {
      span = { seg: ref.seg, from: ref.pos, records: 0, bytes: 0, points: 0, firstReceivedAt: batch.receivedAt };
      this.spans.push(span);
    }
    span.records++;
    span.bytes += len;
    span.points += batch.points;
    this.diskBytes += len;
    this.diskRecords++;
    return undefined;
  }

  /** The entry's append is durable: it becomes leasable, and the sender is told. */
  commit(entry: Entry): void {
    // Dropped (drop-oldest skips reserved entries, so only a rollback) or committed already: nothing to do.
    if (entry.state !== RESERVED) return;
    entry.state = PENDING;
    this.reserved--;
    this.reservedBytes -= entry.batch.body.length;
    this.pendingCount++;
    this.listener?.();
  }

  lease(maxBytes: number): Lease | undefined {
    if (this.pendingCount === 0) return undefined;
    const run = this.entries.lease(maxBytes);
    if (!run) return undefined;
    this.pendingCount -= run.taken.length;
    this.leasedBytes += run.bytes;
    const lease: SpoolLease = { batches: run.batches, bytes: run.bytes, points: run.points, entries: run.taken };
    return lease;
  }

  ack(lease: Lease): void {
    for (const e of (lease as SpoolLease).entries) {
      if (e.state !== LEASED) throw new Error('BUG: ack of a spool entry that is not leased');
      e.state = DONE;
    }
    this.memBytes -= lease.bytes;
    this.leasedBytes -= lease.bytes;
    this.memCount -= lease.batches.length;
    this.entries.compact();
    this.maybeLoad();
  }

  release(lease: Lease): void {
    for (const e of (lease as SpoolLease).entries) {
      if (e.state !== LEASED) throw new Error('BUG: release of a spool entry that is not leased');
      e.state = PENDING;
    }
    this.leasedBytes -= lease.bytes;
    this.pendingCount += lease.batches.length;
  }

  /**
   * drop-oldest: frees at least `need` bytes from the head, skipping leased and reserved entries, then whole spans
   * (a span is dropped whole: its records are not in memory to be counted one by one). The caller checked that
   * droppableBytes >= need.
   */
  dropOldest(need: number): { bytes: number; points: number; records: number; sinceMs: number } {
    let bytes = 0;
    let points = 0;
    let records = 0;
    let sinceMs = Date.now();
    for (const e of this.entries.live()) {
      if (bytes >= need) break;
      if (e.state !== PENDING) continue;
      e.state = DONE;
      sinceMs = Math.min(sinceMs, e.batch.receivedAt);
      bytes += e.batch.body.length;
      points += e.batch.points;
      records++;
      this.pendingCount--;
    }
    this.memBytes -= bytes;
    this.memCount -= records;
    while (bytes < need && this.spans.length > 0) {
      const s = this.spans.shift()!;
      sinceMs = Math.min(sinceMs, s.firstReceivedAt);
      bytes += s.bytes;
      points += s.points;
      records += s.records;
      this.diskBytes -= s.bytes;
      this.diskRecords -= s.records;
      this.generation++;
    }
    this.entries.compact();
    this.maybeLoad();
    return { bytes, points, records, sinceMs };
  }

  /** A failed write took back the records from `to` on: they leave the tail of this view. */
  rollback(to: number, records: readonly RolledBack[]): void {
    this.lastEnd = Math.min(this.lastEnd, to);
    for (let k = records.length - 1; k >= 0; k--) {
      const r = records[k]!;
      const first = this.spans[0];
      if (first && r.pos >= first.from) {
        const s = this.spans[this.spans.length - 1]!;
        const len = r.batch.body.length;
        s.records--;
        s.bytes -= len;
        s.points -= r.batch.points;
        this.diskBytes -= len;
        this.diskRecords--;
        if (s.records === 0) this.spans.pop();
        continue;
      }
      const e = this.entries.last;
      if (!e || e.pos !== r.pos) continue; // dropped already
      this.entries.pop();
      const len = e.batch.body.length;
      if (e.state === DONE) continue;
      this.memBytes -= len;
      this.memCount--;
      if (e.state === RESERVED) {
        this.reserved--;
        this.reservedBytes -= len;
      } else {
        // Entries become pending only once their append is durable, and a rollback takes back only what is not.
        this.opts.logger.error({ backend: this.name, position: e.pos }, 'BUG: a committed spool entry was rolled back');
        if (e.state === PENDING) this.pendingCount--;
        else this.leasedBytes -= len;
        e.state = DONE;
      }
    }
    this.entries.compact();
  }

  /** The log committed more records: a view catching up may read them now. */
  committed(): void {
    if (this.spans.length > 0) this.maybeLoad();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Reads the next records of the first span back into memory once memory is at most half full. */
  private maybeLoad(): void {
    if (this.loading || this.closed || this.retryTimer || this.spans.length === 0) return;
    if (this.memBytes > this.opts.memoryBytes / 2) return;
    const span = this.spans[0]!;
    if (span.from >= this.opts.log.committedEnd) return; // its records are still being written: committed() calls back
    this.loading = true;
    const generation = this.generation;
    this.opts.log
      .read(span.seg, span.from, Math.max(this.opts.memoryBytes - this.memBytes, 1), (r) => this.corrupt(r))
      .then(
        ({ records, next }) => {
          this.loading = false;
          if (this.closed || generation !== this.generation) return this.maybeLoad();
          let loaded = 0;
          for (const r of records) {
            if (span.records === 0) break;
            this.entries.push({ batch: r.batch, pos: r.pos, state: PENDING });
            const len = r.batch.body.length;
            this.memBytes += len;
            this.memCount++;
            this.pendingCount++;
            span.records--;
            span.bytes -= len;
            span.points -= r.batch.points;
            span.firstReceivedAt = r.batch.receivedAt;
            this.diskBytes -= len;
            this.diskRecords--;
            loaded++;
          }
          const stuck = records.length === 0 && next === span.from;
          span.from = next;
          if (span.records > 0 && (stuck || (next >= span.seg.end && span.seg.end <= this.opts.log.committedEnd))) {
            this.lose(span, stuck ? 'segment file shorter than written' : 'records missing from their segment');
          } else if (span.records === 0) {
            this.spans.shift();
          }
          if (loaded > 0) this.listener?.();
          this.maybeLoad();
        },
        (err: NodeJS.ErrnoException) => {
          this.loading = false;
          if (this.closed || generation !== this.generation) return this.maybeLoad();
          if (err.code === 'ENOENT') {
            this.lose(span, 'segment file missing');
            return this.maybeLoad();
          }
          this.opts.logger.error({ err, backend: this.name }, 'spool: reading the backlog back failed; retrying');
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.maybeLoad();
          }, READ_RETRY_MS).unref();
        },
      );
  }

  private lose(span: Span, why: string): void {
    this.opts.logger.error({ backend: this.name, records: span.records, points: span.points, why }, 'spool: spooled batches lost');
    this.opts.onLost(span.points, span.records, why, span.firstReceivedAt);
    this.diskBytes -= span.bytes;
    this.diskRecords -= span.records;
    const i = this.spans.indexOf(span);
    if (i >= 0) this.spans.splice(i, 1);
  }

  private corrupt(r: CorruptRange): void {
    this.opts.logger.warn({ backend: this.name, from: r.from, to: r.to, why: r.why }, 'spool: skipped corrupt bytes while reading the backlog');
  }
}
