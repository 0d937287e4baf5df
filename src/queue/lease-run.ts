/**
 * How every queue leases: the first pending entry from the head, and the pending entries right after it that share
 * its merge key, while the total stays within maxBytes (the first is taken whatever its size). Shared by the memory
 * queue and the spool's views, so that both merge and order exactly alike.
 */
import type { Batch } from '../batch.js';

export interface LeasableEntry {
  readonly batch: Batch;
  state: number;
}

export interface Run<E> {
  readonly taken: E[];
  readonly batches: Batch[];
  readonly bytes: number;
  readonly points: number;
}

/** Finds the run starting at or after `from` and marks it `leased`; undefined when no entry is `pending`. */
export function leaseRun<E extends LeasableEntry>(entries: readonly E[], from: number, maxBytes: number, pending: number, leased: number): Run<E> | undefined {
  let i = from;
  while (i < entries.length && entries[i]!.state !== pending) i++;
  const first = entries[i];
  if (!first) return undefined;
  const taken: E[] = [first];
  const batches: Batch[] = [first.batch];
  let bytes = first.batch.body.length;
  let points = first.batch.points;
  for (let j = i + 1; j < entries.length; j++) {
    const e = entries[j]!;
    if (e.state !== pending || e.batch.key !== first.batch.key || bytes + e.batch.body.length > maxBytes) break;
    taken.push(e);
    batches.push(e.batch);
    bytes += e.batch.body.length;
    points += e.batch.points;
  }
  for (const e of taken) e.state = leased;
  return { taken, batches, bytes, points };
}
