/**
 * The durable spool: one append-only log per listener, shared by every backend of that listener, so that a write
 * is acknowledged only once it is on disk, and a crash or restart loses nothing that was acknowledged.
 *
 * Design
 * - append(batch) writes ONE record whatever the number of backends, and resolves once the record is committed per
 *   the fsync policy. Each backend reads the log through its own view (a BatchQueue) with its own durable cursor:
 *   the position of the first record it still needs. A segment file is deleted once every persisted cursor has
 *   passed it.
 * - Memory is a cache of the log's tail: a view keeps the original Batch objects of its newest records (up to
 *   memoryBytesPerBackend), so the healthy path never reads back from disk. A backend with a longer backlog keeps
 *   the rest as on-disk spans and reads them back in order as it drains (catchingUp); nothing overtakes a backlog.
 * - Capacity: each backend's backlog (body bytes not yet acked, in memory or on disk) is bounded by
 *   maxBytesPerBackend (spool-max-mb). append checks every backend before writing anything: under 'reject' it
 *   refuses the batch (SpoolFullError), under 'drop-oldest' it drops that backend's oldest unleased batches (only
 *   its cursor moves; other backends keep theirs) and reports them to onDrop.
 * - How the fan-out uses it: `await spool.append(batch)` is the whole admission: once the record is durable, every
 *   backend's view holds the batch, leasable (or on disk, to be read back), and its sender is woken. A refused
 *   append put it nowhere.
 * - Cursors advance on ack (over the acked prefix; out-of-order acks wait for the ones before) and are persisted
 *   lazily, once a second and at close: after a crash a backend may get again what it had delivered in the last
 *   second. That is at-least-once, and harmless: rewriting a point with the same timestamp is idempotent in InfluxDB.
 * - fsync: when append resolves (hence when the client gets its 204) follows the `fsync` policy, whose meaning is
 *   documented once, with the key, in src/config/schema.ts. Writes are large sequential writev calls (a group of
 *   records at once), one fd per segment.
 * - Failure: a failed write (or fdatasync under 'always') rolls the uncommitted tail back and rejects those appends
 *   with SpoolError (the client gets a 503 and may retry); the relay never crashes on a disk error.
 * - Disk full: nothing the spool does to make progress needs new space. Cursors are overwritten in place
 *   (files.ts), and once every persisted cursor has passed the whole log, even the open segment is deleted (the
 *   next append starts a new one at the same position), so draining the backlog gives the space back. While
 *   writes fail, health() reports the error and each checkpoint probes for space (a relay out of rotation gets no
 *   writes to find out); the first write or probe that succeeds clears it. No restart needed.
 *
 * On-disk format (dir = one listener's spool directory, mode 0700; files 0600)
 *   LOCK.sock                     the lock: a socket the holder listens on (lock.ts); LOCK: its pid, for humans
 *   00000000000000000000.seg      segments, named by the log position (byte offset) of their first byte,
 *   00000000000067108919.seg      20 decimal digits; each holds whole records, about segmentBytes of them
 *   cursor-<backend>              a backend's cursor (URI-encoded name): two slots overwritten in turn (files.ts)
 * A record (little-endian, unpadded; record.ts):
 *   magic "IRSP" | crc32 u32 of everything after it | version u8 = 1 | precision u8 | reserved u16 |
 *   metaLen u32 | bodyLen u32 | points u32 | receivedAt f64 (ms) | target: db, rp, authorization, u, p as
 *   u16 length (0xFFFF absent) + UTF-8 | body (the line protocol, as received and stamped)
 * Credentials ARE stored, in clear: a backend needs them to replay the write. Protect the directory like the
 * config file.
 *
 * Recovery (recovery.ts): a torn last record is truncated, corrupt bytes are skipped to the next valid record, a
 * missing segment or cursor and junk files are logged; never a crash, never another segment lost.
 */
