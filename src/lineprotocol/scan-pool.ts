/**
 * Scanning large bodies on worker threads, so that validation (about half of the relay's CPU per point) runs beside
 * the event loop instead of on it. The body is never copied: in shared memory (as http-body.ts reads large bodies)
 * the worker reads it in place; an ArrayBuffer the body has to itself is transferred there and back. Other bodies,
 * and small ones, are scanned inline, where a message round trip would cost more than the scan.
 *
 * Stamps are taken at receipt, on the event loop, and passed along: where the scan runs changes nothing in the output.
 *
 * Threads start when the first large body arrives, not with the relay, and exit after a quiet spell: a thread costs
 * ~10 MB of resident memory, which an idle relay (or one that only ever sees small bodies) should not pay.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../telemetry/logger.js';
import { nowIn, type Precision } from './precision.js';
import { scanLines, type ScanResult } from './scanner.js';
import type { ScanReply, ScanRequest } from './scan-worker.js';

/** Bodies smaller than this are scanned inline. */
const OFFLOAD_MIN_BYTES = 64 * 1024;

/**
 * Checked this often: threads that scanned nothing since the last check (and hold no scan) exit, so a thread goes
 * after 1–2 of these without work; the next large body starts them again.
 * Longer than the usual agent flush intervals (10–60 s), so a steady sender never pays a thread start per flush.
 */
const IDLE_EXIT_MS = 120_000;

/** One thread per core beyond the event loop's, at most 4: the default of `scan-threads`. */
export function defaultScanThreads(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 1));
}

interface Pending {
  /** The caller's body: the result when it is unchanged and was shared, not transferred. */
  readonly input: Buffer;
  readonly resolve: (r: ScanResult) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Set when the pool ends the thread itself (idle), so that its exit is not taken for a crash. */
  retired: boolean;
}

export class ScanPool {
  /** Slot i holds thread i while it runs; threads start on demand and exit when idle. */
  private readonly threads: Array<Thread | undefined> = [];
  private next = 0;
  private ids = 0;
  private started = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private scannedSinceCheck = false;

  constructor(
    private readonly size: number,
    private readonly log?: Logger,
    private readonly idleExitMs = IDLE_EXIT_MS,
  ) {}

  /** Enables the threads (none when size is 0: every scan runs inline); each starts with the first body it gets. */
  start(): void {
    this.started = true;
  }

  /** How many threads are running now (tests and the footprint benchmark look at this). */
  get running(): number {
    return this.threads.filter((t) => t !== undefined).length;
  }

  private spawn(index: number): Thread {
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url));
    const thread: Thread = { worker, pending: new Map(), retired: false };
    worker.unref();
    worker.on('message', (reply: ScanReply) => {
      const p = thread.pending.get(reply.id);
      if (!p) return;
      thread.pending.delete(reply.id);
      const input = reply.input ? Buffer.from(reply.input) : p.input;
      p.resolve({
        body: reply.body ? Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength) : input,
        points: reply.points,
        stamped: reply.stamped,
        errors: reply.errors,
        errorCount: reply.errorCount,
      });
    });
    // A thread that dies fails the scans it held (their requests get a 500) and is replaced.
    const fail = (err: Error) => {
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
      if (this.closed || thread.retired) return;
      this.log?.error({ err }, 'BUG: scan thread died; starting another');
      this.threads[index] = this.spawn(index);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed && !thread.retired) fail(new Error(`scan thread exited with code ${code}`));
    });
    this.idleTimer ??= setInterval(() => this.retireIfIdle(), this.idleExitMs).unref();
    return thread;
  }

  /** Ends every thread when none has scanned since the last check and none holds a scan. */
  private retireIfIdle(): void {
    const busy = this.threads.some((t) => t !== undefined && t.pending.size > 0);
    if (this.scannedSinceCheck || busy) {
      this.scannedSinceCheck = false;
      return;
    }
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i];
      if (t === undefined) continue;
      t.retired = true;
      this.threads[i] = undefined;
      void t.worker.terminate();
    }
  }

  /** Validates and stamps a body: on a thread when it is large and the relay owns its memory, inline otherwise. */
  scan(input: Buffer, precision: Precision): Promise<ScanResult> {
    const stamp = nowIn(precision);
    // Shared memory is read in place; an ArrayBuffer the body has to itself is transferred (and handed back).
    const shared = input.buffer instanceof SharedArrayBuffer;
    const owned = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
    if (!this.started || this.closed || this.size === 0 || input.length < OFFLOAD_MIN_BYTES || !(shared || owned)) {
      return Promise.resolve(scanLines(input, { precision, stamp }));
    }
    const index = this.next++ % this.size;
    const thread = (this.threads[index] ??= this.spawn(index));
    this.scannedSinceCheck = true;
    const id = ++this.ids;
    return new Promise<ScanResult>((resolve, reject) => {
      thread.pending.set(id, { input, resolve, reject });
      const req: ScanRequest = { id, input: input.buffer, offset: input.byteOffset, length: input.length, precision, stamp };
      thread.worker.postMessage(req, shared ? [] : [input.buffer as ArrayBuffer]);
    });
  }

  /** Stops the threads; a scan still on one fails (its request gets a 500) rather than waiting forever. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const threads = this.threads.filter((t) => t !== undefined);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const t of threads) {
      for (const p of t.pending.values()) p.reject(new Error('the scan pool was closed'));
      t.pending.clear();
    }
    this.threads.length = 0;
  }
}
