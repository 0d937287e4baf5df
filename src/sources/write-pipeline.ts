/**
 * The write path every HTTP write API shares: body → scanner (validate, stamp) → batch → fan-out → answer.
 * A client API (InfluxDB 1.x /write in v1-write.ts, 2.x /api/v2/write in v2-write.ts) is a ClientDialect: how its
 * requests name db, rp, precision and credentials, and the shape of its error bodies. (The other side, what a request
 * to a backend looks like, is a BackendApi: backends/backend-api.ts.)
 *
 * Bad lines do not sink good ones: good lines are forwarded, and the client hears InfluxDB's
 * `partial write: unable to parse '...': ...` once they are accepted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeBatch, type WriteTarget } from '../batch.js';
import type { BodyOwners, BodyPool } from '../body-pool.js';
import type { Consistency } from '../config/enums.js';
import type { FanOut } from '../fanout.js';
import type { ScanPool } from '../lineprotocol/scan-pool.js';
import { describeParseErrors } from '../lineprotocol/scanner.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import type { BodyReservation } from './body-budget.js';
import { BodyError, readBody } from './http-body.js';
import { noContent } from './respond.js';

export interface WritePipelineOptions {
  readonly listener: string;
  readonly defaultRetentionPolicy: string;
  readonly defaultConsistency: Consistency;
  readonly maxBodyBytes: number;
}

export type ParsedWrite = { readonly target: WriteTarget; readonly consistency: Consistency } | { readonly error: string };

/** How one client write API reads a request and words its answers. */
export interface ClientDialect {
  /** Reads the request's parameters (everything but the body), or says what is wrong with them. */
  parse(req: IncomingMessage, query: URLSearchParams, options: WritePipelineOptions): ParsedWrite;
  sendError(res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void;
  /** A backend's own non-retryable answer, passed on to the client. */
  sendBackendAnswer(res: ServerResponse, status: number, body: string, backend: string): void;
}

export class WritePipeline {
  private readonly received;
  private readonly badLines;
  private readonly stampedPoints;
  private readonly duration;

  constructor(
    private readonly options: WritePipelineOptions,
    private readonly fanout: FanOut,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
    readonly dialect: ClientDialect,
    private readonly scanner: Pick<ScanPool, 'scan'>,
    /** Memory for large bodies; only for a listener whose backends all have memory queues (body-pool.ts). */
    private readonly pool?: BodyPool,
  ) {
    this.received = metrics.pointsReceived.labels(options.listener);
    this.badLines = metrics.linesRejected.labels(options.listener);
    this.stampedPoints = metrics.pointsStamped.labels(options.listener);
    this.duration = metrics.writeDuration.labels(options.listener);
  }

  async handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, budget?: BodyReservation): Promise<void> {
    const endTimer = this.duration.startTimer();
    try {
      await this.write(req, res, query, budget);
    } finally {
      endTimer();
    }
  }

  private refuse(res: ServerResponse, status: number, reason: string, message: string): void {
    this.metrics.requestsRefused.labels(this.options.listener, reason).inc();
    this.dialect.sendError(res, status, message);
  }

  private async write(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, budget?: BodyReservation): Promise<void> {
    const receivedAt = Date.now();
    const parsed = this.dialect.parse(req, query, this.options);
    if ('error' in parsed) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', parsed.error);
    }

    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes, budget, this.pool);
    } catch (err) {
      if (err instanceof BodyError) {
        if (err.status === 413) res.setHeader('Connection', 'close');
        if (err.status === 503) res.setHeader('Retry-After', '1');
        return this.refuse(res, err.status, err.reason, err.message);
      }
      // The client went away mid-body: there is nobody to answer.
      this.log.debug({ err }, 'request body not received');
      return;
    }

    // This request owns a pooled body until it is done here; the queues that take its batch hold it on their own.
    const owners = this.pool?.owners(body);
    try {
      await this.forward(res, parsed, body, owners, receivedAt);
    } finally {
      owners?.drop();
    }
  }

  private async forward(res: ServerResponse, parsed: Exclude<ParsedWrite, { error: string }>, body: Buffer, owners: BodyOwners | undefined, receivedAt: number): Promise<void> {
    const scan = await this.scanner.scan(body, parsed.target.precision);
    // A scan that rewrote the body (stamps, bad lines left out) made new memory: the pooled body is not in the batch.
    const batchOwners = owners && scan.body.buffer === body.buffer ? owners : undefined;
    if (scan.errorCount > 0) this.badLines.inc(scan.errorCount);
    if (scan.points === 0) {
      if (scan.errorCount > 0) return this.refuse(res, 400, 'parse-error', describeParseErrors(scan));
      return noContent(res); // an empty body writes nothing, as InfluxDB answers it
    }
    this.received.inc(scan.points);
    if (scan.stamped > 0) this.stampedPoints.inc(scan.stamped);

    const result = await this.fanout.write(makeBatch(parsed.target, scan.body, scan.points, receivedAt, batchOwners), parsed.consistency);
    switch (result.kind) {
      case 'accepted':
        if (scan.errorCount > 0) return this.refuse(res, 400, 'partial-write', `partial write: ${describeParseErrors(scan)}`);
        return noContent(res);
      case 'unavailable':
        this.metrics.requestsRefused.labels(this.options.listener, 'unavailable').inc();
        return this.dialect.sendError(res, 503, result.error, { 'Retry-After': String(result.retryAfterSeconds) });
      case 'rejected':
        return this.dialect.sendBackendAnswer(res, result.status, result.backendBody, result.backend);
    }
  }
}
