/** Shared by the spool tests: temp dirs, a log capture, and the fan-out's append-then-offer sequence. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pino from 'pino';
import { makeBatch, type Batch, type WriteTarget } from '../../../../src/batch.js';
import type { Lease } from '../../../../src/queue/queue.js';
import { Spool, type SpoolOptions, type SpoolQueue } from '../../../../src/queue/spool/spool.js';

const dirs: string[] = [];
const open: Spool[] = [];
after(async () => {
  for (const s of open) await s.close().catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'spool-test-'));
  dirs.push(d);
  return d;
}

export const target = (db: string, credentials: WriteTarget['credentials'] = {}): WriteTarget => ({ db, rp: '', precision: 'n', credentials });
export const batch = (text: string, db = 'db', receivedAt = Date.now()): Batch =>
  makeBatch(target(db), Buffer.from(text), text.split('\n').length - 1, receivedAt);

export interface LogCapture {
  readonly logger: pino.Logger;
  readonly lines: Array<{ level: number; msg: string; [k: string]: unknown }>;
  has(fragment: string): boolean;
}

export function captureLogs(): LogCapture {
  const lines: LogCapture['lines'] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, has: (fragment) => lines.some((l) => l.msg.includes(fragment)) };
}

export async function openSpool(dir: string, options: Partial<SpoolOptions> = {}): Promise<Spool> {
  const s = await Spool.open({
    dir,
    backends: ['a', 'b'],
    maxBytesPerBackend: 1 << 20,
    fsync: 'never',
    fsyncIntervalMs: 5,
    whenFull: 'reject',
    ...options,
  });
  open.push(s);
  return s;
}

/** What the fan-out does: append, once for every backend; the views then hold the batch. */
export async function write(spool: Spool, _backends: readonly string[], b: Batch): Promise<void> {
  await spool.append(b);
}

/** Leases everything leasable now, one batch per lease. */
export function leaseAll(q: SpoolQueue): Lease[] {
  const out: Lease[] = [];
  for (let l = q.lease(0); l; l = q.lease(0)) out.push(l);
  return out;
}

export const text = (leases: readonly Lease[]): string[] => leases.map((l) => l.batches.map((b) => b.body.toString()).join(''));

/** Leases and acks one batch at a time until `count` came out, waiting for the disk loader when needed. */
export async function drain(q: SpoolQueue, count: number): Promise<string[]> {
  const got: string[] = [];
  let wake: (() => void) | undefined;
  q.onLeasable(() => wake?.());
  while (got.length < count) {
    const l = q.lease(0);
    if (!l) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`drain: stuck after ${got.length} of ${count}`)), 5000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      continue;
    }
    for (const b of l.batches) got.push(b.body.toString());
    q.ack(l);
  }
  return got;
}
