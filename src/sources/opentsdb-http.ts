/**
 * OpenTSDB's HTTP API on an `[[opentsdb]]` port, answered as InfluxDB 1.6's opentsdb handler answers it:
 * `POST /api/put` (a JSON point or array, optionally gzip) → 204; a body that is not JSON of points → 400 with the
 * handler's plain-text words (`json array decode error`, ...); another method → 405; `/api/metadata/put` → 204;
 * anything else → 404. Points that make no InfluxDB point are dropped (counted), the others still written.
 * Where InfluxDB answers 500 on a failed write, the relay answers 503 + Retry-After when no backend could take the
 * points (nothing was kept, retry), or passes a backend's own 4xx on.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { makeBatch, type WriteTarget } from '../batch.js';
import type { FanOut } from '../fanout.js';
import { scanLines } from '../lineprotocol/scanner.js';
import type { LogThrottle, Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { decodePut } from './convert/opentsdb-json.js';
import { jsonPointLine } from './convert/opentsdb.js';
import { BodyError, readBody } from './http-body.js';

export interface OpentsdbHttpOptions {
  readonly listener: string;
  readonly target: WriteTarget;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly log: Logger;
  readonly throttle: LogThrottle;
}

/** Go's http.Error: plain text with a newline. */
function textError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(message + '\n');
}

/** An HTTP server that never listens: the `[[opentsdb]]` listener hands it the connections that speak HTTP. */
export function opentsdbHttpServer(o: OpentsdbHttpOptions, fanout: FanOut, metrics: RelayMetrics): http.Server {
  const received = metrics.pointsReceived.labels(o.listener);
  const rejected = metrics.linesRejected.labels(o.listener);

  async function put(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      req.resume();
      return textError(res, 405, 'Method Not Allowed');
    }
    let body: Buffer;
    try {
      body = await readBody(req, o.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyError) return textError(res, err.status, err.status === 400 ? `could not read gzip, ${err.message}` : err.message);
      return; // the client went away
    }
    const decoded = decodePut(body);
    if ('error' in decoded) return textError(res, 400, decoded.error);
    let lp = '';
    let dropped = 0;
    let firstError: string | undefined;
    for (const p of decoded.points) {
      const line = jsonPointLine(p);
      if ('line' in line) lp += line.line;
      else {
        dropped++;
        firstError ??= `${p.metric}: ${line.error}`;
      }
    }
    const scan = scanLines(Buffer.from(lp, 'utf8'), { precision: 'n' });
    dropped += scan.errorCount;
    if (dropped > 0) {
      rejected.inc(dropped);
      o.throttle.log(o.log, 'warn', 'convert', { points: dropped, error: firstError }, 'dropped OpenTSDB points that make no InfluxDB point');
    }
    if (scan.points === 0) return void res.writeHead(204).end();
    received.inc(scan.points);
    const result = await fanout.write(makeBatch(o.target, scan.body, scan.points), 'any');
    if (result.kind === 'accepted') return void res.writeHead(204).end();
    if (result.kind === 'unavailable') return textError(res, 503, `write series error: ${result.error}`, { 'Retry-After': String(result.retryAfterSeconds) });
    textError(res, result.status, `write series error: ${result.backendBody}`);
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/api/put') {
      put(req, res).catch((err: unknown) => {
        o.log.error({ err }, 'BUG: opentsdb /api/put failed');
        if (!res.headersSent) textError(res, 500, 'internal error');
      });
    } else if (path === '/api/metadata/put') {
      req.resume();
      res.writeHead(204).end();
    } else {
      req.resume();
      textError(res, 404, '404 page not found');
    }
  });
  server.requestTimeout = o.requestTimeoutMs;
  return server;
}
