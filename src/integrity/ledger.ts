/**
 * The missed-window ledger of one relay: per backend, the time ranges (of point timestamps) and databases of
 * every batch the relay gave up on for it, so that a backend that may be missing data is known, kept out of reads,
 * and can be repaired. File format: ledger-file.ts.
 *
 * Invariants:
 * - A drop is merged into the open window of the same (backend, db, rp, reason) when that window's last drop is
 *   at most `mergeGapMs` old: a long outage is one window, not one per batch. Windows only widen.
 * - Recording is in memory and O(1) plus one body scan; the file is appended and fdatasync'ed at most once per
 *   `flushIntervalMs`, and on close. A crash loses at most that interval of records.
 * - Memory backlogs (BacklogTracker) are persisted every `backlogIntervalMs` when they changed. A clean close
 *   writes a marker last; opening a ledger without it turns each backend's last backlog note into
 *   'unclean-stop' windows: the points a crash took with it.
 * - The file is compacted (rewritten atomically) on open and whenever appends exceed `compactAfterBytes`.
 * - One process owns the file: other readers (the `missed` CLI) only read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Batch } from '../batch.js';
import type { Logger } from '../telemetry/logger.js';
import { LogThrottle } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import type { BacklogRange, BacklogTracker } from './backlog.js';
import {
  backlogLine,
  cleanLine,
  headerLine,
  readLedger,
  replaceFile,
  windowLine,
  type BacklogNote,
  type MissedWindow,
} from './ledger-file.js';
import { batchTimeRange, type TimeRange } from './time-range.js';

export type { MissedWindow } from './ledger-file.js';

/** The file name of a relay's ledger inside its spool (or ledger) directory. */
export const LEDGER_FILE_NAME = 'missed-windows.jsonl';

/** Where a relay keeps its ledger: `ledger-dir` when set, else `spool-dir`; undefined when neither is set. */
export function ledgerFile(config: { readonly spoolDir?: string | undefined; readonly ledgerDir?: string | undefined }): string | undefined {
  const dir = config.ledgerDir || config.spoolDir;
  return dir ? path.join(dir, LEDGER_FILE_NAME) : undefined;
}

const UNCLEAN_STOP = 'unclean-stop';

export interface MissedWindowLedgerOptions {
  readonly file: string;
  readonly logger?: Logger;
  /** Registers the missed-window gauge and counts missed points. */
  readonly metrics?: RelayMetrics;
  /** Backends shown in the gauge (as 0) before they miss anything. */
  readonly backends?: readonly string[];
  readonly flushIntervalMs?: number;
  readonly backlogIntervalMs?: number;
  readonly mergeGapMs?: number;
  /** Repaired windows are dropped from the file this long after their repair. */
  readonly retainRepairedMs?: number;
  readonly compactAfterBytes?: number;
  /** Wall clock (tests). */
  readonly now?: () => number;
}

/** A range of points given up for one (db, rp). */
export interface MissedRange {
  readonly db: string;
  readonly rp: string;
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly points: number;
  readonly batches?: number;
}

interface Window {
  readonly id: string;
  readonly backend: string;
  readonly db: string;
  readonly rp: string;
  readonly reason: string;
  fromNs: bigint;
  toNs: bigint;
  points: number;
  batches: number;
  readonly firstAt: number;
  lastAt: number;
  repairedAt: number | undefined;
}

