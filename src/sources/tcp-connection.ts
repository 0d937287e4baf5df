/**
 * One `[[tcp]]` connection: newline-delimited line protocol in, batches to the fan-out out, with real backpressure.
 *
 * Flow: chunk → LineSplitter (complete lines only) → scanned, the lines without a timestamp stamped with the time the
 * chunk arrived (as InfluxDB stamps one request) → gathered (coalescer.ts), cut into a batch at batch-size-kb or batch-delay after its
 * first line → backlog → fan-out.
 *
 * Invariants:
 * - Memory per connection is bounded: pending < batch size + one chunk; the backlog only grows while reading is
 *   paused, by the batches cut from what was already read, plus the ones being retried.
 * - Reading is paused whenever the backlog is not empty or some backend has no room (checked when the connection
 *   opens and before every write): a batch waits on the backlog until `fanout.waitForRoom()`, and after the fan-out
 *   answered "unavailable" (e.g. a queue was full) it is retried there after a short backoff, never dropped. A retry offers the batch to every
 *   backend again, so one that had taken it gets it twice: harmless, since the lines were stamped once and a write
 *   of identical points is idempotent in InfluxDB.
 * - Writes are pipelined: the next batch does not wait for the previous one's delivery, only for room.
 */
import type { Socket } from 'node:net';
import type { Batch, WriteTarget } from '../batch.js';
import type { FanOut, FanOutResult } from '../fanout.js';
import { nowIn, type Precision } from '../lineprotocol/precision.js';
import { describeParseErrors, scanLines } from '../lineprotocol/scanner.js';
import type { LogThrottle, Logger } from '../telemetry/logger.js';
import type { LineTranslator } from './convert/translate.js';
import { retryDelayMs } from '../backoff.js';
import { Coalescer } from './coalescer.js';
import { LineSplitter } from './line-splitter.js';

/** What every connection of a listener shares. */
export interface TcpContext {
  readonly fanout: FanOut;
  readonly target: WriteTarget;
  readonly precision: Precision;
  readonly batchBytes: number;
  readonly batchDelayMs: number;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  /** Listeners of other protocols (OpenTSDB, Graphite): their lines become line protocol before the scan. */
  readonly translate?: LineTranslator;
  readonly log: Logger;
  /** One throttle per listener: a thousand connections must not log a thousand times. */
  readonly throttle: LogThrottle;
  readonly metrics: {
    readonly received: { inc(n?: number): void };
    /** Lines the scanner found bad. */
    readonly badLines: { inc(n?: number): void };
    readonly stamped: { inc(n?: number): void };
    readonly tooLong: { inc(n?: number): void };
    readonly pauses: { inc(n?: number): void };
    /** Points a backend rejected (a non-retryable 4xx). */
    readonly rejected: { inc(n?: number): void };
    readonly shutdown: { inc(n?: number): void };
  };
}

const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 2000;

