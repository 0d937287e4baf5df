// Minimal HTTP client for tests, on node:http with no keep-alive agent: a different
// client stack from the relay's undici, and nothing lingers to hold the event loop open.
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseJsonLossless } from './json.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Body as UTF-8 text. */
  body: string;
  raw: Buffer;
  /** Parsed body (lossless for big integers) when the answer is JSON. */
  json?: unknown;
}

export interface RequestOptions {
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Gzip the body and set Content-Encoding: gzip. */
  gzip?: boolean;
  /** Basic auth. */
  auth?: { user: string; pass: string };
  timeoutMs?: number;
}

export function request(method: string, url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const headers: OutgoingHttpHeaders = { ...opts.headers };
  if (body !== undefined && opts.gzip) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  if (body !== undefined) headers['content-length'] = body.length;
  if (opts.auth) headers.authorization = 'Basic ' + Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64');
  const timeoutMs = opts.timeoutMs ?? 30_000;

  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        const out: HttpResponse = { status: res.statusCode ?? 0, headers: res.headers, body: text, raw };
        if (String(res.headers['content-type'] ?? '').includes('json') && text.trim() !== '') {
          try {
            out.json = parseJsonLossless(text);
          } catch {
            // leave json undefined: the caller can still read body
          }
        }
        resolve(out);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function post(url: string, body: string | Buffer, opts: Omit<RequestOptions, 'body'> = {}): Promise<HttpResponse> {
  return request('POST', url, { ...opts, body });
}

export function get(url: string, opts: Omit<RequestOptions, 'body' | 'gzip'> = {}): Promise<HttpResponse> {
  return request('GET', url, opts);
}

/** Poll `url` until it answers `status` (default 204) or `timeoutMs` passes; `abort` ends early. */
export async function waitForStatus(
  url: string,
  opts: {
    status?: number;
    timeoutMs?: number;
    intervalMs?: number;
    /** Checked before each probe: an Error ends the wait with it. */
    abort?: () => Error | undefined;
    /** Extra condition after the right status (e.g. the right process answered). */
    accept?: () => boolean;
  } = {},
): Promise<void> {
  const want = opts.status ?? 204;
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last = 'no answer yet';
  for (;;) {
    const stop = opts.abort?.();
    if (stop) throw stop;
    try {
      const res = await get(url, { timeoutMs: 2000 });
      if (res.status === want && (opts.accept?.() ?? true)) return;
      last = `status ${res.status}: ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`GET ${url} did not answer ${want} in time (last: ${last})`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