import { mkdir } from 'node:fs/promises';
import type { Batch } from '../../batch.js';
import { createLogger, LogThrottle, type Logger } from '../../telemetry/logger.js';
import { SpoolError, SpoolFullError } from './errors.js';
import { probeSpace, removeCursor, writeCursor } from './files.js';
import { DirLock } from './lock.js';
import { encodeHead, RecordTooLargeError } from './record.js';
import { recover } from './recovery.js';
import type { FsyncPolicy, WhenFull } from '../../config/enums.js';
import { SegmentLog } from './segment-log.js';
import { SpoolView, type Entry, type SpoolQueue } from './view.js';

export type { SpoolQueue } from './view.js';
export { SpoolError, SpoolFullError, SpoolLockedError } from './errors.js';

export type DropReason = 'spool-full' | 'spool-lost';

export interface SpoolOptions {
  /** This listener's directory; created if missing. */
  readonly dir: string;
  /** Backend names, in config order; each gets a view and a cursor. */
  readonly backends: readonly string[];
  /** Bound on each backend's backlog, in body bytes (spool-max-mb). */
  readonly maxBytesPerBackend: number;
  readonly fsync: FsyncPolicy;
  /** Under 'interval': at most one background fdatasync per this many ms (what a power cut can take). */
  readonly fsyncIntervalMs: number;
  readonly whenFull: WhenFull;
  /** Segment file size; default maxBytesPerBackend / 16, within [1 MiB, 64 MiB]. */
  readonly segmentBytes?: number;
  /** Batches a view keeps in memory before reading the rest back from disk; default min(maxBytesPerBackend, 64 MiB). */
  readonly memoryBytesPerBackend?: number;
  /** How often cursors are persisted and consumed segments deleted; default 1000 ms. */
  readonly checkpointMs?: number;
  readonly logger?: Logger;
  /**
   * Batches dropped for one backend. The spool keeps no per-point times for records on disk: `sinceMs` is the receipt
   * time of the oldest dropped record; the missed window runs from there to now, in every database.
   */
  readonly onDrop?: (backend: string, points: number, reason: DropReason, sinceMs: number) => void;
  /** A disk operation failed: 'write' (appends refused with SpoolError) or 'cursor' (a cursor could not be saved). */
  readonly onDiskError?: (op: DiskOp) => void;
}

export type DiskOp = 'write' | 'cursor';

/** Whether the spool's disk works. `error` and `since` (ISO 8601, the first failure of this streak) when not. */
export interface SpoolHealth {
  readonly ok: boolean;
  readonly error?: string;
  readonly since?: string;
}

interface DiskError {
  message: string;
  readonly since: number;
}

export interface SpoolStats {
  /** Backlog in body bytes, in memory or on disk (what spool-max-mb bounds). */
  readonly bytes: number;
  readonly records: number;
  readonly oldestReceivedAt?: number;
  /** Records this backend found in its backlog when the spool was opened. */
  readonly replayedRecords: number;
  readonly catchingUp: boolean;
}

export interface SpoolIo {
  readonly writes: number;
  readonly syncs: number;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  readonly diskBytes: number;
  readonly segments: number;
}

const MiB = 1 << 20;
/** While writes fail, each checkpoint probes for the space the failed write needed, within these bounds. */
const PROBE_MIN_BYTES = 64 << 10;
const PROBE_MAX_BYTES = 8 * MiB;

export class Spool {
  private readonly views = new Map<string, SpoolView>();
  private readonly memoryBytes: number;
  private readonly persisted = new Map<string, number>();
  private readonly throttle = new LogThrottle();
  private readonly log: SegmentLog;
  private readonly logger: Logger;
  private checkpointChain: Promise<void> = Promise.resolve();
  private checkpointing = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private lock: DirLock | undefined;
  /** Set by a failed write, cleared by the next commit or successful probe. */
  private writeError: DiskError | undefined;
  private probeBytes = PROBE_MIN_BYTES;
  /** Bumped by every failed write: a probe that raced with one does not clear it. */
  private writeFailures = 0;
  /** Set by a failed cursor write, cleared once every cursor is saved. */
  private cursorError: DiskError | undefined;

