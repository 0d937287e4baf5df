/**
 * One InfluxDB backend: it owns its queue (and the room in it), its sender loop with its backoff, and its HTTP pool,
 * so a slow or dead backend never slows another. This file composes them and reports health; the loop is
 * sender.ts, admission under `when-full` is room.ts, and the clients waiting on a batch are deliveries.ts.
 */
import type { Dispatcher } from 'undici';
import type { Batch, WriteTarget } from '../batch.js';
import type { WhenFull } from '../config/enums.js';
import type { BatchQueue, OfferQueue } from '../queue/queue.js';
import type { Logger } from '../telemetry/logger.js';
import { LogThrottle, redactUrl } from '../telemetry/logger.js';
import { redactCredentials } from '../telemetry/redact.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import type { DeadLetterSink } from './dead-letters.js';
import { Deliveries, type Fate } from './deliveries.js';
import { Room } from './room.js';
import type { BackendHealth } from './health-report.js';
import { Sender, type BackendState, type SenderOptions } from './sender.js';
import type { Writer } from './writer.js';

export type { Fate } from './deliveries.js';
export type { BackendState } from './sender.js';
export type { BackendHealth } from './health-report.js';

export interface BackendOptions extends SenderOptions {
  /** For /health (credentials redacted). */
  readonly location: string;
  readonly whenFull: WhenFull;
}


/** Where the batches a backend will never get are recorded, so the replica can be repaired (the ledger). */
export interface MissedWindowSink {
  record(backend: string, batch: Batch, reason: string): void;
  /** Windows of this backend not repaired yet. */
  missedWindows?(backend: string): number;
}

export interface BackendDeps {
  readonly queue: BatchQueue;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
  readonly deadLetters?: DeadLetterSink;
  readonly missed?: MissedWindowSink;
  /** The HTTP side: from-config builds it from the output (v1 or v2 API, TLS); tests inject a scripted one. */
  readonly writer: Pick<Writer, 'send' | 'close' | 'destroy'> & Partial<Pick<Writer, 'statement' | 'query'>>;
}

/** A batch admitted to one backend, as the client's answer sees it. */
export interface Ticket {
  readonly fate: Promise<Fate>;
  /** What the fate counts as if still unknown at the answer deadline; none: it settles within the backend timeout. */
  readonly late?: Fate;
  /** The answer no longer waits. */
  readonly cancel: () => void;
}

const settled = (fate: Fate): Ticket => ({ fate: Promise.resolve(fate), cancel: () => undefined });

export class Backend {
  readonly name: string;
  private readonly queue: BatchQueue;
  private readonly room: Room;
  private readonly sender: Sender;
  private readonly deliveries = new Deliveries();
  private writer: BackendDeps['writer'];
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private closing = false;
  private readonly m;

  constructor(
    private options: BackendOptions,
    private readonly deps: BackendDeps,
  ) {
    this.name = options.name;
    this.queue = deps.queue;
    this.log = deps.logger.child({ component: 'backend', backend: options.name });
    this.writer = deps.writer;
    const { metrics } = deps;
    this.m = {
      up: metrics.backendUp.labels(options.name),
      delivered: metrics.backendPointsDelivered.labels(options.name),
      duration: metrics.backendRequestDuration.labels(options.name),
    };
    this.m.up.set(1);
    this.room = new Room(this.queue, options.whenFull, () => this.sender.state(this.queue) === 'down', (batches, reason) =>
      this.dropped(batches, batches.reduce((n, b) => n + b.points, 0), reason, `queue full (${this.queue.capacityBytes} bytes): when-full = drop-oldest`),
    );
    this.sender = new Sender(
      options,
      this.writer,
      {
        queue: this.queue,
        deliveries: this.deliveries,
        log: this.log,
        observe: (seconds, verdict) => {
          this.m.duration.observe(seconds);
          metrics.backendRequests.labels(options.name, verdict).inc();
        },
        delivered: (points) => this.m.delivered.inc(points),
        dropped: (batches, points, reason, message) => this.dropped(batches, points, reason, message),
        refused: (points, reason, message, answered) => {
          metrics.backendPointsDropped.labels(options.name, reason).inc(points);
          for (const b of answered) this.deps.missed?.record(this.name, b, reason);
          this.throttle.log(this.log, 'warn', reason, { reason, points, error: message }, 'backend refused a batch; it is not retried');
        },
        deadLetter: (batch, message) => this.deadLetter(batch, message),
        changed: () => {
          this.room.changed();
          this.m.up.set(this.sender.state(this.queue) === 'down' ? 0 : 1);
        },
      },
      redactCredentials,
    );
    this.queue.onLeasable?.(() => this.sender.pump());
  }

  /** Starts sending a backlog the queue already holds (a spool replaying after a restart). */
  start(): void {
    this.sender.pump();
  }

  /** Whether the batch would be taken as it is: the fan-out asks every backend before any takes it. */
  fits(bytes: number): boolean {
    return this.closing || this.room.fits(bytes); // a closing backend refuses in take(), saying why
  }

  /** Remembers a batch refused for want of room: the backend reports full until that much is free. */
  markFull(bytes: number): void {
    this.room.markFull(bytes);
  }

