/**
 * Where batches go that a backend kept failing past `dead-letter-after`: an append-only file of line protocol, each
 * batch preceded by a comment line saying where it was going. '#' lines are skipped by InfluxDB and by our scanner, so
 * the file can be re-sent as it is (`curl --data-binary @file 'http://relay/write?db=...'`) once grouped by db.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Batch } from '../batch.js';

export interface DeadLetterSink {
  write(backend: string, batch: Batch, reason: string): Promise<void>;
}

export class FileDeadLetters implements DeadLetterSink {
  // Appends are chained so that concurrent dead letters never interleave.
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  write(backend: string, batch: Batch, reason: string): Promise<void> {
    const t = batch.target;
    const header =
      `# dead-letter backend=${JSON.stringify(backend)} db=${JSON.stringify(t.db)} rp=${JSON.stringify(t.rp)} ` +
      `precision=${t.precision} points=${batch.points} received=${new Date(batch.receivedAt).toISOString()} ` +
      `reason=${JSON.stringify(reason)}\n`;
    // Copied now: the batch's body may be pooled memory, reused once the caller's step is over (body-pool.ts).
    const record = Buffer.concat([Buffer.from(header), batch.body]);
    const next = this.tail.then(async () => {
      await mkdir(path.dirname(this.path), { recursive: true });
      await appendFile(this.path, record);
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}
