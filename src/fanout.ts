/**
 * One batch → every backend; every backend's outcome → one answer for the client.
 *
 * The answer is a documented function of all outcomes (docs/operations.md), never of which backend was fastest:
 * 0. some backend's queue has no room for it                             → 503, and no backend takes it
 * 1. some backend can neither deliver nor queue the batch (queue full, buffering off and the write failed,
 *    shutting down)                                                        → 503 + Retry-After
 * 2. else some backend refused it with a non-retryable 4xx                 → that status and body (first such backend
 *                                                                          in config order)
 * 3. else fewer backends delivered (within `timeout`) than the consistency level needs → 503 + Retry-After
 *    (the batch stays queued everywhere; a client retry is harmless because writes are idempotent)
 * 4. else                                                                  → 204
 */
import type { Batch } from './batch.js';
import type { Backend, SubmitOutcome } from './backends/backend.js';
import type { Journal } from './queue/queue.js';

import { CONSISTENCY_LEVELS, type Consistency } from './config/enums.js';

export function parseConsistency(value: string | null | undefined): Consistency | undefined {
  return (CONSISTENCY_LEVELS as readonly string[]).includes(value ?? '') ? (value as Consistency) : undefined;
}

/** How many backends must have delivered: 'any' counts a queued batch as accepted. */
export function requiredDeliveries(level: Consistency, backends: number): number {
  switch (level) {
    case 'any':
      return 0;
    case 'one':
      return Math.min(1, backends);
    case 'quorum':
      return Math.floor(backends / 2) + 1;
    case 'all':
      return backends;
  }
}

export type FanOutResult =
  | { readonly kind: 'accepted'; readonly status: 204; readonly delivered: number }
  | { readonly kind: 'unavailable'; readonly status: 503; readonly error: string; readonly retryAfterSeconds: number }
  | { readonly kind: 'rejected'; readonly status: number; readonly backendBody: string; readonly backend: string };

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 1;

export class FanOut {
  /** With a journal (the spool), a batch is on disk before any backend takes it; nothing else acknowledges it. */
  constructor(
    readonly backends: readonly Backend[],
    private readonly journal?: Journal,
  ) {}

  /** Resolves when every backend has room: streaming sources (TCP) pause their sockets until then. */
  async waitForRoom(): Promise<void> {
    await Promise.all(this.backends.map((b) => b.waitForRoom()));
  }

  async write(batch: Batch, level: Consistency): Promise<FanOutResult> {
    // All or nothing: a batch that some backend's queue cannot take goes to none, so a 503 never leaves the replicas
    // apart (the client's retry brings it to all). Checking and offering happen in one tick: nothing slips between.
    if (!this.journal) {
      const full = this.backends.filter((b) => !b.hasRoomFor(batch.body.length));
      if (full.length > 0) {
        for (const b of full) b.refused(batch);
        const names = full.map((b) => b.name).join(', ');
        return { kind: 'unavailable', status: 503, error: `write not accepted: queue full for ${names}; nothing was queued, retry later`, retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
    }
    if (this.journal) {
      try {
        await this.journal.append(batch);
      } catch (err) {
        // Spool full (when-full = reject) or a disk error: nothing of the batch was kept, so the client must retry.
        return { kind: 'unavailable', status: 503, error: `write not accepted: ${(err as Error).message}`, retryAfterSeconds: RETRY_AFTER_SECONDS };
      }
    }
    const needDelivery = level !== 'any';
    const outcomes = await Promise.all(this.backends.map((b) => b.submit(batch, needDelivery)));
    return decide(this.backends.map((b) => b.name), outcomes, level);
  }
}

/** The pure decision table, exported for tests. */
export function decide(names: readonly string[], outcomes: readonly SubmitOutcome[], level: Consistency): FanOutResult {
  const failures: string[] = [];
  let rejected: { status: number; body: string; backend: string } | undefined;
  let delivered = 0;
  outcomes.forEach((o, i) => {
    if (o.kind === 'failed') failures.push(o.detail);
    else if (o.kind === 'rejected') rejected ??= { status: o.status, body: o.body, backend: names[i] ?? '' };
    else if (o.kind === 'delivered') delivered++;
  });
  if (failures.length > 0) {
    return { kind: 'unavailable', status: 503, error: `write not accepted by every backend: ${failures.join('; ')}`, retryAfterSeconds: RETRY_AFTER_SECONDS };
  }
  if (rejected) return { kind: 'rejected', status: rejected.status, backendBody: rejected.body, backend: rejected.backend };
  const required = requiredDeliveries(level, outcomes.length);
  if (delivered < required) {
    return {
      kind: 'unavailable',
      status: 503,
      error: `consistency ${level} not met: ${delivered} of ${outcomes.length} backends delivered within the timeout ` +
        `(${required} required); the write stays queued for every backend, and retrying it is safe`,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    };
  }
  return { kind: 'accepted', status: 204, delivered };
}
