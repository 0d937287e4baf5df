/**
 * The scan pool's worker thread: scans the bodies it is handed in its staging slots (shared memory the pool copies
 * each body into) and answers with the verdict; the output body only when it differs from the input (lines dropped
 * or stamped), as a copy.
 */
import { parentPort } from 'node:worker_threads';
import type { Precision } from './precision.js';
import { scanLines } from './scanner.js';

export interface ScanRequest {
  readonly id: number;
  readonly slot: number;
  /** The slot's memory, sent when the slot is new or was replaced by a larger one; kept for later requests. */
  readonly memory?: SharedArrayBuffer;
  /** False for a slot made for one huge body: let it go after this scan. */
  readonly keep: boolean;
  readonly length: number;
  readonly precision: Precision;
  readonly stamp: string;
}

export interface ScanReply {
  readonly id: number;
  /** The output when it is not the input itself (lines dropped or stamped). */
  readonly body?: Uint8Array;
  readonly points: number;
  readonly stamped: number;
  readonly errors: Array<{ line: number; text: string; reason: string }>;
  readonly errorCount: number;
}

const port = parentPort;
if (!port) throw new Error('scan-worker.js runs as a worker thread');

const slots: Array<Buffer | undefined> = [];

port.on('message', (req: ScanRequest) => {
  if (req.memory) slots[req.slot] = Buffer.from(req.memory);
  const input = slots[req.slot]!.subarray(0, req.length);
  const r = scanLines(input, { precision: req.precision, stamp: req.stamp });
  if (!req.keep) slots[req.slot] = undefined;
  const reply: ScanReply = {
    id: req.id,
    // Copied by postMessage: the slot is reused as soon as this reply arrives.
    ...(r.body === input ? {} : { body: r.body }),
    points: r.points,
    stamped: r.stamped,
    errors: r.errors,
    errorCount: r.errorCount,
  };
  port.postMessage(reply);
});
