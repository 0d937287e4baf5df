/**
 * Sends one body to one backend's /write over a keep-alive undici Pool (the Go relay opened a new connection per
 * write). Knows URLs, headers and credentials; knows nothing of queues or retries.
 */
import { Pool } from 'undici';
import type { WriteTarget } from '../batch.js';
import type { Answer } from './outcome.js';

export interface WriterOptions {
  /** The backend's write URL, e.g. http://influxdb-a:8086/write. */
  readonly location: string;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly skipTlsVerification: boolean;
  /** Basic auth used when the client sent no credentials of its own. */
  readonly httpUser?: string;
  readonly httpPass?: string;
}

export interface SentAnswer extends Answer {
  readonly retryAfter: string | undefined;
}

/** Bodies of error answers are read up to this size: enough for InfluxDB's JSON errors. */
const MAX_ERROR_BODY = 64 * 1024;

export class Writer {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly baseQuery: URLSearchParams;
  private readonly defaultAuth: string | undefined;

  constructor(private readonly options: WriterOptions) {
    const url = new URL(options.location);
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      keepAliveTimeout: 30_000,
      connect: url.protocol === 'https:' ? { rejectUnauthorized: !options.skipTlsVerification } : undefined,
    });
    // A bare origin (http://influxdb:8086) means InfluxDB's /write.
    this.basePath = url.pathname === '' || url.pathname === '/' ? '/write' : url.pathname;
    // Query parameters in the location (e.g. a fixed consistency) are kept; the request's own are added.
    this.baseQuery = url.searchParams;
    const user = options.httpUser ?? decodeURIComponent(url.username);
    const pass = options.httpPass ?? decodeURIComponent(url.password);
    this.defaultAuth = user ? `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` : undefined;
  }

  /** Request path with the target's query: db, rp, precision, and the client's u/p. */
  pathFor(target: WriteTarget): string {
    const q = new URLSearchParams(this.baseQuery);
    q.set('db', target.db);
    if (target.rp) q.set('rp', target.rp);
    // 'n' is InfluxDB's default; the others are spelled the way InfluxDB 1.x parses them.
    if (target.precision !== 'n') q.set('precision', target.precision);
    if (target.credentials.u !== undefined) q.set('u', target.credentials.u);
    if (target.credentials.p !== undefined) q.set('p', target.credentials.p);
    return `${this.basePath}?${q.toString()}`;
  }

  /** Posts the body; resolves with the answer, rejects on network errors and timeouts. */
  async send(target: WriteTarget, body: Buffer | Buffer[], signal?: AbortSignal): Promise<SentAnswer> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    const authorization =
      target.credentials.authorization ?? (target.credentials.u === undefined ? this.defaultAuth : undefined);
    if (authorization) headers['authorization'] = authorization;
    // A merged request goes out as its batches' buffers, not a copy of them: the length is known, so undici
    // still sends Content-Length (no chunked encoding) and writes each buffer as it is.
    let payload: Buffer | Buffer[] = body;
    if (Array.isArray(body)) {
      if (body.length === 1) payload = body[0]!;
      else headers['content-length'] = String(body.reduce((n, b) => n + b.length, 0));
    }
    const res = await this.pool.request({
      method: 'POST',
      path: this.pathFor(target),
      headers,
      // undici sends any iterable of buffers (its docs list Iterable bodies; its typings do not).
      body: payload as Buffer,
      ...(signal ? { signal } : {}),
    });
    let text = '';
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
    } else {
      text = await readCapped(res.body, MAX_ERROR_BODY);
    }
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, body: text, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
  }

  /** Waits for in-flight requests, then closes the connections. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Aborts in-flight requests and closes the connections. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

async function readCapped(stream: AsyncIterable<Buffer>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size < max) chunks.push(chunk.subarray(0, max - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
