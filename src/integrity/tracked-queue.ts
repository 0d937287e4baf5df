/**
 * A memory queue that keeps its backlog summary (per db/rp: points and time range) up to date for the ledger, so
 * that a relay that dies with batches in memory knows afterwards which windows each backend lost. Every batch that
 * enters or leaves passes here, whatever the reason (offer; ack; eviction; abandon at shutdown), so the summary
 * cannot drift from the queue.
 */
import type { Batch } from '../batch.js';
import { MemoryQueue } from '../queue/memory-queue.js';
import type { Lease, OfferResult } from '../queue/queue.js';
import type { BacklogTracker } from './backlog.js';

export class TrackedMemoryQueue extends MemoryQueue {
  constructor(
    capacityBytes: number,
    private readonly tracker: BacklogTracker,
  ) {
    super(capacityBytes);
  }

  override offer(batch: Batch): OfferResult {
    const r = super.offer(batch);
    if (r === 'queued') this.tracker.add(batch);
    return r;
  }

  override ack(lease: Lease): void {
    super.ack(lease);
    for (const b of lease.batches) this.tracker.remove(b);
  }

  override evictOldest(bytes: number): Batch[] {
    const dropped = super.evictOldest(bytes);
    for (const b of dropped) this.tracker.remove(b);
    return dropped;
  }

  override abandon(): Batch[] {
    const held = super.abandon();
    this.tracker.clear();
    return held;
  }
}
