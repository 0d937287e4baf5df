/**
 * /query on the relay (InfluxDB 1.x, GET and POST). HAProxy sends here every query that might change state; the
 * relay reads it with a real InfluxQL lexer (influxql/):
 * - a query with a statement that changes state (CREATE DATABASE, DROP ..., SELECT ... INTO; influxql/classify.ts)
 *   becomes one statement batch (batch.ts), admitted through the fan-out like a write: into every backend's queue,
 *   in order with the writes (and on disk first with the spool), so a replica that was down gets the CREATE DATABASE
 *   before the writes that need it. The answer is InfluxDB's:
 *     every backend delivered (or queued, as the consistency level allows) → 200 and the results of the first backend
 *       that ran it (config order); `{"results":[{"statement_id":0},...]}` when none has run it yet (all queued);
 *     some backend rejected it (an error in its results, a parse error, auth) → that backend's status and body, as
 *       influxd answers (200 with the error inside the results, or 400/401 with `{"error":...}`);
 *     not admitted, or consistency not met → 503 + Retry-After, as for writes.
 * - anything else is a read that reached the relay by a false positive of HAProxy's conservative routing: it is
 *   passed on to one fresh backend and its answer streamed back as it is.
 * Parameters come from the query string and the body (form or multipart, gzip or not); as in influxd, a body value
 * wins over the query string's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { makeStatement, type WriteTarget } from '../batch.js';
import type { Consistency } from '../config/enums.js';
import type { FanOut } from '../fanout.js';
import { queryChangesState } from '../influxql/classify.js';
import { statements } from '../influxql/lexer.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import type { BodyReservation } from './body-budget.js';
import { BodyError, readBody } from './http-body.js';
import { baseHeaders, sendError, sendJson } from './respond.js';
import { credentialsOf } from './v1-write.js';

export interface QueryOptions {
  readonly listener: string;
  readonly defaultConsistency: Consistency;
  readonly maxBodyBytes: number;
}

/** Response headers of a backend's query answer that its client needs. */
const PASSED_HEADERS = ['content-type', 'x-influxdb-error', 'x-influxdb-version', 'x-influxdb-build'] as const;

export class QueryEndpoint {
  constructor(
    private readonly options: QueryOptions,
    private readonly fanout: FanOut,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, query: string, budget?: BodyReservation): Promise<void> {
    let params: URLSearchParams;
    try {
      params = await queryParams(req, query, this.options.maxBodyBytes, budget);
    } catch (err) {
      if (!(err instanceof BodyError)) {
        this.log.debug({ err }, 'query body not received');
        return;
      }
      this.metrics.requestsRefused.labels(this.options.listener, err.reason).inc();
      if (err.status === 503) res.setHeader('Retry-After', '1');
      return sendError(res, err.status, err.message);
    }
    const target: WriteTarget = { db: params.get('db') ?? '', rp: params.get('rp') ?? '', precision: 'n', credentials: credentialsOf(req, params) };
    const q = (params.get('q') ?? '').trim();
    if (q !== '' && queryChangesState(q)) return this.statement(res, target, q);
    return this.forward(res, target, params);
  }

  private async statement(res: ServerResponse, target: WriteTarget, q: string): Promise<void> {
    const result = await this.fanout.write(makeStatement(target, Buffer.from(q, 'utf8')), this.options.defaultConsistency);
    switch (result.kind) {
      case 'accepted':
        return sendRaw(res, 200, result.body ?? JSON.stringify({ results: statements(q).map((_s, i) => ({ statement_id: i })) }));
      case 'rejected':
        return sendRaw(res, result.status, result.backendBody, result.backend);
      case 'unavailable':
        this.metrics.requestsRefused.labels(this.options.listener, 'unavailable').inc();
        return sendError(res, 503, result.error, { 'Retry-After': String(result.retryAfterSeconds) });
    }
  }

  private async forward(res: ServerResponse, target: WriteTarget, params: URLSearchParams): Promise<void> {
    // Credentials go as a header (Writer), never in a form a backend might log.
    const passed = new URLSearchParams(params);
    passed.delete('u');
    passed.delete('p');
    const pending = this.fanout.forwardQuery(target, passed);
    if (!pending) return sendError(res, 503, 'no backend can answer this query', { 'Retry-After': '1' });
    let answer;
    try {
      answer = await pending;
    } catch (err) {
      return sendError(res, 502, `the backend did not answer the query: ${(err as Error).message}`);
    }
    baseHeaders(res);
    for (const name of PASSED_HEADERS) {
      const v = answer.headers[name];
      if (v !== undefined) res.setHeader(name, v);
    }
    res.writeHead(answer.statusCode);
    // A client that goes away mid-answer destroys the backend's stream too: nothing to log.
    await pipeline(answer.body, res).catch(() => undefined);
  }
}

/** A backend's JSON answer as it is (InfluxDB's shapes); anything that is not JSON becomes `{"error":...}`. */
function sendRaw(res: ServerResponse, status: number, body: string, backend?: string): void {
  const headers: Record<string, string> = backend ? { 'X-Relay-Backend': backend } : {};
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return sendError(res, status, body.trim() || `backend ${backend ?? ''} answered ${status}`, headers);
  }
  sendJson(res, status, json, headers);
}

/**
 * The request's parameters, as influxd's FormValue reads them: form or multipart body values first (a multipart
 * file part named q counts too), then the query string's.
 */
async function queryParams(req: IncomingMessage, query: string, maxBytes: number, budget?: BodyReservation): Promise<URLSearchParams> {
  const fromUrl = new URLSearchParams(query);
  if (req.method !== 'POST') {
    req.resume();
    return fromUrl;
  }
  const body = await readBody(req, maxBytes, budget);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const merged = new URLSearchParams();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) merged.append(k, v);
  } else if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': req.headers['content-type']! } }).formData();
    } catch (err) {
      throw new BodyError(400, `unable to read the multipart body: ${(err as Error).message}`, 'bad-multipart');
    }
    for (const [k, v] of form) merged.append(k, typeof v === 'string' ? v : await v.text());
  }
  for (const [k, v] of fromUrl) merged.append(k, v);
  return merged;
}
