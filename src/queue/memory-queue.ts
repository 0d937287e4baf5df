/**
 * A bounded in-memory FIFO of batches (the queue when no spool is configured), over the entries core both queues
 * share (entries.ts). A pooled body (body-pool.ts) is held while its batch is here: offer holds it, ack and eviction
 * let go; abandon does not (a request in flight at shutdown may still be writing it).
 */
import type { Batch } from '../batch.js';
import { DONE, Entries, LEASED, PENDING, type QueueEntry } from './entries.js';
import type { Lease, OfferQueue, OfferResult } from './queue.js';

interface MemoryLease extends Lease {
  readonly entries: readonly QueueEntry[];
}

export class MemoryQueue implements OfferQueue {
  private readonly entries = new Entries<QueueEntry>();
  private heldBytes = 0;
  private held = 0;
  private leased = 0;

  constructor(private capacity: number) {}

  get capacityBytes(): number {
    return this.capacity;
  }

  resize(capacityBytes: number): void {
    this.capacity = capacityBytes;
  }

  get bytes(): number {
    return this.heldBytes;
  }
  get length(): number {
    return this.held;
  }
  get pending(): number {
    return this.held - this.leased;
  }

  oldestReceivedAt(): number | undefined {
    return this.entries.first?.batch.receivedAt;
  }

  offer(batch: Batch): OfferResult {
    if (this.heldBytes + batch.body.length > this.capacity) return 'full';
    batch.owners?.hold(); // first: if it throws (a bug), the queue is unchanged
    this.entries.push({ batch, state: PENDING });
    this.heldBytes += batch.body.length;
    this.held++;
    return 'queued';
  }

  lease(maxBytes: number): Lease | undefined {
    const run = this.entries.lease(maxBytes);
    if (!run) return undefined;
    this.leased += run.taken.length;
    const lease: MemoryLease = { batches: run.batches, bytes: run.bytes, points: run.points, entries: run.taken };
    return lease;
  }

  ack(lease: Lease): void {
    for (const e of (lease as MemoryLease).entries) {
      if (e.state !== LEASED) throw new Error('BUG: ack of an entry that is not leased');
      e.state = DONE;
      this.heldBytes -= e.batch.body.length;
    }
    this.held -= lease.batches.length;
    this.leased -= lease.batches.length;
    this.entries.compact();
    // Last: the queue is consistent even if letting go throws (a bug).
    for (const b of lease.batches) b.owners?.drop();
  }

  evictOldest(bytes: number): Batch[] {
    const dropped: Batch[] = [];
    let freed = 0;
    for (const e of this.entries.live()) {
      if (freed >= bytes) break;
      if (e.state !== PENDING) continue;
      e.state = DONE;
      freed += e.batch.body.length;
      dropped.push(e.batch);
    }
    this.heldBytes -= freed;
    this.held -= dropped.length;
    this.entries.compact();
    for (const b of dropped) b.owners?.drop();
    return dropped;
  }

  abandon(): Batch[] {
    const held: Batch[] = [];
    for (const e of this.entries.live()) if (e.state !== DONE) held.push(e.batch);
    this.entries.clear();
    this.heldBytes = this.held = this.leased = 0;
    return held;
  }

  release(lease: Lease): void {
    for (const e of (lease as MemoryLease).entries) {
      if (e.state !== LEASED) throw new Error('BUG: release of an entry that is not leased');
      e.state = PENDING;
    }
    this.leased -= lease.batches.length;
  }
}
