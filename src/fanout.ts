/**
 * One batch → every backend, in one admission step: the batch goes into every backend's queue or, when some queue
 * has no room under `when-full = reject`, into none (so a 503 never leaves the replicas apart: the client's retry
 * brings it to all). With the spool, the batch is appended to the listener's log once, before any backend takes it;
 * nothing that is not on disk is acknowledged. The client's answer is then decided in one place (answer.ts).
 *
 * Sources reach the backends only through this class: admission, room (for streaming backpressure) and health.
 */
import type { Dispatcher } from 'undici';
import type { Batch, WriteTarget } from './batch.js';
import { answer, unavailable, type Consistency, type FanOutResult } from './answer.js';
import type { Backend, BackendHealth, Ticket } from './backends/backend.js';
import type { Journal, JournalHealth } from './queue/queue.js';

export { decide, parseConsistency, requiredDeliveries, type Consistency, type FanOutResult } from './answer.js';
export type { BackendHealth } from './backends/backend.js';

export class FanOut {
  private names: readonly string[];

  constructor(
    private backends: readonly Backend[],
    /** How long a client waits for backends still in flight before they count as queued (answer-timeout). */
    public answerTimeoutMs: number,
    /** With a journal (the spool), a batch is on disk before any backend takes it; nothing else acknowledges it. */
    private readonly journal?: Journal,
  ) {
    this.names = backends.map((b) => b.name);
  }

  /** A reload changed the outputs: later writes go to these backends (a write already admitted keeps its own). */
  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
    this.names = backends.map((b) => b.name);
  }

  get size(): number {
    return this.backends.length;
  }

  /** Whether a new write would be taken by every backend now. */
  get hasRoom(): boolean {
    return this.backends.every((b) => b.acceptingWrites);
  }

  /** Resolves when every backend has room: streaming sources (TCP) pause their sockets until then. */
  async waitForRoom(): Promise<void> {
    await Promise.all(this.backends.map((b) => b.waitForRoom()));
  }

  health(): BackendHealth[] {
    return this.backends.map((b) => b.health());
  }

  /** The spool's disk, when there is a spool. */
  journalHealth(): JournalHealth | undefined {
    return this.journal?.health();
  }

  /**
   * A read query that reached the relay (HAProxy sends it any query that might change state): one backend answers,
   * the first that is fresh (up, caught up, no missed window: /health/backends/<name> would say 200), else the first.
   */
  forwardQuery(target: WriteTarget, params: URLSearchParams): Promise<Dispatcher.ResponseData> | undefined {
    const backends = this.backends;
    const fresh = backends.find((b) => {
      const h = b.health();
      return h.state === 'up' && !h.missedWindows;
    });
    return (fresh ?? backends[0])?.query(target, params);
  }

  async write(batch: Batch, level: Consistency): Promise<FanOutResult> {
    // One set of backends per write, even when a reload changes them while the spool appends.
    const backends = this.backends;
    const names = this.names;
    const admitted = await this.admit(backends, batch, level !== 'any');
    if (!Array.isArray(admitted)) return admitted;
    return answer(names, admitted, level, this.answerTimeoutMs);
  }

  /** Every backend takes the batch, or none does (the refusal says why). */
  private async admit(backends: readonly Backend[], batch: Batch, untilDelivered: boolean): Promise<Ticket[] | FanOutResult> {
    if (this.journal) {
      try {
        await this.journal.append(batch);
      } catch (err) {
        // Spool full (when-full = reject) or a disk error: nothing of the batch was kept, so the client must retry.
        return unavailable(`write not accepted: ${(err as Error).message}`);
      }
    } else {
      // Checking and taking happen in one tick: nothing slips between.
      const full = backends.filter((b) => !b.fits(batch.body.length));
      if (full.length > 0) {
        for (const b of full) b.markFull(batch.body.length);
        return unavailable(`write not accepted: queue full for ${full.map((b) => b.name).join(', ')}; nothing was queued, retry later`);
      }
    }
    return backends.map((b) => b.take(batch, untilDelivered));
  }
}
