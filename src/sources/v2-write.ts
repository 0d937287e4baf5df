/**
 * POST /api/v2/write, the InfluxDB 2.x write API as InfluxDB 1.8 serves it on top of 1.x databases:
 * - `bucket` is "db/rp" or "db" (the listener's default retention policy); `org` is accepted and ignored;
 * - `precision` is ns, us, ms or s (default ns);
 * - `Authorization: Token user:password` stands for 1.x credentials. 1.8 reads the token that way (after u/p in the
 *   query); our backends may be older (1.6 knows no Token scheme), so the header is passed through unchanged and
 *   the credentials are ALSO sent as u/p, which every 1.x reads first.
 * Then the same path as /write (scan → batch → fan-out), answered in the 2.x shape: 204, or
 * `{"code":"...","message":"..."}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeBatch, type Credentials, type WriteTarget } from '../batch.js';
import type { FanOut } from '../fanout.js';
import type { Precision } from '../lineprotocol/precision.js';
import { describeParseErrors, scanLines } from '../lineprotocol/scanner.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { BodyError, readBody } from './http-body.js';
import { noContent, sendJson } from './respond.js';
import type { WriteHandlerOptions } from './write-handler.js';

/** The 2.x API's precisions (1.8 accepts no others here). */
const V2_PRECISIONS: Readonly<Record<string, Precision>> = { '': 'n', ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** Error codes of the 2.x API, by HTTP status. */
const V2_CODES: Readonly<Record<number, string>> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  413: 'request too large',
  415: 'unsupported media type',
  422: 'unprocessable entity',
  429: 'too many requests',
  503: 'unavailable',
};

export function v2Code(status: number): string {
  return V2_CODES[status] ?? (status >= 500 ? 'internal error' : 'invalid');
}

export function sendV2Error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { code: v2Code(status), message }, headers);
}

/** 1.8's bucket2dbrp: "db/rp" → db and rp (split at the first '/'), "db" → db and the default rp. */
export function bucketToDbRp(bucket: string): { db: string; rp: string } | { error: string } {
  const slash = bucket.indexOf('/');
  if (slash < 0) {
    if (bucket === '') return { error: `bucket name "" is missing a slash; not in "database/retention-policy" format` };
    return { db: bucket, rp: '' };
  }
  const db = bucket.slice(0, slash);
  if (db === '') return { error: `bucket name ${JSON.stringify(bucket)} is in db/rp form but has an empty database` };
  return { db, rp: bucket.slice(slash + 1) };
}

/**
 * The credentials to pass on: the Authorization header unchanged, and u/p from the query or, as 1.8 reads
 * `Token user:password`, from the token (split at its first ':').
 */
export function v2Credentials(authorization: string | undefined, query: URLSearchParams): Credentials {
  let u = query.get('u');
  let p = query.get('p');
  if (!(u && p) && authorization) {
    const parts = authorization.split(' ');
    const token = parts[1];
    const colon = token?.indexOf(':') ?? -1;
    if (parts.length === 2 && parts[0] === 'Token' && token !== undefined && colon >= 0) {
      u = token.slice(0, colon);
      p = token.slice(colon + 1);
    }
  }
  return {
    ...(authorization ? { authorization } : {}),
    ...(u !== null ? { u } : {}),
    ...(p !== null ? { p } : {}),
  };
}

export class V2WriteHandler {
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
    sendV2Error(res, status, message);
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
    const bucket = query.get('bucket');
    if (!bucket) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', 'missing parameter: bucket');
    }
    const dbrp = bucketToDbRp(bucket);
    if ('error' in dbrp) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', dbrp.error);
    }
    const precisionParam = query.get('precision') ?? '';
    const precision = V2_PRECISIONS[precisionParam];
    if (!precision) {
      req.resume();
      return this.refuse(res, 400, 'bad-request', `invalid precision ${JSON.stringify(precisionParam)} (use ns, us, ms or s)`);
    }

    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyError) {
        if (err.status === 413) res.setHeader('Connection', 'close');
        return this.refuse(res, err.status, err.reason, err.message);
      }
      this.log.debug({ err }, 'request body not received');
      return;
    }

    const scan = scanLines(body, { precision });
    if (scan.errorCount > 0) this.rejectedLines.inc(scan.errorCount);
    if (scan.points === 0) {
      if (scan.errorCount > 0) return this.refuse(res, 400, 'parse-error', describeParseErrors(scan));
      return noContent(res);
    }
    this.received.inc(scan.points);
    if (scan.stamped > 0) this.stampedPoints.inc(scan.stamped);

    const target: WriteTarget = {
      db: dbrp.db,
      rp: dbrp.rp || this.options.defaultRetentionPolicy,
      precision,
      credentials: v2Credentials(req.headers.authorization, query),
    };
    const result = await this.fanout.write(makeBatch(target, scan.body, scan.points, receivedAt), this.options.defaultConsistency);
    if (result.kind === 'accepted') {
      if (scan.errorCount > 0) return this.refuse(res, 400, 'partial-write', `partial write: ${describeParseErrors(scan)}`);
      return noContent(res);
    }
    if (result.kind === 'unavailable') {
      this.metrics.requestsRefused.labels(this.options.listener, 'unavailable').inc();
      return sendV2Error(res, 503, result.error, { 'Retry-After': String(result.retryAfterSeconds) });
    }
    sendV2Error(res, result.status, backendMessage(result.backendBody, result.status, result.backend), { 'X-Relay-Backend': result.backend });
  }
}

/** A 1.x backend's `{"error":"..."}` (or plain text) as the message of a 2.x error. */
function backendMessage(body: string, status: number, backend: string): string {
  const trimmed = body.trim();
  try {
    const json: unknown = JSON.parse(trimmed);
    if (json && typeof json === 'object' && 'error' in json && typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: the text itself
  }
  return trimmed || `backend ${backend} answered ${status}`;
}
