/**
 * The scan pool's worker thread: scans the bodies it is handed and hands them back. Clean input (the common case)
 * is never copied: a body in shared memory is read in place, a transferred one goes back as the very ArrayBuffer it
 * came in.
 */
import { parentPort } from 'node:worker_threads';
import type { Precision } from './precision.js';
import { scanLines } from './scanner.js';

export interface ScanRequest {
  readonly id: number;
  /** The body: shared memory (read in place), or an ArrayBuffer transferred here and back. */
  readonly input: SharedArrayBuffer | ArrayBuffer;
  readonly offset: number;
  readonly length: number;
  readonly precision: Precision;
  readonly stamp: string;
}

export interface ScanReply {
  readonly id: number;
  /** A transferred input, handed back; absent for shared memory (the caller still has it). */
  readonly input?: ArrayBuffer;
  /** The output when it is not the input itself (lines dropped or stamped). */
  readonly body?: Uint8Array;
  readonly points: number;
  readonly stamped: number;
  readonly errors: Array<{ line: number; text: string; reason: string }>;
  readonly errorCount: number;
}

const port = parentPort;
if (!port) throw new Error('scan-worker.js runs as a worker thread');

port.on('message', (req: ScanRequest) => {
  const input = Buffer.from(req.input, req.offset, req.length);
  const r = scanLines(input, { precision: req.precision, stamp: req.stamp });
  const same = r.body === input;
  const transferred = req.input instanceof ArrayBuffer ? req.input : undefined;
  const reply: ScanReply = {
    id: req.id,
    ...(transferred ? { input: transferred } : {}),
    // A rewritten body may live in the worker's shared Buffer pool: it is copied, never transferred.
    ...(same ? {} : { body: r.body }),
    points: r.points,
    stamped: r.stamped,
    errors: r.errors,
    errorCount: r.errorCount,
  };
  port.postMessage(reply, transferred ? [transferred] : []);
});