function parseTime(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function toPublic(w: Window): MissedWindow {
  return {
    id: w.id,
    backend: w.backend,
    db: w.db,
    rp: w.rp,
    fromNs: w.fromNs.toString(),
    toNs: w.toNs.toString(),
    points: w.points,
    batches: w.batches,
    reason: w.reason,
    firstAt: iso(w.firstAt),
    lastAt: iso(w.lastAt),
    ...(w.repairedAt !== undefined ? { repairedAt: iso(w.repairedAt) } : {}),
  };
}

function fromPublic(w: MissedWindow): Window {
  return {
    id: w.id,
    backend: w.backend,
    db: w.db,
    rp: w.rp,
    reason: w.reason,
    fromNs: BigInt(w.fromNs),
    toNs: BigInt(w.toNs),
    points: w.points,
    batches: w.batches,
    firstAt: parseTime(w.firstAt),
    lastAt: parseTime(w.lastAt),
    repairedAt: w.repairedAt === undefined ? undefined : parseTime(w.repairedAt),
  };
}

const openKey = (backend: string, db: string, rp: string, reason: string): string =>
  `${backend}\u0000${db}\u0000${rp}\u0000${reason}`;

/** Per (db, rp): the union of several trackers' ranges (one backend name in two listeners). */
function mergeSummaries(trackers: readonly BacklogTracker[]): BacklogRange[] {
  const byKey = new Map<string, { db: string; rp: string; fromNs: bigint; toNs: bigint; points: number }>();
  for (const t of trackers) {
    for (const r of t.summary()) {
      const key = `${r.db}\u0000${r.rp}`;
      const e = byKey.get(key);
      if (e === undefined) byKey.set(key, { ...r });
      else {
        if (r.fromNs < e.fromNs) e.fromNs = r.fromNs;
        if (r.toNs > e.toNs) e.toNs = r.toNs;
        e.points += r.points;
      }
    }
  }
  return [...byKey.values()];
}

export class MissedWindowLedger {
  private readonly windows = new Map<string, Window>();
  /** Open window id per (backend, db, rp, reason). */
  private readonly openWindows = new Map<string, string>();
  private readonly declared: ReadonlySet<string>;
  private readonly dirtyWindows = new Set<string>();
  private readonly backlogNotes = new Map<string, BacklogNote>();
  private readonly dirtyBacklogs = new Set<string>();
  private readonly trackers = new Map<string, { list: BacklogTracker[]; version: number }>();
  private readonly log: Logger | undefined;
  private readonly metrics: RelayMetrics | undefined;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly backlogIntervalMs: number;
  private readonly mergeGapMs: number;
  private readonly retainRepairedMs: number;
  private readonly compactAfterBytes: number;
  private readonly throttle = new LogThrottle(10_000);
  private fh: FileHandle | undefined;
  private appendedBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** Windows made at open from the backlog an unclean stop lost. */
  recovered: readonly MissedWindow[] = [];

  private constructor(readonly file: string, opts: MissedWindowLedgerOptions) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.now = opts.now ?? Date.now;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.backlogIntervalMs = opts.backlogIntervalMs ?? 2000;
    this.mergeGapMs = opts.mergeGapMs ?? 10 * 60_000;
    this.retainRepairedMs = opts.retainRepairedMs ?? 7 * 24 * 3_600_000;
    this.compactAfterBytes = opts.compactAfterBytes ?? 4 * 1024 * 1024;
    this.declared = new Set(opts.backends ?? []);
  }

  /**
   * Reads the ledger (creating its directory and file when missing), turns the backlog an unclean stop lost into
   * windows, compacts the file, and opens it for appending.
   */
  static async open(opts: MissedWindowLedgerOptions): Promise<MissedWindowLedger> {
    const ledger = new MissedWindowLedger(opts.file, opts);
    await mkdir(path.dirname(opts.file), { recursive: true });
    const contents = await readLedger(opts.file);
    const now = ledger.now();
    for (const w of contents.windows.values()) {
      const win = fromPublic(w);
      if (win.repairedAt !== undefined && now - win.repairedAt > ledger.retainRepairedMs) continue;
      ledger.windows.set(win.id, win);
      if (win.repairedAt === undefined) ledger.reopen(win);
    }
    if (!contents.clean) {
      const recovered: MissedWindow[] = [];
      for (const note of contents.backlogs.values()) {
        const at = parseTime(note.at);
        for (const r of note.ranges) {
          if (r.points <= 0) continue;
          const win = ledger.newWindow(note.backend, r.db, r.rp, UNCLEAN_STOP, BigInt(r.fromNs), BigInt(r.toNs), at);
          win.points = r.points;
          recovered.push(toPublic(win));
          ledger.metrics?.missedPoints.labels(note.backend, UNCLEAN_STOP).inc(r.points);
        }
      }
      ledger.recovered = recovered;
    }
    if (contents.skipped > 0) {
      ledger.log?.warn({ file: opts.file, skipped: contents.skipped }, 'missed-window ledger: unreadable lines skipped');
    }
    if (ledger.recovered.length > 0) {
      ledger.log?.warn(
        { file: opts.file, windows: ledger.recovered },
        'missed-window ledger: the last stop was unclean; the memory backlog it held is recorded as missed',
      );
    }
    try {
      await ledger.compact();
    } catch (err) {
      // A full or failing disk must not keep the relay from starting: the windows stay in memory and are written
      // with the next flush, which retries until the disk takes them.
      ledger.log?.error({ err, file: opts.file }, 'missed-window ledger: could not rewrite the file at start; will retry');
      for (const id of ledger.windows.keys()) ledger.dirtyWindows.add(id);
      ledger.scheduleFlush();
    }
    ledger.metrics?.trackMissedWindows(ledger);
    return ledger;
  }

  /** Records a batch given up for `backend`. `range` saves the body scan when the caller already has it. */
  record(backend: string, batch: Batch, reason: string, range: TimeRange | undefined = batchTimeRange(batch)): void {
    if (range === undefined) {
      // A statement has no time range (nor is its text logged: it may hold a password); verify finds the schema it
      // left apart, and the dead-letter file holds it.
      if (batch.statement) this.log?.error({ backend, db: batch.target.db, reason }, 'a statement that changes state never reached this backend: run it there by hand');
      else if (batch.points > 0) this.log?.warn({ backend, db: batch.target.db, points: batch.points, reason }, 'missed batch without timestamps: not in the ledger');
      return;
    }
    const { db, rp } = batch.target;
    this.recordRange(backend, { db, rp, fromNs: range.minNs, toNs: range.maxNs, points: batch.points, batches: 1 }, reason);
  }

  /** Records points given up for `backend` when the caller has the range but not the batch. */
  recordRange(backend: string, r: MissedRange, reason: string): void {
    if (this.closing !== undefined) {
      this.log?.error({ backend, db: r.db, rp: r.rp, fromNs: String(r.fromNs), toNs: String(r.toNs), points: r.points, reason }, 'missed window after the ledger closed: not persisted');
      return;
    }
    const now = this.now();
    const id = this.openWindows.get(openKey(backend, r.db, r.rp, reason));
    const open = id === undefined ? undefined : this.windows.get(id);
    let win: Window;
    if (open !== undefined && open.repairedAt === undefined && now - open.lastAt <= this.mergeGapMs) {
      win = open;
      if (r.fromNs < win.fromNs) win.fromNs = r.fromNs;
      if (r.toNs > win.toNs) win.toNs = r.toNs;
      win.lastAt = Math.max(win.lastAt, now);
    } else {
      win = this.newWindow(backend, r.db, r.rp, reason, r.fromNs, r.toNs, now);
    }
    win.points += r.points;
    win.batches += r.batches ?? 1;
    this.dirtyWindows.add(win.id);
    this.metrics?.missedPoints.labels(backend, reason).inc(r.points);
    this.scheduleFlush();
  }

  private newWindow(backend: string, db: string, rp: string, reason: string, fromNs: bigint, toNs: bigint, at: number): Window {
    let id = randomBytes(6).toString('hex');
    while (this.windows.has(id)) id = randomBytes(6).toString('hex');
    const win: Window = { id, backend, db, rp, reason, fromNs, toNs, points: 0, batches: 0, firstAt: at, lastAt: at, repairedAt: undefined };
    this.windows.set(id, win);
    this.reopen(win);
    this.dirtyWindows.add(id);
    return win;
  }

  /** Makes `win` the open window of its key unless a later one is. */
  private reopen(win: Window): void {
    const key = openKey(win.backend, win.db, win.rp, win.reason);
    const current = this.openWindows.get(key);
    const other = current === undefined ? undefined : this.windows.get(current);
    if (other === undefined || other.repairedAt !== undefined || other.lastAt <= win.lastAt) this.openWindows.set(key, win.id);
  }

  /**
   * Persists `tracker`'s summary of `backend`'s memory backlog every few seconds while it changes. Several
   * trackers for one backend name (one per listener) are summed. Not for spooled backends: their backlog is on disk.
   */
  trackBacklog(backend: string, tracker: BacklogTracker): void {
    const entry = this.trackers.get(backend);
    if (entry === undefined) this.trackers.set(backend, { list: [tracker], version: -1 });
    else {
      entry.list.push(tracker);
      entry.version = -1;
    }
    if (this.backlogTimer === undefined && this.closing === undefined) {
      this.backlogTimer = setInterval(() => this.pollBacklogs(), this.backlogIntervalMs);
      this.backlogTimer.unref();
    }
  }

  /** Notes every tracked backlog that changed since the last poll; then flushes. Exposed for tests. */
  pollBacklogs(): void {
    if (this.closing !== undefined) return;
    const at = iso(this.now());
    for (const [backend, entry] of this.trackers) {
      const version = entry.list.reduce((sum, t) => sum + t.version, 0);
      if (version === entry.version) continue;
      entry.version = version;
      const ranges = mergeSummaries(entry.list).map((r) => ({ db: r.db, rp: r.rp, fromNs: r.fromNs.toString(), toNs: r.toNs.toString(), points: r.points }));
      const previous = this.backlogNotes.get(backend);
      if (ranges.length === 0 && (previous === undefined || previous.ranges.length === 0)) continue;
      this.backlogNotes.set(backend, { backend, at, ranges });
      this.dirtyBacklogs.add(backend);
    }
    if (this.dirtyBacklogs.size > 0) this.scheduleFlush();
  }

  /** Every window (repaired ones too, until dropped), oldest first; only `backend`'s when given. */
  list(backend?: string): MissedWindow[] {
    const out: MissedWindow[] = [];
    for (const w of this.windows.values()) if (backend === undefined || w.backend === backend) out.push(toPublic(w));
    return out.sort((a, b) => (a.firstAt < b.firstAt ? -1 : a.firstAt > b.firstAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** True while `backend` has a window not yet repaired: it may be missing points, so it is not fresh. */
  unrepaired(backend: string): boolean {
    for (const w of this.windows.values()) if (w.backend === backend && w.repairedAt === undefined) return true;
    return false;
  }

  /** How many windows of `backend` are not repaired yet (for /health). */
  missedWindows(backend: string): number {
    let n = 0;
    for (const w of this.windows.values()) if (w.backend === backend && w.repairedAt === undefined) n++;
    return n;
  }

  /** Unrepaired windows per backend, with 0 for every declared backend (the gauge). */
  unrepairedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const b of this.declared) counts.set(b, 0);
    for (const w of this.windows.values()) {
      counts.set(w.backend, (counts.get(w.backend) ?? 0) + (w.repairedAt === undefined ? 1 : 0));
    }
    return counts;
  }

  /**
   * Marks windows of `backend` repaired: those whose id is listed, or that `which` accepts. Resolves, once that
   * is on disk, with how many were marked.
   */
  async markRepaired(backend: string, which: readonly string[] | ((w: MissedWindow) => boolean)): Promise<number> {
    const accept = typeof which === 'function' ? which : (w: MissedWindow) => which.includes(w.id);
    const now = this.now();
    let marked = 0;
    for (const w of this.windows.values()) {
      if (w.backend !== backend || w.repairedAt !== undefined || !accept(toPublic(w))) continue;
      w.repairedAt = now;
      this.dirtyWindows.add(w.id);
      marked++;
    }
    if (marked > 0) await this.flush();
    return marked;
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.closing !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((err: unknown) => {
        if (this.throttle.admit('write') !== undefined) this.log?.error({ err, file: this.file }, 'missed-window ledger: write failed; retrying');
        this.scheduleFlush();
      });
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  /** Writes what changed and fdatasyncs it. Serialized with every other write. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.writeDirty());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeDirty(): Promise<void> {
    if (this.dirtyWindows.size === 0 && this.dirtyBacklogs.size === 0) return;
    const windows = [...this.dirtyWindows];
    const backlogs = [...this.dirtyBacklogs];
    this.dirtyWindows.clear();
    this.dirtyBacklogs.clear();
    try {
      let text = '';
      for (const id of windows) {
        const w = this.windows.get(id);
        if (w !== undefined) text += windowLine(toPublic(w));
      }
      for (const b of backlogs) {
        const note = this.backlogNotes.get(b);
        if (note !== undefined) text += backlogLine(note);
      }
      if (this.appendedBytes + text.length > this.compactAfterBytes) await this.compact();
      else await this.append(text);
    } catch (err) {
      for (const id of windows) this.dirtyWindows.add(id);
      for (const b of backlogs) this.dirtyBacklogs.add(b);
      throw err;
    }
  }

  private async append(text: string): Promise<void> {
    const fh = this.fh ?? (this.fh = await open(this.file, 'a', 0o640));
    await fh.write(text);
    await fh.datasync();
    this.appendedBytes += Buffer.byteLength(text);
  }

  /** Rewrites the file from memory (dropping long-repaired windows), then appends to the new file. */
  private async compact(): Promise<void> {
    const now = this.now();
    // Everything is in this text: nothing stays dirty (marks made while it is written are new and stay).
    this.dirtyWindows.clear();
    this.dirtyBacklogs.clear();
    let text = headerLine();
    for (const [id, w] of this.windows) {
      if (w.repairedAt !== undefined && now - w.repairedAt > this.retainRepairedMs) {
        this.windows.delete(id);
        continue;
      }
      text += windowLine(toPublic(w));
    }
    for (const note of this.backlogNotes.values()) if (note.ranges.length > 0) text += backlogLine(note);
    await replaceFile(this.file, text);
    const old = this.fh;
    this.fh = undefined;
    await old?.close();
    this.appendedBytes = 0;
  }

  /**
   * Writes what is pending and the clean-close marker, and closes the file. Call it after the backends have closed
   * (their last drops, e.g. at the shutdown deadline, must be recorded first). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    clearTimeout(this.flushTimer);
    clearInterval(this.backlogTimer);
    this.flushTimer = undefined;
    this.backlogTimer = undefined;
    const run = this.chain.then(async () => {
      await this.writeDirty();
      await this.append(cleanLine(iso(this.now())));
    });
    this.chain = run.catch(() => undefined);
    try {
      await run;
    } finally {
      await this.fh?.close();
      this.fh = undefined;
    }
  }
}