  /** Takes the batch into this backend's queue; the ticket tells its client what became of it. */
  take(batch: Batch, untilDelivered: boolean): Ticket {
    if (this.closing) return settled({ kind: 'failed', reason: 'closing', detail: 'the relay is shutting down' });
    if (this.room.take(batch) === 'missed') return settled({ kind: 'missed', reason: 'queue-full' });
    // A backend in backoff will not answer soon: the batch is safe in the queue, say so now.
    if (this.sender.retrying && !untilDelivered) return settled({ kind: 'queued', reason: 'retrying' });
    const fate = this.deliveries.wait(batch, untilDelivered);
    this.sender.pump();
    return {
      fate,
      ...(this.options.retry ? { late: { kind: 'queued', reason: 'in-flight' } as const } : {}),
      cancel: () => this.deliveries.forget(batch),
    };
  }

  /**
   * A reload changed this output: new options and writer apply to the next requests; the queue and what it holds
   * stay. The old writer is closed once its requests in flight are done (undici's close waits for them).
   */
  reconfigure(options: BackendOptions, writer: BackendDeps['writer'] = this.writer, capacityBytes?: number): void {
    const old = this.writer;
    this.options = options;
    this.writer = writer;
    this.room.reconfigure(options.whenFull, capacityBytes);
    this.sender.reconfigure(options, writer);
    if (old !== writer) void old.close().catch(() => undefined);
  }

  /** Passes a read query on to this backend (a read that reached the relay); undefined if its writer cannot. */
  query(target: WriteTarget, params: URLSearchParams): Promise<Dispatcher.ResponseData> | undefined {
    return this.writer.query?.(target, params);
  }

  /** Resolves once the queue has room again (at once if it has): how a streaming source applies backpressure. */
  waitForRoom(): Promise<void> {
    return this.room.waitForRoom();
  }

  /** Whether a new write would be taken: the load balancer's signal. */
  get acceptingWrites(): boolean {
    return !this.closing && this.room.accepting;
  }

  get state(): BackendState {
    return this.sender.state(this.queue);
  }

  health(): BackendHealth {
    const oldest = this.queue.oldestReceivedAt();
    const lastError = this.sender.lastError;
    return {
      name: this.name,
      location: redactUrl(this.options.location),
      state: this.state,
      acceptingWrites: this.acceptingWrites,
      queueBytes: this.queue.bytes,
      queueBatches: this.queue.length,
      queueCapacityBytes: this.queue.capacityBytes,
      oldestBatchAgeMs: oldest === undefined ? 0 : Date.now() - oldest,
      inFlight: this.sender.inFlight,
      ...(this.deps.missed?.missedWindows ? { missedWindows: this.deps.missed.missedWindows(this.name) } : {}),
      ...(lastError ? { lastError } : {}),
    };
  }

  /** Data this backend will never get: counted, logged (throttled), recorded as a missed window. */
  private dropped(batches: readonly Batch[], points: number, reason: string, message: string): void {
    this.deps.metrics.backendPointsDropped.labels(this.name, reason).inc(points);
    for (const b of batches) this.deps.missed?.record(this.name, b, reason);
    const fields = { reason, points, batches: batches.length, db: batches[0]?.target.db, error: message };
    this.throttle.log(this.log, 'warn', reason, fields, 'batches dropped for this backend: recorded as missed');
  }

  private deadLetter(batch: Batch, message: string): void {
    this.log.error({ points: batch.points, db: batch.target.db, ageMs: Date.now() - batch.receivedAt, error: message }, 'batch set aside for good: dead-lettered');
    this.deps.deadLetters?.write(this.name, batch, message).catch((err: unknown) => {
      this.log.error({ err }, 'could not write the dead-letter file');
    });
  }

  /**
   * Stops taking batches and keeps sending what is queued until it is empty or the deadline passes; then aborts.
   * Resolves with what could not be delivered.
   */
  async close(deadlineMs: number): Promise<{ batches: number; bytes: number }> {
    this.closing = true;
    this.room.close();
    await this.sender.drain(deadlineMs);
    return this.destroy();
  }

  /**
   * A reload removed this output: it takes no new batches from the fan-out (which no longer lists it) but keeps
   * delivering what it holds until empty or the deadline, then stops. Writes admitted just before keep their answer.
   */
  async retire(deadlineMs: number): Promise<{ batches: number; bytes: number }> {
    await this.sender.drain(deadlineMs);
    return this.destroy();
  }

  /** Aborts everything now. What a memory queue still holds is recorded as missed. Idempotent. */
  async destroy(): Promise<{ batches: number; bytes: number }> {
    this.closing = true;
    this.room.close();
    this.sender.stop();
    this.deliveries.settleAll({ kind: 'failed', reason: 'closing', detail: 'the relay is shutting down' });
    const left = { batches: this.queue.length, bytes: this.queue.bytes };
    const held = 'abandon' in this.queue ? (this.queue as OfferQueue).abandon() : [];
    if (held.length > 0) this.dropped(held, held.reduce((n, b) => n + b.points, 0), 'shutdown', 'shutdown deadline passed');
    // Destroying the pool aborts the requests in flight.
    await this.writer.destroy().catch(() => undefined);
    return left;
  }
}