  static async open(opts: SpoolOptions): Promise<Spool> {
    validate(opts);
    const logger = (opts.logger ?? createLogger('silent')).child({ component: 'spool', dir: opts.dir });
    const memoryBytes = opts.memoryBytesPerBackend ?? Math.min(opts.maxBytesPerBackend, 64 * MiB);
    let lock: DirLock | undefined;
    try {
      await mkdir(opts.dir, { recursive: true, mode: 0o700 });
      lock = await DirLock.take(opts.dir);
      const recovered = await recover(opts.dir, opts.backends, memoryBytes, logger);
      const spool = new Spool(opts, logger, memoryBytes, recovered);
      spool.lock = lock;
      // Cursors clamped by recovery are written before anything new is appended behind them.
      await spool.checkpoint();
      spool.timer = setInterval(() => {
        if (!spool.checkpointing) void spool.checkpoint().catch(() => undefined); // a slow disk does not pile them up
      }, opts.checkpointMs ?? 1000);
      spool.timer.unref();
      logger.info(
        { backlog: Object.fromEntries([...spool.views].map(([n, v]) => [n, { records: v.length, bytes: v.bytes }])), segments: recovered.segments.length },
        'spool opened',
      );
      return spool;
    } catch (err) {
      await lock?.release();
      if (err instanceof SpoolError) throw err;
      throw new SpoolError(`cannot open the spool in ${opts.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  private constructor(
    private readonly opts: SpoolOptions,
    logger: Logger,
    memoryBytes: number,
    recovered: Awaited<ReturnType<typeof recover>>,
  ) {
    this.logger = logger;
    this.log = new SegmentLog(
      {
        dir: opts.dir,
        fsync: opts.fsync,
        fsyncIntervalMs: opts.fsyncIntervalMs,
        segmentBytes: opts.segmentBytes ?? Math.min(64 * MiB, Math.max(MiB, Math.floor(opts.maxBytesPerBackend / 16))),
        logger,
        onCommit: () => {
          if (this.writeError) {
            logger.info({ since: new Date(this.writeError.since).toISOString() }, 'spool: writes succeed again');
            this.writeError = undefined;
          }
          for (const v of this.views.values()) v.committed();
        },
        onRollback: (to, records) => {
          for (const v of this.views.values()) v.rollback(to, records);
        },
        onError: (err, bytes) => {
          this.writeError = noteError(this.writeError, err);
          this.writeFailures++;
          this.probeBytes = Math.min(PROBE_MAX_BYTES, Math.max(PROBE_MIN_BYTES, bytes));
          opts.onDiskError?.('write');
        },
      },
      recovered.segments,
      recovered.end,
    );
    this.memoryBytes = memoryBytes;
    for (const name of opts.backends) this.views.set(name, this.makeView(name, recovered.views.get(name)!));
  }

  private makeView(name: string, initial: ConstructorParameters<typeof SpoolView>[1]): SpoolView {
    return new SpoolView(
      {
        name,
        capacityBytes: this.opts.maxBytesPerBackend,
        memoryBytes: this.memoryBytes,
        log: this.log,
        logger: this.logger,
        onLost: (points, _records, _why, sinceMs) => this.opts.onDrop?.(name, points, 'spool-lost', sinceMs),
      },
      initial,
    );
  }

  /** The backends with a view, in the order they were added. */
  get backendNames(): string[] {
    return [...this.views.keys()];
  }

  /**
   * A reload added an output: its view starts at the log's end, so it gets what is appended from now on (what came
   * before, it never had: the relay records that as missed). Its cursor is written at the next checkpoint.
   */
  addBackend(name: string): SpoolQueue {
    let v = this.views.get(name);
    if (!v) {
      v = this.makeView(name, { entries: [], spans: [], end: this.log.end });
      this.views.set(name, v);
    }
    return v;
  }

  /**
   * A reload removed an output (after its backend drained what it could): its view and cursor go, so the log is no
   * longer kept for it. Returns what it still held, for the relay to record as missed.
   */
  async removeBackend(name: string): Promise<{ records: number; points: number; oldestReceivedAt?: number }> {
    const v = this.views.get(name);
    if (!v) return { records: 0, points: 0 };
    const oldest = v.oldestReceivedAt();
    const left = { records: v.length, points: v.points, ...(oldest !== undefined ? { oldestReceivedAt: oldest } : {}) };
    v.close();
    this.views.delete(name);
    this.persisted.delete(name);
    await removeCursor(this.opts.dir, name);
    return left;
  }

  /**
   * Writes the batch once for every backend; resolves when it is durable per the fsync policy. Rejects, with
   * nothing written for any backend, with SpoolFullError when some backend's backlog would exceed
   * maxBytesPerBackend under 'reject' (or cannot be made to fit under 'drop-oldest': everything left is in flight),
   * and with SpoolError on a disk error or once closed. Once it resolves, every backend's view holds the batch.
   */
  append(batch: Batch): Promise<void> {
    if (this.closing) return Promise.reject(new SpoolError('the spool is closed'));
    if (this.log.broken) return Promise.reject(this.log.broken);
    const len = batch.body.length;
    const cap = this.opts.maxBytesPerBackend;
    let drops: Array<[SpoolView, number]> | undefined;
    for (const v of this.views.values()) {
      const need = v.bytes + len - cap;
      if (need <= 0) continue;
      if (this.opts.whenFull === 'reject' || len > cap || v.droppableBytes < need) {
        return Promise.reject(new SpoolFullError(v.name, v.bytes, cap));
      }
      (drops ??= []).push([v, need]);
    }
    let head: Buffer;
    try {
      head = encodeHead(batch);
    } catch (err) {
      if (err instanceof RecordTooLargeError) return Promise.reject(new SpoolError(err.message, { cause: err }));
      throw err;
    }
    if (drops) for (const [v, need] of drops) this.dropOldest(v, need);
    const { ref, done } = this.log.append(head, batch);
    const entries: Array<[SpoolView, Entry]> = [];
    for (const v of this.views.values()) {
      const e = v.appended(batch, ref);
      if (e) entries.push([v, e]);
    }
    // Durable: every backend's entry becomes leasable in the same step (records on disk only are read back).
    return done.then(() => {
      for (const [v, e] of entries) v.commit(e);
    });
  }

  /** The queue one backend leases from. After a restart it already holds that backend's backlog. */
  queue(backend: string): SpoolQueue {
    const v = this.views.get(backend);
    if (!v) throw new Error(`spool in ${this.opts.dir} has no backend named ${JSON.stringify(backend)}`);
    return v;
  }

  stats(backend: string): SpoolStats {
    const v = this.queue(backend) as SpoolView;
    const oldest = v.oldestReceivedAt();
    return {
      bytes: v.bytes,
      records: v.length,
      ...(oldest !== undefined ? { oldestReceivedAt: oldest } : {}),
      replayedRecords: v.replayedRecords,
      catchingUp: v.catchingUp,
    };
  }

  /**
   * Whether the disk under the spool works: not ok while writes fail (disk full, I/O error; appends are refused with
   * SpoolError until a write or a space probe succeeds) or cursors cannot be saved (consumed segments are then kept).
   */
  health(): SpoolHealth {
    const broken = this.log.broken;
    if (broken) return { ok: false, error: broken.message };
    const e = this.writeError ?? this.cursorError;
    if (!e) return { ok: true };
    const since = Math.min(this.writeError?.since ?? Infinity, this.cursorError?.since ?? Infinity);
    return { ok: false, error: e.message, since: new Date(since).toISOString() };
  }

  /** I/O counters for metrics. */
  get io(): SpoolIo {
    return { ...this.log.io, diskBytes: this.log.diskBytes, segments: this.log.segments.length };
  }

  /** Persists every cursor that moved, then deletes the segments every backend has passed. Runs once a second. */
  checkpoint(): Promise<void> {
    this.checkpointing++;
    const run = this.checkpointChain.then(() => this.persistCursors()).finally(() => this.checkpointing--);
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  /** Commits everything appended (fdatasync whatever the policy), persists the cursors. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.log.close();
      for (const v of this.views.values()) v.close();
      await this.checkpoint().catch(() => undefined);
      await this.lock?.release();
    })();
    return this.closing;
  }

  private async persistCursors(): Promise<void> {
    const durable = this.opts.fsync !== 'never';
    let min = this.log.committedEnd;
    let failed: Error | undefined;
    for (const [name, v] of this.views) {
      const pos = v.cursor();
      if (this.persisted.get(name) !== pos) {
        try {
          await writeCursor(this.opts.dir, name, pos, durable);
          this.persisted.set(name, pos);
        } catch (err) {
          failed = err as Error;
          this.opts.onDiskError?.('cursor');
          this.throttle.log(this.logger, 'error', `cursor:${name}`, { err, backend: name }, 'spool: could not persist a cursor');
        }
      }
      min = Math.min(min, this.persisted.get(name) ?? -1);
    }
    this.cursorError = failed ? noteError(this.cursorError, new SpoolError(`spool cursor write failed in ${this.opts.dir}: ${failed.message}`, { cause: failed })) : undefined;
    if (min >= 0) await this.log.releaseBefore(min);
    if (this.writeError && !this.log.busy && !this.closing) await this.probe();
  }

  /** Writes fail: whether the space they need is back. Nothing else would tell a relay that gets no writes. */
  private async probe(): Promise<void> {
    const failures = this.writeFailures;
    try {
      await probeSpace(this.opts.dir, this.probeBytes);
    } catch (err) {
      this.throttle.log(this.logger, 'warn', 'probe', { err, bytes: this.probeBytes }, 'spool: disk still refuses writes');
      return;
    }
    if (!this.writeError || failures !== this.writeFailures) return;
    this.logger.info({ since: new Date(this.writeError.since).toISOString() }, 'spool: disk space is back; accepting writes again');
    this.writeError = undefined;
  }

  private dropOldest(v: SpoolView, need: number): void {
    const d = v.dropOldest(need);
    this.opts.onDrop?.(v.name, d.points, 'spool-full', d.sinceMs);
    const fields = { backend: v.name, points: d.points, batches: d.records, bytes: d.bytes };
    this.throttle.log(this.logger, 'warn', `drop:${v.name}`, fields, 'spool full: dropped the oldest batches of this backend (when-full = drop-oldest)');
  }
}

/** The streak keeps its first `since`; the message is the latest. */
function noteError(current: DiskError | undefined, err: Error): DiskError {
  if (current) {
    current.message = err.message;
    return current;
  }
  return { message: err.message, since: Date.now() };
}

function validate(o: SpoolOptions): void {
  const positive = (n: number | undefined, key: string) => {
    if (n !== undefined && !(Number.isFinite(n) && n > 0)) throw new TypeError(`spool option ${key} must be a positive number, got ${n}`);
  };
  positive(o.maxBytesPerBackend, 'maxBytesPerBackend');
  positive(o.fsyncIntervalMs, 'fsyncIntervalMs');
  positive(o.segmentBytes, 'segmentBytes');
  positive(o.memoryBytesPerBackend, 'memoryBytesPerBackend');
  positive(o.checkpointMs, 'checkpointMs');
  if (new Set(o.backends).size !== o.backends.length) throw new TypeError('spool backends must have distinct names');
}