export class TcpConnection {
  private readonly splitter: LineSplitter;
  private readonly peer: string;
  /** Lines read and not cut into a batch yet (batch-size-kb, batch-delay). */
  private readonly gathered: Coalescer;
  /** Scratch for the splitter's output, reused per chunk. */
  private readonly segments: Buffer[] = [];
  private readonly backlog: Batch[] = [];
  private inFlight = 0;
  private waitingForRoom = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private paused = false;
  /** No more data is taken from the client. */
  private ended = false;
  /** The close deadline passed: what is left is dropped. */
  private abandoned = false;
  private resolveDone!: () => void;
  /** Resolves once the client is gone and every batch cut from it has been taken by the fan-out (or abandoned). */
  readonly done: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: TcpContext,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    // Nothing is ever written back: once its batches are handed on, a half-open socket has no use.
    void this.done.then(() => socket.destroy());
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.gathered = new Coalescer(ctx.target, ctx.batchBytes, ctx.batchDelayMs, (batch) =>
      this.safely(() => {
        this.backlog.push(batch);
        this.pump();
      }),
    );
    this.splitter = new LineSplitter(ctx.maxLineBytes, () => {
      ctx.metrics.tooLong.inc();
      this.warn('too-long', { maxLineBytes: ctx.maxLineBytes }, 'discarded a line longer than max-line-kb');
    });
    socket.setTimeout(ctx.idleTimeoutMs);
    socket.on('timeout', () => this.onIdle());
    socket.on('data', (chunk: Buffer) => this.safely(() => this.onData(chunk)));
    socket.on('end', () => this.stop(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.ctx.log.debug({ peer: this.peer, err: err.message }, 'tcp connection error');
      this.stop(false);
    });
    socket.on('close', () => this.stop(false));
    // A connection opened while some backend has no room is not read from until there is.
    if (!this.hasRoom()) this.awaitRoom();
    this.flow();
  }

  /** The stream is anyone's input: a bug it triggers ends this connection, not the relay. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log.error({ err, peer: this.peer }, 'BUG: handling tcp data failed');
      this.socket.destroy();
    }
  }

  private hasRoom(): boolean {
    return this.ctx.fanout.hasRoom;
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    const segments = this.segments;
    segments.length = 0;
    if (this.splitter.push(chunk, segments) === 0) return;
    const stamp = nowIn(this.ctx.precision);
    for (const segment of segments) this.ingest(segment, stamp);
    segments.length = 0;
  }

  /** Scans whole lines into the pending batch (starting its batch-delay clock). */
  private ingest(lines: Buffer, stamp: string): void {
    const m = this.ctx.metrics;
    if (this.ctx.translate) {
      const t = this.ctx.translate.translate(lines);
      if (t.dropped > 0) {
        m.rejected.inc(t.dropped);
        this.warn('convert', { lines: t.dropped, error: t.error }, 'dropped lines that make no InfluxDB point');
      }
      if (t.body.length === 0) return;
      lines = t.body;
    }
    const scan = scanLines(lines, { precision: this.ctx.precision, stamp });
    if (scan.errorCount > 0) {
      m.badLines.inc(scan.errorCount);
      this.warn('parse', { lines: scan.errorCount, error: describeParseErrors(scan) }, 'dropped invalid lines');
    }
    if (scan.points === 0) return;
    m.received.inc(scan.points);
    if (scan.stamped > 0) m.stamped.inc(scan.stamped);
    this.gathered.add(scan.body, scan.points);
  }

  /** Submits backlog batches while every backend has room; otherwise waits for room (reading stays paused). */
  private pump(): void {
    while (this.backlog.length > 0 && !this.waitingForRoom && !this.retryTimer && !this.abandoned) {
      if (!this.hasRoom()) {
        this.awaitRoom();
        break;
      }
      this.submit(this.backlog.shift()!);
    }
    this.flow();
  }

  private awaitRoom(): void {
    if (this.waitingForRoom) return;
    this.waitingForRoom = true;
    this.ctx.fanout.waitForRoom().then(() => {
      this.waitingForRoom = false;
      // A closing backend "has room" only in that it will never get any: re-check later rather than spin.
      if (this.hasRoom()) this.pump();
      else this.retryLater();
    }, (err: unknown) => this.bug(err));
  }

  private submit(batch: Batch): void {
    this.inFlight++;
    this.ctx.fanout.write(batch, 'any').then(
      (result) => {
        this.inFlight--;
        this.settled(batch, result);
      },
      (err: unknown) => {
        this.inFlight--;
        this.bug(err);
      },
    );
  }

  private settled(batch: Batch, result: FanOutResult): void {
    if (result.kind === 'unavailable') {
      if (this.abandoned) {
        this.ctx.metrics.shutdown.inc(batch.points);
      } else {
        // Retried first, before newer batches: not dropped.
        this.backlog.unshift(batch);
        this.warn('unavailable', { points: batch.points, error: result.error }, 'backends cannot take more: pausing the connection and retrying');
        this.retryLater();
      }
    } else if (result.kind === 'rejected') {
      this.ctx.metrics.rejected.inc(batch.points);
      this.warn('rejected', { points: batch.points, status: result.status, backend: result.backend, answer: result.backendBody.slice(0, 512) }, 'a backend rejected a batch');
    } else {
      this.retryAttempt = 0;
    }
    this.pump();
  }

  private retryLater(): void {
    if (this.retryTimer || this.abandoned) return this.flow();
    const delay = retryDelayMs(this.retryAttempt++, { initialMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.hasRoom()) this.pump();
      else this.awaitRoom();
    }, delay);
    this.flow();
  }

  /** Reading is paused exactly while batches wait on the backlog, or while waiting for room. */
  private flow(): void {
    const stall = this.backlog.length > 0 || this.waitingForRoom || this.retryTimer !== undefined;
    if (stall && !this.paused) {
      this.paused = true;
      this.socket.pause();
      this.ctx.metrics.pauses.inc();
      this.ctx.log.debug({ peer: this.peer }, 'backends have no room: stopped reading from the connection');
    } else if (!stall && this.paused) {
      this.paused = false;
      if (!this.ended) {
        this.socket.resume();
        this.socket.setTimeout(this.ctx.idleTimeoutMs); // the pause was ours, not the client's idleness
      }
    }
    this.checkDone();
  }

  private onIdle(): void {
    if (this.paused) return;
    this.ctx.log.debug({ peer: this.peer, idleTimeoutMs: this.ctx.idleTimeoutMs }, 'closing an idle tcp connection');
    this.finish();
  }

  /** Stops taking data (idle timeout, relay shutdown): complete lines are still handed on, a partial one is not. */
  finish(): void {
    if (this.ended) return;
    this.stop(false);
    this.socket.end();
  }

  /**
   * The stream is over. On a clean end (the client closed its side) the unterminated last line counts, as `nc`
   * sends it; after an error or reset it is likely truncated and is dropped.
   */
  private stop(clean: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.setTimeout(0);
    const tail = this.splitter.end();
    if (clean && tail) this.safely(() => this.ingest(tail, nowIn(this.ctx.precision)));
    this.gathered.cut();
    this.checkDone();
  }

  /** After the close deadline: drop what is left (counted), stop timers, destroy the socket. */
  abandon(): void {
    this.abandoned = true;
    this.ended = true;
    this.gathered.stop();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const points = this.backlog.reduce((n, b) => n + b.points, 0);
    this.backlog.length = 0;
    if (points > 0) {
      this.ctx.metrics.shutdown.inc(points);
      this.ctx.log.error({ peer: this.peer, points }, 'tcp close deadline passed: points not handed to the backends');
    }
    this.socket.destroy();
    this.resolveDone();
  }

  private checkDone(): void {
    if (this.ended && this.gathered.pendingBytes === 0 && this.backlog.length === 0 && this.inFlight === 0 && !this.retryTimer) {
      this.resolveDone();
    }
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.ctx.throttle.log(this.ctx.log, 'warn', key, { peer: this.peer, ...fields }, msg);
  }

  private bug(err: unknown): void {
    this.ctx.log.error({ err }, 'BUG: tcp connection write path failed');
  }
}
