/**
 * A backend's sender loop: leases runs of batches from the queue, sends them, and settles each answer (deliver,
 * drop, reject, retry). Nothing here sleeps or polls: the loop runs on offer, on completion and on timers.
 *
 * What keeps one bad batch or one sick backend from stalling the rest:
 * - A 5xx on a merged request sends batches one at a time, so that a batch the backend keeps failing is found alone.
 * - A single batch that fails with a 500 is set aside (a "suspect"): it retries on its own timer and
 *   the queue behind it flows on. If the next requests fail too, the backend is sick and the loop backs off as a
 *   whole. A suspect that failed POISON_ATTEMPTS times while other batches were delivered is poison: dead-lettered.
 * - A 413 splits the request at line boundaries and sends the halves (down to one line, which is dead-lettered),
 *   and later merges stay below the size that was rejected.
 * - A statement batch (batch.ts) is leased alone (its key is unique) and goes to /query; its answer is read by
 *   classifyStatement. It is never set aside: the writes behind it may need it (CREATE DATABASE), so it keeps its
 *   place and a failure backs the whole loop off.
 */
import type { Batch, WriteTarget } from '../batch.js';
import type { BatchQueue, Lease } from '../queue/queue.js';
import type { Logger } from '../telemetry/logger.js';
import { LogThrottle } from '../telemetry/logger.js';
import { retryDelayMs } from '../backoff.js';
import type { Deliveries } from './deliveries.js';
import { classify, classifyStatement, parseRetryAfter, type Classified } from './outcome.js';
import { countLines, splitInHalves } from './split.js';
import type { SentAnswer, Writer } from './writer.js';

export interface SenderOptions {
  readonly name: string;
  /** false: a write is tried once (buffer-size-mb = 0). */
  readonly retry: boolean;
  readonly maxBatchBytes: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly deadLetterAfterMs: number;
  readonly maxInFlight: number;
}

export interface SenderHooks {
  readonly queue: BatchQueue;
  readonly deliveries: Deliveries;
  readonly log: Logger;
  readonly observe: (seconds: number, verdict: string) => void;
  readonly delivered: (points: number) => void;
  /** Data this backend will never get through the relay's doing: counted, logged, recorded as missed. */
  readonly dropped: (batches: readonly Batch[], points: number, reason: string, message: string) => void;
  /**
   * Data the backend itself refused (bad data, auth, a missing database): counted and logged. Recorded as missed only
   * for `answered` batches, whose client already heard 2xx (queued) before the refusal came: a client still waiting
   * hears the refusal itself, so nothing it was promised is lost.
   */
  readonly refused: (points: number, reason: string, message: string, answered: readonly Batch[]) => void;
  /** Batches set aside for good: written to the dead-letter file. */
  readonly deadLetter: (batch: Batch, message: string) => void;
  /** The queue shrank (room for the intake) or the state changed. */
  readonly changed: () => void;
}

export type BackendState = 'up' | 'down' | 'catching-up';

/** A failure that may be caused by the batch itself rather than by the backend's state. */
function batchSpecific(verdict: Classified, lease: Lease): boolean {
  return verdict.reason === 'http-500' && !lease.batches[0]!.statement;
}

/** The writer as the loop uses it: statements are optional (a scripted writer in a test may send writes only). */
export type SenderWriter = Pick<Writer, 'send'> & Partial<Pick<Writer, 'statement'>>;

/** Failures of a suspect, while other batches got through, that make it poison. */
const POISON_ATTEMPTS = 4;
/** A 413 never shrinks merges below this. */
const MIN_MERGE_BYTES = 64 * 1024;
/** A backlog whose oldest batch is younger than this is just batching, not catching up. */
const CAUGHT_UP_AGE_MS = 1000;

interface Sent {
  readonly answer?: SentAnswer;
  readonly error?: Error & { code?: string };
  /** Single lines the backend rejected as too large even alone. */
  readonly oversize: readonly Buffer[];
}

interface Suspect {
  readonly lease: Lease;
  attempts: number;
  /** Requests delivered by the main loop since it was set aside: the backend works, so the batch is the problem. */
  othersDelivered: number;
  timer: NodeJS.Timeout | undefined;
}

