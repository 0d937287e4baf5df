/**
 * The scan pool's worker thread: scans the bodies it is handed and hands them back. Clean input (the common case)
 * goes back as the very ArrayBuffer it came in, transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import type { Precision } from './precision.js';
import { scanLines } from './scanner.js';

export interface ScanRequest {
  readonly id: number;
  readonly input: ArrayBuffer;
  readonly length: number;
  readonly precision: Precision;
  readonly stamp: string;
}

export interface ScanReply {
  readonly id: number;
  /** The input buffer itself when nothing changed (then `body` is absent). */
  readonly input: ArrayBuffer;
  readonly body?: Uint8Array;
  readonly points: number;
  readonly stamped: number;
  readonly errors: Array<{ line: number; text: string; reason: string }>;
  readonly errorCount: number;
}

const port = parentPort;
if (!port) throw new Error('scan-worker.js runs as a worker thread');

port.on('message', (req: ScanRequest) => {
  const input = Buffer.from(req.input, 0, req.length);
  const r = scanLines(input, { precision: req.precision, stamp: req.stamp });
  const same = r.body === input;
  const reply: ScanReply = {
    id: req.id,
    input: req.input,
    // A rewritten body may live in the worker's shared Buffer pool: it is copied, never transferred.
    ...(same ? {} : { body: r.body }),
    points: r.points,
    stamped: r.stamped,
    errors: r.errors,
    errorCount: r.errorCount,
  };
  port.postMessage(reply, [req.input]);
});
