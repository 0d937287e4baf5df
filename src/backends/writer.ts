/**
 * Sends one body to one backend over a keep-alive undici Pool (the Go relay opened a new connection per write); also
 * a statement that changes state to its /query, and a read query passed on from a client.
 * Knows URLs, headers, credentials and TLS; knows nothing of queues or retries. What a request looks like for an
 * InfluxDB 1.x or 2.x backend is the BackendApi's business (backend-api.ts).
 *
 * Invariants:
 * - `timeoutMs` bounds the whole request, answer body included: undici's own timeouts restart on every byte, so a
 *   backend trickling an endless body would otherwise hold a request (and a connection) forever. Past the deadline
 *   the request is aborted, its connection destroyed, and `send` rejects with a WriteTimeoutError.
 * - An error answer's body is read up to MAX_ERROR_BODY, then the response is abandoned (connection destroyed), not
 *   drained.
 * - The answer text `send` returns carries no credentials (redactCredentials): it is logged, kept as `lastError`
 *   and may be relayed to clients.
 */
import type { Dispatcher } from 'undici';
import { Pool } from './undici-pool.js';
import type { WriteTarget } from '../batch.js';
import { redactCredentials } from '../telemetry/redact.js';
import type { Answer } from './outcome.js';
import { v1BackendApi, v2BackendApi, type V2Settings, type BackendApi } from './backend-api.js';

export interface WriterOptions {
  /** The backend's write URL, e.g. http://influxdb-a:8086/write (v2: its origin or .../api/v2/write). */
  readonly location: string;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly skipTlsVerification: boolean;
  /** PEM CA bundle that verifies an https backend instead of the system CAs. */
  readonly ca?: string | Buffer;
  /** Basic auth used when the client sent no credentials of its own (v1). */
  readonly httpUser?: string;
  readonly httpPass?: string;
  /** Set: the backend speaks InfluxDB 2.x's /api/v2/write. */
  readonly v2?: V2Settings;
}

export interface SentAnswer extends Answer {
  readonly retryAfter: string | undefined;
}

/** Bodies of error answers are read up to this size: enough for InfluxDB's JSON errors. */
export const MAX_ERROR_BODY = 64 * 1024;

/** A request that outlived the output's `timeout` (headers and body together). */
export class WriteTimeoutError extends Error {
  readonly code = 'RELAY_WRITE_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`backend request exceeded the ${timeoutMs} ms timeout`);
    this.name = 'WriteTimeoutError';
  }
}

export class Writer {
  private readonly pool: Pool;
  private readonly api: BackendApi;
  private readonly timeoutMs: number;

  constructor(options: WriterOptions) {
    this.timeoutMs = options.timeoutMs;
    const url = new URL(options.location);
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      keepAliveTimeout: 30_000,
      connect: url.protocol === 'https:' ? tlsOptions(options) : undefined,
    });
    this.api = options.v2 ? v2BackendApi(url, options.v2) : v1BackendApi(url, options.httpUser, options.httpPass);
  }

  /** Request path with the target's query (v1: db, rp, precision; v2: org, bucket, precision). No credentials. */
  pathFor(target: WriteTarget): string {
    return this.api.path(target);
  }

  /** Posts the body; resolves with the answer, rejects on network errors and timeouts. */
  async send(target: WriteTarget, batches: Buffer | Buffer[], signal?: AbortSignal): Promise<SentAnswer> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    const authorization = this.api.authorization(target);
    if (authorization) headers['authorization'] = authorization;
    const body = this.api.body(target, batches);
    // A merged request goes out as its batches' buffers, not a copy of them: the length is known, so undici
    // still sends Content-Length (no chunked encoding) and writes each buffer as it is.
    let payload: Buffer | Buffer[] = body;
    if (Array.isArray(body)) {
      if (body.length === 1) payload = body[0]!;
      else headers['content-length'] = String(body.reduce((n, b) => n + b.length, 0));
    }
    return this.post(this.pathFor(target), headers, payload, false, signal);
  }

  /**
   * Posts InfluxQL that changes state (a statement batch, batch.ts) to the backend's /query, with the target's db
   * and rp. The answer body is read even on 200: InfluxDB reports a failed statement inside a 200's JSON. A
   * backend that takes no statements (2.x) is not asked: the answer is a 501 that says so.
   */
  async statement(target: WriteTarget, query: Buffer, signal?: AbortSignal): Promise<SentAnswer> {
    if (!this.api.statements) {
      const error = 'statements that change state are sent to InfluxDB 1.x backends only; apply it to this 2.x backend yourself';
      return { status: 501, body: JSON.stringify({ error }), retryAfter: undefined };
    }
    const form = new URLSearchParams({ q: query.toString('utf8') });
    if (target.db) form.set('db', target.db);
    if (target.rp) form.set('rp', target.rp);
    return this.post(this.api.queryPath, this.formHeaders(target), Buffer.from(form.toString()), true, signal);
  }

  /**
   * Passes a read query on to the backend's /query (a POST form of the client's parameters, credentials as a header);
   * the caller streams the answer to its client and must consume or destroy its body.
   */
  query(target: WriteTarget, params: URLSearchParams, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return this.pool.request({ method: 'POST', path: this.api.queryPath, headers: this.formHeaders(target), body: params.toString(), signal: signal ?? null });
  }

  private formHeaders(target: WriteTarget): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const authorization = this.api.authorization(target);
    if (authorization) headers['authorization'] = authorization;
    return headers;
  }

  /** One POST under the whole-request deadline; `readAll` keeps a 2xx answer's body too (else only errors'). */
  private async post(path: string, headers: Record<string, string>, payload: Buffer | Buffer[], readAll: boolean, signal?: AbortSignal): Promise<SentAnswer> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new WriteTimeoutError(this.timeoutMs)), this.timeoutMs);
    const abort = (): void => deadline.abort(signal?.reason);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    try {
      const res = await this.pool.request({
        method: 'POST',
        path,
        headers,
        // undici sends any iterable of buffers (its docs list Iterable bodies; its typings do not).
        body: payload as Buffer,
        signal: deadline.signal,
      });
      let text = '';
      if (res.statusCode >= 200 && res.statusCode < 300 && !readAll) {
        await res.body.dump();
      } else {
        text = redactCredentials(this.api.errorBody(await readCapped(res.body, MAX_ERROR_BODY)));
      }
      const retryAfter = res.headers['retry-after'];
      return { status: res.statusCode, body: text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    } catch (err) {
      // Aborted by the deadline: undici throws the abort reason itself (or its own abort error): say which it was.
      if (deadline.signal.reason instanceof WriteTimeoutError) throw deadline.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Lets the requests in flight finish, then closes the connections (a reload replacing this writer). */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Aborts in-flight requests and closes the connections. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Verification stays on unless skip-tls-verification; a CA file replaces the system CAs (Node's `ca`). */
function tlsOptions(o: WriterOptions): { rejectUnauthorized: boolean; ca?: string | Buffer } {
  return { rejectUnauthorized: !o.skipTlsVerification, ...(o.ca !== undefined ? { ca: o.ca } : {}) };
}

/** Up to `max` bytes of a body; leaving the loop early destroys the stream, which aborts the response. */
async function readCapped(stream: AsyncIterable<Buffer>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk.subarray(0, max - size));
    size += chunk.length;
    if (size >= max) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
