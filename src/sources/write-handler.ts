/**
 * POST /write (InfluxDB 1.x): parameters → target, body → validated and stamped batch, fan-out outcome → answer.
 *
 * Bad lines do not sink good ones: good lines are forwarded, and the client gets InfluxDB's
 * `400 {"error":"partial write: unable to parse '...': ..."}` once they are accepted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeBatch, type Credentials, type WriteTarget } from '../batch.js';
import { parseConsistency, type Consistency, type FanOut } from '../fanout.js';
import { parsePrecision } from '../lineprotocol/precision.js';
import { describeParseErrors, scanLines } from '../lineprotocol/scanner.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { BodyError, readBody } from './http-body.js';
import { noContent, sendBackendAnswer, sendError } from './respond.js';

export interface WriteHandlerOptions {
  readonly listener: string;
  readonly defaultRetentionPolicy: string;
  readonly defaultConsistency: Consistency;
  readonly maxBodyBytes: number;
}

export class WriteHandler {
  private readonly received;
  private readonly rejectedLines;
  private readonly stampedPoints;
  private readonly duration;

  constructor(
    private readonly options: WriteHandlerOptions,
    private readonly fanout: FanOut,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {
    this.received = metrics.pointsReceived.labels(options.listener);
    this.rejectedLines = metrics.linesRejected.labels(options.listener);
    this.stampedPoints = metrics.pointsStamped.labels(options.listener);
    this.duration = metrics.writeDuration.labels(options.listener);
  }

  private refuse(res: ServerResponse, status: number, reason: string, message: string): void {
    this.metrics.requestsRefused.labels(this.options.listener, reason).inc();
    sendError(res, status, message);
  }

  async handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const endTimer = this.duration.startTimer();
    try {
      await this.handleWrite(req, res, query);
    } finally {
      endTimer();
    }
  }

  private async handleWrite(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const receivedAt = Date.now();
    const db = query.get('db');
    if (!db) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', 'missing parameter: db');
    }
    const precision = parsePrecision(query.get('precision'));
    if (!precision) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', `invalid precision "${query.get('precision')}": use n, ns, u, us, µ, ms, s, m or h`);
    }
    const consistencyParam = query.get('consistency');
    const consistency = consistencyParam ? parseConsistency(consistencyParam) : this.options.defaultConsistency;
    if (!consistency) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', `invalid consistency "${consistencyParam}": use any, one, quorum or all`);
    }

    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyError) {
        if (err.status === 413) res.setHeader('Connection', 'close');
        return this.refuse(res, err.status, err.reason, err.message);
      }
      // The client went away mid-body: there is nobody to answer.
      this.log.debug({ err }, 'request body not received');
      return;
    }

    const scan = scanLines(body, { precision });
    if (scan.errorCount > 0) this.rejectedLines.inc(scan.errorCount);
    if (scan.points === 0) {
      if (scan.errorCount > 0) return this.refuse(res, 400, 'parse-error', describeParseErrors(scan));
      return noContent(res); // an empty body writes nothing, as InfluxDB answers it
    }
    this.received.inc(scan.points);
    if (scan.stamped > 0) this.stampedPoints.inc(scan.stamped);

    const target: WriteTarget = {
      db,
      rp: query.get('rp') || this.options.defaultRetentionPolicy,
      precision,
      credentials: credentialsOf(req, query),
    };
    const result = await this.fanout.write(makeBatch(target, scan.body, scan.points, receivedAt), consistency);
    if (result.kind === 'accepted') {
      if (scan.errorCount > 0) return this.refuse(res, 400, 'partial-write', `partial write: ${describeParseErrors(scan)}`);
      return noContent(res);
    }
    if (result.kind === 'unavailable') {
      this.metrics.requestsRefused.labels(this.options.listener, 'unavailable').inc();
      return sendError(res, 503, result.error, { 'Retry-After': String(result.retryAfterSeconds) });
    }
    sendBackendAnswer(res, result.status, result.backendBody, result.backend);
  }
}

function credentialsOf(req: IncomingMessage, query: URLSearchParams): Credentials {
  const authorization = req.headers.authorization;
  const u = query.get('u');
  const p = query.get('p');
  return {
    ...(authorization ? { authorization } : {}),
    ...(u !== null ? { u } : {}),
    ...(p !== null ? { p } : {}),
  };
}