export class Sender {
  private inFlightCount = 0;
  private attempt = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** After a 5xx on a merged request, send one batch at a time so that a poison batch is found alone. */
  private isolate = false;
  private suspect: Suspect | undefined;
  private maxBatchBytes: number;
  private wasDown = false;
  private stopped = false;
  private drained: (() => void) | undefined;
  private lastErrorSeen: { at: string; message: string } | undefined;
  private readonly throttle = new LogThrottle();

  constructor(
    private o: SenderOptions,
    private writer: SenderWriter,
    private readonly h: SenderHooks,
    /** Removes credentials from a backend's answer before it is logged, stored or shown. */
    private readonly redact: (text: string) => string,
  ) {
    this.maxBatchBytes = o.maxBatchBytes;
  }

  get inFlight(): number {
    return this.inFlightCount + (this.suspect ? 1 : 0);
  }

  get lastError(): { at: string; message: string } | undefined {
    return this.lastErrorSeen;
  }

  /** Whether the backend is in backoff: a new batch will wait, so its client can be told 'queued' at once. */
  get retrying(): boolean {
    return this.o.retry && this.backoffTimer !== undefined;
  }

  state(queue: BatchQueue): BackendState {
    // A suspect that nothing else has outlived yet may be the backend's fault as much as the batch's.
    if (this.attempt > 0 || (this.suspect && this.suspect.othersDelivered === 0)) return 'down';
    if (queue.catchingUp) return 'catching-up';
    if (this.wasDown) {
      const oldest = queue.oldestReceivedAt();
      if (oldest !== undefined && Date.now() - oldest > CAUGHT_UP_AGE_MS) return 'catching-up';
      this.wasDown = false;
    }
    return 'up';
  }

  /** Starts requests while there is pending work, room in flight, and no backoff. */
  pump(): void {
    if (this.stopped) return;
    const q = this.h.queue;
    while (this.inFlightCount < this.o.maxInFlight && !this.backoffTimer && q.pending > 0) {
      const lease = q.lease(this.isolate ? 0 : this.maxBatchBytes);
      if (!lease) break;
      this.inFlightCount++;
      void this.run(lease, false);
    }
    if (this.drained && q.length === 0) this.drained();
    this.h.changed();
  }

  /**
   * A reload changed the output: later requests use the new options and writer; requests in flight finish on the old
   * writer (the caller closes it once they are done).
   */
  reconfigure(o: SenderOptions, writer: SenderWriter): void {
    this.o = o;
    this.writer = writer;
    this.maxBatchBytes = o.maxBatchBytes;
    this.pump();
  }

