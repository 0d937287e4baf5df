/**
 * A bounded in-memory FIFO of batches (the queue when no spool is configured).
 *
 * Entries sit in an array from `head`; each is pending or leased. Acks may arrive out of order when a backend has
 * several requests in flight, so acked entries are marked and the head advances past them.
 */
import type { Batch } from '../batch.js';
import { leaseRun } from './lease-run.js';
import type { BatchQueue, Lease, OfferResult } from './queue.js';

const PENDING = 0;
const LEASED = 1;
const DONE = 2;

interface Entry {
  readonly batch: Batch;
  state: number;
}

interface MemoryLease extends Lease {
  readonly entries: readonly Entry[];
}

export class MemoryQueue implements BatchQueue {
  private entries: Entry[] = [];
  private head = 0;
  private heldBytes = 0;
  private held = 0;
  private leased = 0;

  constructor(readonly capacityBytes: number) {}

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
    return this.entries[this.head]?.batch.receivedAt;
  }

  offer(batch: Batch): OfferResult {
    if (this.heldBytes + batch.body.length > this.capacityBytes) return 'full';
    this.entries.push({ batch, state: PENDING });
    this.heldBytes += batch.body.length;
    this.held++;
    return 'queued';
  }

  lease(maxBytes: number): Lease | undefined {
    const run = leaseRun(this.entries, this.head, maxBytes, PENDING, LEASED);
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
    this.compact();
  }

  /** Drops the oldest pending (not leased) batches until `bytes` are freed or none is left; returns them. */
  evictOldest(bytes: number): Batch[] {
    const dropped: Batch[] = [];
    let freed = 0;
    for (let i = this.head; i < this.entries.length && freed < bytes; i++) {
      const e = this.entries[i]!;
      if (e.state !== PENDING) continue;
      e.state = DONE;
      freed += e.batch.body.length;
      dropped.push(e.batch);
    }
    this.heldBytes -= freed;
    this.held -= dropped.length;
    this.compact();
    return dropped;
  }

  abandon(): Batch[] {
    const held: Batch[] = [];
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.state !== DONE) held.push(this.entries[i]!.batch);
    this.entries = [];
    this.head = this.heldBytes = this.held = this.leased = 0;
    return held;
  }

  release(lease: Lease): void {
    for (const e of (lease as MemoryLease).entries) {
      if (e.state !== LEASED) throw new Error('BUG: release of an entry that is not leased');
      e.state = PENDING;
    }
    this.leased -= lease.batches.length;
  }

  /** Drops acked entries from the head; reallocates the array only when the dead prefix is large. */
  private compact(): void {
    const entries = this.entries;
    while (this.head < entries.length && entries[this.head]!.state === DONE) this.head++;
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }
}
