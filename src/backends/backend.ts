/**
 * One InfluxDB backend: it owns its queue, its sender loop, its backoff and its HTTP pool, so a slow or dead backend
 * never slows another.
 *
 * A submitted batch waits (up to the output `timeout`) for the first answer that settles its fate for the client:
 * delivered, rejected (a non-retryable 4xx) or queued (a retryable failure, a backlog, or the timeout). Nothing here
 * sleeps or polls: the sender runs on offer, on completion and on the backoff timer.
 */
import type { Batch } from '../batch.js';
import type { BatchQueue, Lease } from '../queue/queue.js';
import type { Logger } from '../telemetry/logger.js';
import { LogThrottle, redactUrl } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { retryDelayMs } from './backoff.js';
import type { DeadLetterSink } from './dead-letters.js';
import { classify, parseRetryAfter, type Classified } from './outcome.js';
import { Writer, type SentAnswer } from './writer.js';

export interface BackendOptions {
  readonly name: string;
  readonly location: string;
  readonly timeoutMs: number;
  /** 0: no retry; a write is tried once. */
  readonly retry: boolean;
  readonly maxBatchBytes: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly deadLetterAfterMs: number;
  readonly maxInFlight: number;
  readonly connections: number;
  readonly skipTlsVerification: boolean;
  readonly httpUser?: string;
  readonly httpPass?: string;
}

export type SubmitOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'queued'; readonly reason: 'backlog' | 'retrying' | 'timeout' }
  | { readonly kind: 'rejected'; readonly status: number; readonly body: string; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: 'queue-full' | 'unavailable' | 'closing'; readonly detail: string };

export type BackendState = 'up' | 'down' | 'catching-up';

export interface BackendHealth {
  readonly name: string;
  readonly location: string;
  readonly state: BackendState;
  readonly acceptingWrites: boolean;
  readonly queueBytes: number;
  readonly queueBatches: number;
  readonly queueCapacityBytes: number;
  readonly oldestBatchAgeMs: number;
  readonly inFlight: number;
  readonly lastError?: { readonly at: string; readonly message: string };
}

interface Waiter {
  readonly resolve: (o: SubmitOutcome) => void;
  readonly untilDelivered: boolean;
  readonly timer: NodeJS.Timeout;
}

export interface BackendDeps {
  readonly queue: BatchQueue;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly deadLetters?: DeadLetterSink;
  /** The HTTP side: from-config builds it from the output (v1 or v2 API, TLS); tests inject a scripted one. */
  readonly writer?: Pick<Writer, 'send' | 'close' | 'destroy'>;
}

/** A backlog whose oldest batch is younger than this is just batching, not catching up. */
const CAUGHT_UP_AGE_MS = 1000;

export class Backend {
  readonly name: string;
  private readonly queue: BatchQueue;
  private readonly writer: Pick<Writer, 'send' | 'close' | 'destroy'>;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private readonly waiters = new Map<Batch, Waiter>();
  private inFlight = 0;
  private attempt = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** After a 5xx on a merged request, send one batch at a time so that a poison batch is found and set aside alone. */
  private isolate = false;
  private wasDown = false;
  private closing = false;
  private destroyed = false;
  private drained: (() => void) | undefined;
  private lastError: { at: string; message: string } | undefined;
  private roomWaiters: Array<() => void> = [];
  /** Size of the largest batch refused for want of room: until that much is free, the backend is full. */
  private neededRoom = 0;
  private readonly m: ReturnType<Backend['bindMetrics']>;

  constructor(
    private readonly options: BackendOptions,
    private readonly deps: BackendDeps,
  ) {
    this.name = options.name;
    this.queue = deps.queue;
    this.log = deps.logger.child({ component: 'backend', backend: options.name });
    this.writer =
      deps.writer ??
      new Writer({
        location: options.location,
        timeoutMs: options.timeoutMs,
        connections: options.connections,
        skipTlsVerification: options.skipTlsVerification,
        httpUser: options.httpUser,
        httpPass: options.httpPass,
      });
    this.m = this.bindMetrics();
    this.m.up.set(1);
    this.queue.onLeasable?.(() => this.pump());
  }

  /** Starts sending a backlog the queue already holds (a spool replaying after a restart). */
  start(): void {
    this.pump();
  }

  private bindMetrics() {
    const { metrics } = this.deps;
    const name = this.options.name;
    return {
      up: metrics.backendUp.labels(name),
      delivered: metrics.backendPointsDelivered.labels(name),
      duration: metrics.backendRequestDuration.labels(name),
      requests: (outcome: string) => metrics.backendRequests.labels(name, outcome),
      dropped: (reason: string) => metrics.backendPointsDropped.labels(name, reason),
    };
  }