  /** Resolves once the queue is empty or the deadline passes. */
  drain(deadlineMs: number): Promise<void> {
    if (this.h.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
      this.pump();
    });
  }

  stop(): void {
    this.stopped = true;
    this.drained = undefined;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    if (this.suspect?.timer) clearTimeout(this.suspect.timer);
  }

  private async run(lease: Lease, asSuspect: boolean): Promise<void> {
    const started = performance.now();
    const first = lease.batches[0]!;
    const sent = first.statement ? await this.sendStatement(first) : await this.send(first.target, lease.batches.map((b) => b.body));
    if (!asSuspect) this.inFlightCount--;
    const verdict = first.statement ? classifyStatement(sent.answer, sent.error) : classify(sent.answer, sent.error);
    this.h.observe((performance.now() - started) / 1000, verdict.verdict);
    if (this.stopped) return;
    try {
      this.settle(lease, verdict, sent, asSuspect);
    } catch (err) {
      // A bug here must not wedge the sender loop: log it loudly and keep the queue moving.
      this.h.log.error({ err }, 'BUG: settling a backend answer failed');
    }
    this.pump();
  }

  /** A statement batch to /query; a writer without statements answers as a backend that takes none would. */
  private async sendStatement(batch: Batch): Promise<Sent> {
    try {
      const answer = this.writer.statement
        ? await this.writer.statement(batch.target, batch.body)
        : { status: 501, body: JSON.stringify({ error: 'this backend takes no statements' }), retryAfter: undefined };
      return { answer, oversize: [] };
    } catch (err) {
      return { error: err as Error & { code?: string }, oversize: [] };
    }
  }

  /** Sends the bodies; a 413 splits them in halves, recursively, and single lines still too large come back apart. */
  private async send(target: WriteTarget, bodies: Buffer[]): Promise<Sent> {
    let answer: SentAnswer | undefined;
    try {
      answer = await this.writer.send(target, bodies.length === 1 ? bodies[0]! : bodies);
    } catch (err) {
      return { error: err as Error & { code?: string }, oversize: [] };
    }
    if (answer.status !== 413) return { answer, oversize: [] };
    const halves = splitInHalves(bodies);
    if (!halves) return { answer: { status: 204, body: '', retryAfter: undefined }, oversize: bodies };
    const size = bodies.reduce((n, b) => n + b.length, 0);
    this.maxBatchBytes = Math.max(MIN_MERGE_BYTES, Math.min(this.maxBatchBytes, size >> 1));
    const oversize: Buffer[] = [];
    for (const half of halves) {
      const r = await this.send(target, half);
      if (r.answer && r.answer.status >= 300) return { answer: r.answer, oversize };
      if (r.error) return { error: r.error, oversize };
      oversize.push(...r.oversize);
    }
    return { answer: { status: 204, body: '', retryAfter: undefined }, oversize };
  }

  private settle(lease: Lease, verdict: Classified, sent: Sent, asSuspect: boolean): void {
    const q = this.h.queue;
    switch (verdict.verdict) {
      case 'ok': {
        q.ack(lease);
        if (asSuspect) this.suspect = undefined;
        else if (this.suspect) this.suspect.othersDelivered++;
        this.recovered();
        this.isolate = false;
        if (sent.oversize.length === 0) {
          this.h.delivered(lease.points);
          // A statement's answer (its results) is what its client hears.
          const body = lease.batches[0]!.statement ? sent.answer?.body : undefined;
          this.h.deliveries.settle(lease.batches, body !== undefined ? { kind: 'delivered', body } : { kind: 'delivered' });
          return;
        }
        this.tooLarge(lease, sent.oversize);
        return;
      }
      case 'drop':
      case 'reject': {
        q.ack(lease);
        if (asSuspect) this.suspect = undefined;
        this.recovered();
        const status = sent.answer?.status ?? 0;
        const body = this.redact(sent.answer?.body ?? '');
        const answered = this.h.deliveries.settle(lease.batches, { kind: 'rejected', status, body, reason: verdict.reason });
        this.h.refused(lease.points, verdict.reason, `HTTP ${status}: ${body.slice(0, 512)}`, answered);
        return;
      }
      case 'retry':
        this.failed(lease, verdict, sent, asSuspect);
        return;
    }
  }

  /** Delivered but for lines the backend rejects even alone: those are dead-lettered, and the client hears 413. */
  private tooLarge(lease: Lease, lines: readonly Buffer[]): void {
    const first = lease.batches[0]!;
    const count = countLines(lines);
    this.h.delivered(lease.points - count);
    const message = `HTTP 413: ${count} line(s) larger than the backend's body limit even alone`;
    const body = Buffer.concat(lines);
    // A copy of the lines: it outlives the lease (dead letters), so it must not keep the leased body's owners.
    const batch: Batch = { target: first.target, key: first.key, body, points: count, receivedAt: first.receivedAt };
    this.h.dropped([batch], count, 'too-large', message);
    this.h.deadLetter(batch, message);
    const answer = JSON.stringify({ error: `request entity too large: ${count} line(s) exceed this backend's body limit` });
    this.h.deliveries.settle(lease.batches, { kind: 'rejected', status: 413, body: answer, reason: 'too-large' });
  }

  private failed(lease: Lease, verdict: Classified, sent: Sent, asSuspect: boolean): void {
    const q = this.h.queue;
    const message = this.redact(sent.answer ? `HTTP ${sent.answer.status}: ${sent.answer.body.slice(0, 256)}` : `${verdict.reason}: ${sent.error?.message ?? 'unknown error'}`);
    this.lastErrorSeen = { at: new Date().toISOString(), message };
    if (!this.o.retry) {
      q.ack(lease);
      this.h.dropped(lease.batches, lease.points, 'no-retry', message);
      this.h.deliveries.settle(lease.batches, { kind: 'failed', reason: 'unavailable', detail: `backend ${this.o.name}: ${message}` });
      return;
    }
    // A backend that answers (5xx, timeout) but keeps failing one batch is not down: the batch may be poison.
    const answered = verdict.reason !== 'network';
    if (asSuspect) return this.suspectFailed(answered, message, sent.answer?.retryAfter);
    this.wasDown = true;
    if (answered && lease.batches.length === 1 && this.expired(lease)) return this.giveUp(lease, message);
    // A failure that may be this batch's own (a 500) sets it aside; one that speaks for the whole backend (a
    // timeout, 408, 429, 502, 503, 504: stalled, overloaded, restarting, a proxy without a server) backs off as a
    // whole, honouring Retry-After, and keeps the order.
    this.h.deliveries.retrying(lease.batches);
    if (batchSpecific(verdict, lease) && lease.batches.length === 1 && !this.suspect) {
      this.setAside(lease, message);
      return;
    }
    if (answered && lease.batches.length > 1) this.isolate = true;
    q.release(lease);
    this.logThrottled('retry', 'warn', { reason: verdict.reason, error: message, attempt: this.attempt + 1, queueBytes: q.bytes }, 'backend write failed; will retry');
    this.scheduleRetry(sent.answer?.retryAfter);
  }

  /** The batch retries alone on its own timer; the queue behind it flows on. */
  private setAside(lease: Lease, message: string): void {
    this.suspect = { lease, attempts: 1, othersDelivered: 0, timer: undefined };
    this.logThrottled('suspect', 'warn', { points: lease.points, db: lease.batches[0]!.target.db, error: message }, 'a batch failed alone: retrying it apart while the rest of the queue flows');
    this.retrySuspect(undefined);
  }

  private suspectFailed(answered: boolean, message: string, retryAfter: string | undefined): void {
    const s = this.suspect!;
    if (answered) s.attempts++;
    if ((s.othersDelivered > 0 && s.attempts >= POISON_ATTEMPTS) || this.expired(s.lease)) {
      this.suspect = undefined;
      this.giveUp(s.lease, message);
      return;
    }
    this.retrySuspect(retryAfter);
  }

  private expired(lease: Lease): boolean {
    return Date.now() - lease.batches[0]!.receivedAt > this.o.deadLetterAfterMs;
  }

  /** A batch the backend answers but will not take: dead-lettered and recorded, so the queue moves on. */
  private giveUp(lease: Lease, message: string): void {
    this.h.queue.ack(lease);
    this.h.dropped(lease.batches, lease.points, 'dead-letter', message);
    for (const b of lease.batches) this.h.deadLetter(b, message);
    this.h.deliveries.settle(lease.batches, { kind: 'failed', reason: 'unavailable', detail: `backend ${this.o.name}: ${message}` });
    if (this.attempt === 0 && !this.suspect) this.wasDown = false;
  }

  private retrySuspect(retryAfter: string | undefined): void {
    const s = this.suspect!;
    const delay = retryDelayMs(s.attempts - 1, { initialMs: this.o.initialDelayMs, maxMs: this.o.maxDelayMs }, parseRetryAfter(retryAfter));
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!this.stopped && this.suspect === s) void this.run(s.lease, true);
    }, delay);
  }

  private scheduleRetry(retryAfter: string | undefined): void {
    if (this.backoffTimer || this.stopped) return;
    const delay = retryDelayMs(this.attempt++, { initialMs: this.o.initialDelayMs, maxMs: this.o.maxDelayMs }, parseRetryAfter(retryAfter));
    this.h.changed();
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.pump();
    }, delay);
  }

  private recovered(): void {
    if (this.attempt > 0) this.h.log.info({ attempts: this.attempt, queueBytes: this.h.queue.bytes }, 'backend recovered');
    this.attempt = 0;
  }

  private logThrottled(key: string, level: 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
    this.throttle.log(this.h.log, level, key, fields, msg);
  }
}
