/**
 * A backend's queue seen from the intake: whether a batch fits, what `when-full` does when it does not, and the
 * waiting of streaming sources (TCP) for room.
 *
 * - `reject`: a batch that does not fit is refused; the fan-out then gives it to no backend (503), and the backend
 *   reports itself full (to /health) until that much room is free again.
 * - `drop-oldest`: while the backend is down, its oldest queued (not in flight) batches are dropped to make room, each
 *   recorded as a missed window for this backend; if even that cannot make room, the new batch is the one missed. A
 *   replica that is down never stops the intake: the others carry on, and the ledger says what this one lacks. A
 *   backend that is up but slower than the intake is not dropped from: its full queue pushes back as under `reject`
 *   (503, paused TCP reads), since nothing is wrong that waiting will not fix.
 * A spool's views are filled by the spool's append, which applies the same policy to the shared log before it writes
 * anything: for them the batch is already in when `take` is called.
 */
import type { Batch } from '../batch.js';
import type { WhenFull } from '../config/enums.js';
import type { BatchQueue, OfferQueue } from '../queue/queue.js';

export type Taken = 'queued' | 'missed';

/** Room that a streaming source waits for before it reads on: a twentieth of the queue, at most 1 MiB. */
const RESUME_FRACTION = 20;
const RESUME_MAX_BYTES = 1 << 20;

export class Room {
  private waiters: Array<() => void> = [];
  /** Size of the largest batch refused for want of room: until that much is free, the backend is full. */
  private neededRoom = 0;
  private closed = false;

  constructor(
    private readonly queue: BatchQueue,
    private whenFull: WhenFull,
    /** Whether the backend is down now (not merely behind): only then does drop-oldest drop. */
    private readonly isDown: () => boolean,
    private readonly onDropped: (batches: readonly Batch[], reason: 'queue-full') => void,
  ) {}

  /** drop-oldest, and the backend is down: a full queue drops its oldest rather than push back. */
  private get dropping(): boolean {
    return this.whenFull === 'drop-oldest' && this.isDown();
  }

  /** Whether the batch would be taken as it is, under `reject`: the fan-out asks every backend before any takes it. */
  fits(bytes: number): boolean {
    if (this.closed) return false;
    return this.dropping || this.free >= bytes;
  }

  /** Remembers a batch refused for want of room (reject): the backend reports full until that much is free. */
  markFull(bytes: number): void {
    this.neededRoom = Math.max(this.neededRoom, bytes);
  }

  /** Puts the batch in the queue, making room first under drop-oldest. */
  take(batch: Batch): Taken {
    if (!isOfferQueue(this.queue)) return 'queued';
    const need = batch.body.length - this.free;
    if (need > 0 && this.dropping) {
      const dropped = this.queue.evictOldest(need);
      if (dropped.length > 0) this.onDropped(dropped, 'queue-full');
    }
    if (this.queue.offer(batch) === 'queued') return 'queued';
    this.onDropped([batch], 'queue-full');
    return 'missed';
  }

  /** Whether a new write would be taken now: the load balancer's signal. */
  get accepting(): boolean {
    if (this.closed) return false;
    if (this.dropping) return true;
    return this.free >= Math.max(this.neededRoom, Math.min(this.queue.capacityBytes / RESUME_FRACTION, RESUME_MAX_BYTES));
  }

  /** Resolves once the queue has room again (at once if it has): how a streaming source applies backpressure. */
  waitForRoom(): Promise<void> {
    if (this.accepting || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A reload: a new policy, and for a memory queue a new bound (a smaller one drops nothing: it fills up less). */
  reconfigure(whenFull: WhenFull, capacityBytes: number | undefined): void {
    this.whenFull = whenFull;
    if (capacityBytes !== undefined && isOfferQueue(this.queue)) this.queue.resize(capacityBytes);
    this.changed();
  }

  /** The queue shrank: forget a refusal that now fits, wake the sources waiting for room. */
  changed(): void {
    if (this.neededRoom > 0 && this.free >= this.neededRoom) this.neededRoom = 0;
    if (this.waiters.length > 0 && this.accepting) this.wake();
  }

  /** Takes nothing more; sources waiting for room are let go (they will hear 'closing'). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private get free(): number {
    return this.queue.capacityBytes - this.queue.bytes;
  }
}

function isOfferQueue(q: BatchQueue): q is OfferQueue {
  return 'offer' in q;
}
