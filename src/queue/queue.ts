/**
 * The queue contract every backend queue obeys: the memory queue and the spool's per-backend views.
 *
 * A backend takes work by *leasing* a run of batches from the head; the batches stay in the queue (and count toward
 * its bytes) until the lease is acked (delivered, or given up for good) or released (to be retried, in the same order).
 * So a queue that persists can advance its read cursor only on ack, and nothing overtakes a backlog.
 */
import type { Batch } from '../batch.js';

export type OfferResult = 'queued' | 'full';

export interface Lease {
  /** Consecutive batches from the head, all with the same merge key. */
  readonly batches: readonly Batch[];
  readonly bytes: number;
  readonly points: number;
}

export interface BatchQueue {
  /** Bytes held, leased ones included. */
  readonly bytes: number;
  /** Batches held, leased ones included. */
  readonly length: number;
  /** Batches not leased: what a sender could take now. */
  readonly pending: number;
  /** The bound, in bytes. */
  readonly capacityBytes: number;
  /** receivedAt of the oldest batch held, if any. */
  oldestReceivedAt(): number | undefined;
  /**
   * Leases the first pending batch and the pending batches right after it that share its key, while the total stays
   * within maxBytes (the first batch is leased whatever its size). Undefined when nothing is pending.
   */
  lease(maxBytes: number): Lease | undefined;
  /** The lease's batches are done with: they leave the queue. */
  ack(lease: Lease): void;
  /** The lease's batches go back to pending, in their place, to be leased again. */
  release(lease: Lease): void;
  /** A persistent queue replaying a backlog from disk says so (the backend is then catching up). */
  readonly catchingUp?: boolean;
  /** A persistent queue calls this when batches become leasable by themselves (an append made durable, a read back). */
  onLeasable?(listener: () => void): void;
}

/**
 * A queue its backend fills itself (memory). A spool's views are filled by the spool's append instead, for every
 * backend in one step, and keep what they hold across a restart.
 */
export interface OfferQueue extends BatchQueue {
  /** Appends at the tail, or answers 'full' (and holds nothing) when the batch does not fit. */
  offer(batch: Batch): OfferResult;
  /** Drops the oldest pending (not leased) batches until `bytes` are freed or none is left; returns them. */
  evictOldest(bytes: number): Batch[];
  /** The relay stops for good: the queue empties itself and returns what it held, to be recorded as missed. */
  abandon(): Batch[];
  /** A new bound (a reload); what is held stays even when over it. */
  resize(capacityBytes: number): void;
}

/**
 * Where batches are made durable before any backend queue takes them (the spool's shared log). The fan-out appends
 * first and acknowledges nothing that is not there.
 */
export interface Journal {
  append(batch: Batch): Promise<void>;
  /** Whether the journal's disk takes writes; `error` and `since` (ISO 8601) while it does not. */
  health(): JournalHealth;
}

export interface JournalHealth {
  readonly ok: boolean;
  readonly error?: string;
  readonly since?: string;
}
