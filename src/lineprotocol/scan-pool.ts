/**
 * Scanning large bodies on worker threads, so that validation (about half of the relay's CPU per point) runs beside
 * the event loop instead of on it. The body's memory is transferred to the worker and back, never copied, when the
 * relay owns all of it; small bodies are scanned inline, where a message round trip would cost more than the scan.
 *
 * Stamps are taken at receipt, on the event loop, and passed along: where the scan runs changes nothing in the output.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../telemetry/logger.js';
import { nowIn, type Precision } from './precision.js';
import { scanLines, type ScanResult } from './scanner.js';
import type { ScanReply, ScanRequest } from './scan-worker.js';

/** Bodies smaller than this are scanned inline. */
const OFFLOAD_MIN_BYTES = 64 * 1024;

/** One thread per core beyond the event loop's, at most 4: the default of `scan-threads`. */
export function defaultScanThreads(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 1));
}

interface Pending {
  readonly resolve: (r: ScanResult) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

export class ScanPool {
  private readonly threads: Thread[] = [];
  private next = 0;
  private ids = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly log?: Logger,
  ) {}

  /** Starts the threads (none when size is 0: every scan runs inline). */
  start(): void {
    for (let i = 0; i < this.size; i++) this.threads.push(this.spawn(i));
  }

  private spawn(index: number): Thread {
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url));
    const thread: Thread = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: ScanReply) => {
      const p = thread.pending.get(reply.id);
      if (!p) return;
      thread.pending.delete(reply.id);
      const input = Buffer.from(reply.input);
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
      if (this.closed) return;
      this.log?.error({ err }, 'BUG: scan thread died; starting another');
      this.threads[index] = this.spawn(index);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`scan thread exited with code ${code}`));
    });
    return thread;
  }

  /** Validates and stamps a body: on a thread when it is large and the relay owns its memory, inline otherwise. */
  scan(input: Buffer, precision: Precision): Promise<ScanResult> {
    const stamp = nowIn(precision);
    const owned = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
    if (this.threads.length === 0 || input.length < OFFLOAD_MIN_BYTES || !owned) {
      return Promise.resolve(scanLines(input, { precision, stamp }));
    }
    const thread = this.threads[this.next++ % this.threads.length]!;
    const id = ++this.ids;
    return new Promise<ScanResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const req: ScanRequest = { id, input: input.buffer as ArrayBuffer, length: input.length, precision, stamp };
      thread.worker.postMessage(req, [req.input]);
    });
  }

  /** Stops the threads; a scan still on one fails (its request gets a 500) rather than waiting forever. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    for (const t of this.threads) {
      for (const p of t.pending.values()) p.reject(new Error('the scan pool was closed'));
      t.pending.clear();
    }
    this.threads.length = 0;
  }
}
