/**
 * Scanning large bodies on worker threads, so that validation (about half of the relay's CPU per point) runs beside
 * the event loop instead of on it. Small bodies are scanned inline, where a message round trip would cost more than
 * the scan.
 *
 * A body goes to its thread by a copy into one of the thread's staging slots (shared memory, reused body after body),
 * never by transferring the body itself: a transferred ArrayBuffer comes back as a new one, which V8 counts as new
 * external memory every time, and that alone started a full GC every few dozen large bodies. The copy costs a
 * memcpy of the body; the caller keeps its Buffer, which is the result when the scan changed nothing.
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

/** Staging slots per thread: one body being scanned, one waiting in its message queue; more bodies wait here. */
const SLOTS_PER_THREAD = 2;
/** A slot larger than this (for a huge body) is let go once used, on both sides, so that it does not stay resident. */
const SLOT_KEEP_BYTES = 4 << 20;

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

interface Job {
  readonly input: Buffer;
  readonly precision: Precision;
  readonly stamp: string;
  readonly resolve: (r: ScanResult) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Jobs on the thread, by request id, with the slot each occupies. */
  readonly pending: Map<number, { readonly job: Job; readonly slot: number; readonly keep: boolean }>;
  /** Jobs waiting for a free slot, in arrival order. */
  readonly waiting: Job[];
  /** Staging memory per slot (undefined until first needed, or after a huge body); `free` lists the idle ones. */
  readonly slots: Array<SharedArrayBuffer | undefined>;
  readonly free: number[];
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
    const thread: Thread = {
      worker,
      pending: new Map(),
      waiting: [],
      slots: new Array<SharedArrayBuffer | undefined>(SLOTS_PER_THREAD).fill(undefined),
      free: Array.from({ length: SLOTS_PER_THREAD }, (_, i) => i),
      retired: false,
    };
    worker.unref();
    worker.on('message', (reply: ScanReply) => {
      const p = thread.pending.get(reply.id);
      if (!p) return;
      thread.pending.delete(reply.id);
      if (!p.keep) thread.slots[p.slot] = undefined;
      thread.free.push(p.slot);
      this.dispatch(thread);
      p.job.resolve({
        body: reply.body ? Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength) : p.job.input,
        points: reply.points,
        stamped: reply.stamped,
        errors: reply.errors,
        errorCount: reply.errorCount,
      });
    });
    // A thread that dies fails the scans it held (their requests get a 500) and is replaced.
    const fail = (err: Error) => {
      for (const p of thread.pending.values()) p.job.reject(err);
      for (const job of thread.waiting) job.reject(err);
      thread.pending.clear();
      thread.waiting.length = 0;
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
    const busy = this.threads.some((t) => t !== undefined && (t.pending.size > 0 || t.waiting.length > 0));
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

  /** Validates and stamps a body: on a thread when it is large, inline otherwise. */
  scan(input: Buffer, precision: Precision): Promise<ScanResult> {
    const stamp = nowIn(precision);
    if (!this.started || this.closed || this.size === 0 || input.length < OFFLOAD_MIN_BYTES) {
      return Promise.resolve(scanLines(input, { precision, stamp }));
    }
    const index = this.next++ % this.size;
    const thread = (this.threads[index] ??= this.spawn(index));
    this.scannedSinceCheck = true;
    return new Promise<ScanResult>((resolve, reject) => {
      thread.waiting.push({ input, precision, stamp, resolve, reject });
      this.dispatch(thread);
    });
  }

  /** Sends waiting jobs to the thread while it has free slots. */
  private dispatch(thread: Thread): void {
    while (thread.free.length > 0) {
      const job = thread.waiting.shift();
      if (!job) return;
      this.send(thread, job);
    }
  }

  /** Copies the job's body into a free slot of the thread (a larger one when it does not fit) and posts it. */
  private send(thread: Thread, job: Job): void {
    const slot = thread.free.pop()!;
    let memory = thread.slots[slot];
    const fresh = memory === undefined || memory.byteLength < job.input.length;
    if (fresh) {
      try {
        // Powers of two, so that a stream of bodies of slightly different sizes settles on one slot size.
        memory = new SharedArrayBuffer(Math.max(OFFLOAD_MIN_BYTES, 2 ** Math.ceil(Math.log2(job.input.length))));
      } catch {
        // No memory for a slot this size: this body is scanned here instead, and the slot stays free.
        thread.free.push(slot);
        scanInline(job);
        return;
      }
      thread.slots[slot] = memory;
    }
    job.input.copy(new Uint8Array(memory!));
    const keep = memory!.byteLength <= SLOT_KEEP_BYTES;
    const id = ++this.ids;
    thread.pending.set(id, { job, slot, keep });
    const req: ScanRequest = { id, slot, keep, length: job.input.length, precision: job.precision, stamp: job.stamp, ...(fresh ? { memory } : {}) };
    thread.worker.postMessage(req);
  }

  /** Stops the threads; a scan still on one fails (its request gets a 500) rather than waiting forever. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    const threads = this.threads.filter((t) => t !== undefined);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const t of threads) {
      const err = new Error('the scan pool was closed');
      for (const p of t.pending.values()) p.job.reject(err);
      for (const job of t.waiting) job.reject(err);
      t.pending.clear();
      t.waiting.length = 0;
    }
    this.threads.length = 0;
  }
}

function scanInline(job: Job): void {
  try {
    job.resolve(scanLines(job.input, { precision: job.precision, stamp: job.stamp }));
  } catch (err) {
    job.reject(err as Error);
  }
}