  /** Accepts a batch into this backend's queue and tells when its fate is known, within the output timeout. */
  submit(batch: Batch, untilDelivered = false): Promise<SubmitOutcome> {
    if (this.closing) return Promise.resolve({ kind: 'failed', reason: 'closing', detail: 'the relay is shutting down' });
    if (this.queue.offer(batch) === 'full') {
      this.refused(batch);
      this.m.dropped('queue-full').inc(batch.points);
      return Promise.resolve({
        kind: 'failed',
        reason: 'queue-full',
        detail: `backend ${this.name} queue is full (${this.queue.bytes} of ${this.queue.capacityBytes} bytes)`,
      });
    }
    // A backend in backoff will not answer soon: the batch is safe in the queue, say so now.
    if (this.options.retry && this.backoffTimer && !untilDelivered) {
      return Promise.resolve({ kind: 'queued', reason: 'retrying' });
    }
    const result = new Promise<SubmitOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(batch);
        resolve(
          this.options.retry
            ? { kind: 'queued', reason: 'timeout' }
            : { kind: 'failed', reason: 'unavailable', detail: `backend ${this.name} did not answer within ${this.options.timeoutMs} ms` },
        );
      }, this.options.timeoutMs);
      this.waiters.set(batch, { resolve, untilDelivered, timer });
    });
    this.pump();
    return result;
  }

  /** Remembers a batch refused for want of room: the backend reports full until that much is free. */
  refused(batch: Batch): void {
    this.neededRoom = Math.max(this.neededRoom, batch.body.length);
  }

  /** Starts requests while there is pending work, room in flight, and no backoff. */
  private pump(): void {
    if (this.destroyed) return;
    while (this.inFlight < this.options.maxInFlight && !this.backoffTimer && this.queue.pending > 0) {
      const lease = this.queue.lease(this.isolate ? 0 : this.options.maxBatchBytes);
      if (!lease) break;
      this.inFlight++;
      void this.send(lease);
    }
    if (this.drained && this.queue.length === 0) this.drained();
    if (this.neededRoom > 0 && this.freeBytes >= this.neededRoom) this.neededRoom = 0;
    if (this.roomWaiters.length > 0 && this.acceptingWrites) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Whether a batch of this size would be taken now (the fan-out asks every backend before offering to any). */
  hasRoomFor(bytes: number): boolean {
    return !this.closing && this.freeBytes >= bytes;
  }

  /** Resolves once the queue has room again (at once if it has): how a streaming source applies backpressure. */
  waitForRoom(): Promise<void> {
    if (this.acceptingWrites || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private async send(lease: Lease): Promise<void> {
    const first = lease.batches[0]!;
    const started = performance.now();
    let answer: SentAnswer | undefined;
    let error: (Error & { code?: string }) | undefined;
    try {
      answer = await this.writer.send(
        first.target,
        lease.batches.length === 1 ? first.body : lease.batches.map((b) => b.body),
      );
    } catch (err) {
      error = err as Error & { code?: string };
    }
    this.inFlight--;
    this.m.duration.observe((performance.now() - started) / 1000);
    const verdict = classify(answer, error);
    this.m.requests(verdict.verdict).inc();
    try {
      this.settle(lease, verdict, answer, error);
    } catch (err) {
      // A bug here must not wedge the sender loop: log it loudly and keep the queue moving.
      this.log.error({ err }, 'BUG: settling a backend answer failed');
    }
    this.pump();
  }

  private settle(lease: Lease, verdict: Classified, answer: SentAnswer | undefined, error: Error | undefined): void {
    switch (verdict.verdict) {
      case 'ok':
        this.queue.ack(lease);
        this.recovered();
        this.m.delivered.inc(lease.points);
        this.isolate = false;
        this.resolveAll(lease, { kind: 'delivered' });
        return;
      case 'drop':
      case 'reject': {
        this.queue.ack(lease);
        this.recovered();
        this.m.dropped(verdict.reason).inc(lease.points);
        const status = answer?.status ?? 0;
        const body = answer?.body ?? '';
        this.logThrottled(verdict.reason, 'warn', { status, reason: verdict.reason, points: lease.points, db: lease.batches[0]!.target.db, answer: body.slice(0, 512) }, 'backend refused a batch; it is not retried');
        this.resolveAll(lease, { kind: 'rejected', status, body, reason: verdict.reason });
        return;
      }
      case 'retry':
        this.failed(lease, verdict, answer, error);
        return;
    }
  }

  private failed(lease: Lease, verdict: Classified, answer: SentAnswer | undefined, error: Error | undefined): void {
    const message = answer ? `HTTP ${answer.status}: ${answer.body.slice(0, 256)}` : `${verdict.reason}: ${error?.message ?? 'unknown error'}`;
    this.lastError = { at: new Date().toISOString(), message };
    this.m.up.set(0);
    this.wasDown = true;
    if (!this.options.retry) {
      this.queue.ack(lease);
      this.m.dropped('no-retry').inc(lease.points);
      this.logThrottled('no-retry', 'warn', { reason: verdict.reason, error: message, points: lease.points }, 'backend write failed and buffering is off (buffer-size-mb = 0): batch not retried');
      this.resolveAll(lease, { kind: 'failed', reason: 'unavailable', detail: `backend ${this.name}: ${message}` });
      return;
    }
    // A backend that answers (5xx, timeout) but keeps failing one batch is not down: the batch is poison.
    const answered = verdict.reason !== 'network';
    const age = Date.now() - lease.batches[0]!.receivedAt;
    if (answered && age > this.options.deadLetterAfterMs && lease.batches.length === 1) {
      this.queue.ack(lease);
      this.deadLetter(lease, message);
      this.resolveAll(lease, { kind: 'failed', reason: 'unavailable', detail: `backend ${this.name}: ${message}` });
      this.scheduleRetry(undefined);
      return;
    }
    if (answered && lease.batches.length > 1) this.isolate = true;
    this.queue.release(lease);
    this.logThrottled('retry', 'warn', { reason: verdict.reason, error: message, attempt: this.attempt + 1, queueBytes: this.queue.bytes }, 'backend write failed; will retry');
    for (const b of lease.batches) {
      const w = this.waiters.get(b);
      if (w && !w.untilDelivered) this.resolveOne(b, { kind: 'queued', reason: 'retrying' });
    }
    this.scheduleRetry(answer?.retryAfter);
  }

  private scheduleRetry(retryAfter: string | undefined): void {
    if (this.backoffTimer || this.destroyed) return;
    const delay = retryDelayMs(
      this.attempt++,
      { initialMs: this.options.initialDelayMs, maxMs: this.options.maxDelayMs },
      parseRetryAfter(retryAfter),
    );
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      // Nothing left to retry (the failing batch was dead-lettered): no evidence the backend is down any more, and a
      // 'down' state would keep it out of the read pool until some later write went through.
      if (this.queue.pending === 0 && this.inFlight === 0) {
        this.attempt = 0;
        this.m.up.set(1);
      }
      this.pump();
    }, delay);
  }

  private recovered(): void {
    if (this.attempt > 0) this.log.info({ attempts: this.attempt, queueBytes: this.queue.bytes }, 'backend recovered');
    this.attempt = 0;
    this.m.up.set(1);
  }

  private deadLetter(lease: Lease, message: string): void {
    this.m.dropped('dead-letter').inc(lease.points);
    const batch = lease.batches[0]!;
    this.log.error(
      { points: lease.points, db: batch.target.db, ageMs: Date.now() - batch.receivedAt, error: message },
      'batch kept failing past dead-letter-after: dead-lettered',
    );
    this.deps.deadLetters?.write(this.name, batch, message).catch((err: unknown) => {
      this.log.error({ err }, 'could not write the dead-letter file');
    });
  }

  private resolveAll(lease: Lease, outcome: SubmitOutcome): void {
    for (const b of lease.batches) this.resolveOne(b, outcome);
  }

  private resolveOne(batch: Batch, outcome: SubmitOutcome): void {
    const w = this.waiters.get(batch);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiters.delete(batch);
    w.resolve(outcome);
  }

  private logThrottled(key: string, level: 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed === undefined) return;
    this.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  }

  get state(): BackendState {
    if (this.attempt > 0) return 'down';
    if (this.queue.catchingUp) return 'catching-up';
    if (this.wasDown) {
      const oldest = this.queue.oldestReceivedAt();
      if (oldest !== undefined && Date.now() - oldest > CAUGHT_UP_AGE_MS) return 'catching-up';
      this.wasDown = false;
    }
    return 'up';
  }

  /** Whether a new write would find room: the load balancer's signal. */
  get acceptingWrites(): boolean {
    if (this.closing) return false;
    return this.freeBytes >= Math.max(this.neededRoom, Math.min(this.queue.capacityBytes / 20, 1024 * 1024));
  }

  private get freeBytes(): number {
    return this.queue.capacityBytes - this.queue.bytes;
  }

  health(): BackendHealth {
    const oldest = this.queue.oldestReceivedAt();
    return {
      name: this.name,
      location: redactUrl(this.options.location),
      state: this.state,
      acceptingWrites: this.acceptingWrites,
      queueBytes: this.queue.bytes,
      queueBatches: this.queue.length,
      queueCapacityBytes: this.queue.capacityBytes,
      oldestBatchAgeMs: oldest === undefined ? 0 : Date.now() - oldest,
      inFlight: this.inFlight,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  get queueBytes(): number {
    return this.queue.bytes;
  }

  /**
   * Stops taking batches and keeps sending what is queued until it is empty or the deadline passes; then aborts.
   * Resolves with what could not be delivered.
   */
  async close(deadlineMs: number): Promise<{ batches: number; bytes: number }> {
    this.closing = true;
    if (this.queue.length > 0) {
      // While draining, retry promptly: the deadline is what bounds us now.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
        this.pump();
      });
    }
    return this.destroy();
  }

  /** Aborts everything now. Idempotent. */
  async destroy(): Promise<{ batches: number; bytes: number }> {
    this.closing = true;
    this.destroyed = true;
    this.drained = undefined;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    for (const [batch] of this.waiters) {
      this.resolveOne(batch, { kind: 'failed', reason: 'closing', detail: 'the relay is shutting down' });
    }
    for (const w of this.roomWaiters.splice(0)) w();
    // Destroying the pool aborts the requests in flight.
    await this.writer.destroy().catch(() => undefined);
    return { batches: this.queue.length, bytes: this.queue.bytes };
  }
}
