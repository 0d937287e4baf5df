/**
 * The clients waiting on one backend: each admitted batch a client waits for has one waiter, settled by the first
 * event that decides the batch's fate for that client. How long a client waits is not decided here: the answer
 * (src/answer.ts) holds the deadline, and forgets its waiters when it passes.
 */
import type { Batch } from '../batch.js';

/** What became of a batch on one backend, as far as its client is concerned. */
export type Fate =
  /** `body`: a statement's answer (its JSON results), passed on to its client. */
  | { readonly kind: 'delivered'; readonly body?: string }
  /** Safe in the backend's queue (a backlog, a retry, or still in flight at the answer deadline). */
  | { readonly kind: 'queued'; readonly reason: 'retrying' | 'in-flight' }
  /** Dropped for this backend on admission (its queue was full under drop-oldest) and recorded as missed. */
  | { readonly kind: 'missed'; readonly reason: string }
  | { readonly kind: 'rejected'; readonly status: number; readonly body: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: 'unavailable' | 'closing'; readonly detail: string };

interface Waiter {
  readonly resolve: (fate: Fate) => void;
  /** A consistency level above `any` waits for delivery: a retry does not settle it. */
  readonly untilDelivered: boolean;
}

export class Deliveries {
  private readonly waiting = new Map<Batch, Waiter>();

  wait(batch: Batch, untilDelivered: boolean): Promise<Fate> {
    return new Promise((resolve) => this.waiting.set(batch, { resolve, untilDelivered }));
  }

  /** The answer deadline passed: nobody listens any more. */
  forget(batch: Batch): void {
    this.waiting.delete(batch);
  }

  /** Tells each batch's client its fate; returns the batches whose client was no longer waiting (already answered). */
  settle(batches: readonly Batch[], fate: Fate): Batch[] {
    const unheard: Batch[] = [];
    for (const b of batches) {
      const w = this.waiting.get(b);
      if (!w) {
        unheard.push(b);
        continue;
      }
      this.waiting.delete(b);
      w.resolve(fate);
    }
    return unheard;
  }

  /** The batches are kept for a retry: a client that only needs them safe hears so now. */
  retrying(batches: readonly Batch[]): void {
    for (const b of batches) {
      const w = this.waiting.get(b);
      if (w && !w.untilDelivered) this.settle([b], { kind: 'queued', reason: 'retrying' });
    }
  }

  settleAll(fate: Fate): void {
    this.settle([...this.waiting.keys()], fate);
  }
}
