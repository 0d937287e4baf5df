// A scripted node:http server standing in for InfluxDB, only for faults a real one
// cannot show: chosen statuses and bodies, delays, requests that hang until close(),
// sockets destroyed mid-request, and answers whose body never ends. Every request is
// recorded with its raw body.
// Also: an https variant (a certificate of the test's making), and an InfluxDB 2.x
// write API that checks token, org, bucket and precision (startFakeV2Backend).
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Raw body bytes as received (still gzipped if the client sent gzip). */
  body: Buffer;
  /** Date.now() when the body had been read. */
  at: number;
}

/** What to do with one request. Default: 204 with no body. */
export type FakeStep =
  | { status?: number; body?: string | Buffer; headers?: OutgoingHttpHeaders; delayMs?: number }
  /** Never answer; the socket is destroyed by close(). */
  | { hang: true }
  /** Destroy the socket without an answer (after delayMs if given). */
  | { destroy: true; delayMs?: number }
  /** Answer `status`, then write `chunk` every `everyMs` and never end the body (until the peer or close() ends it). */
  | { status: number; stream: { chunk: string; everyMs: number }; headers?: OutgoingHttpHeaders };

export type FakeScript = (req: RecordedRequest, index: number) => FakeStep | undefined;

export interface FakeBackend {
  readonly url: string;
  readonly port: number;
  /** http://127.0.0.1:PORT/write — for relay outputs. */
  readonly writeUrl: string;
  readonly requests: RecordedRequest[];
  /** Queue steps used one per request, in order; when empty, `script` (or the default) decides. */
  enqueue(...steps: FakeStep[]): void;
  /** Replace the fallback decision. */
  setScript(script: FakeScript | FakeStep): void;
  /** Resolves once every connection this server accepted has closed (e.g. a client gave up on an endless answer). */
  waitForNoConnections(timeoutMs?: number): Promise<void>;
  /** Resolves once at least n requests have been recorded. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Destroys open sockets (including hanging ones) and stops listening. Idempotent. */
  close(): Promise<void>;
}

export interface FakeBackendOptions {
  script?: FakeScript | FakeStep;
  steps?: FakeStep[];
  /** Fixed port (e.g. to come back on the same address); a free one otherwise. */
  port?: number;
  /** Serve https with this certificate chain and key (PEM); `url` is then https://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export async function startFakeBackend(opts: FakeBackendOptions = {}): Promise<FakeBackend> {
  const requests: RecordedRequest[] = [];
  const queue: FakeStep[] = [...(opts.steps ?? [])];
  let script: FakeScript = toScript(opts.script);
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  const timers = new Set<NodeJS.Timeout>();
  const streams = new Set<NodeJS.Timeout>();
  const connectionWaiters: Array<() => void> = [];
  let closed: Promise<void> | undefined;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = requests.push(rec) - 1;
      for (const w of waiters.splice(0)) w();
      const step = queue.shift() ?? script(rec, index) ?? {};
      if ('hang' in step) return;
      if ('stream' in step) {
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        const tick = setInterval(() => res.write(step.stream.chunk), step.stream.everyMs);
        streams.add(tick);
        res.on('close', () => {
          clearInterval(tick);
          streams.delete(tick);
        });
        return;
      }
      const act = (): void => {
        if ('destroy' in step) {
          req.socket.destroy();
          return;
        }
        const body = step.body ?? '';
        res.writeHead(step.status ?? 204, { 'content-type': 'application/json', ...step.headers });
        res.end(body);
      };
      const delay = step.delayMs ?? 0;
      if (delay > 0) later(delay, act);
      else act();
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) for (const w of connectionWaiters.splice(0)) w();
    });
  });
  server.on('clientError', (_err, s) => s.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: opts.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    port,
    writeUrl: `${url}/write`,
    requests,
    enqueue: (...steps) => void queue.push(...steps),
    setScript: (s) => void (script = toScript(s)),
    waitForNoConnections(timeoutMs = 10_000) {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const i = connectionWaiters.indexOf(done);
          if (i >= 0) connectionWaiters.splice(i, 1);
          reject(new Error(`fake backend: ${sockets.size} connections still open after ${timeoutMs} ms`));
        }, timeoutMs);
        connectionWaiters.push(done);
      });
    },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length < n) return void waiters.push(check);
          clearTimeout(timer);
          resolve(requests.slice());
        };
        const timer = setTimeout(() => {
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`fake backend: ${requests.length} of ${n} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(check);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const t of streams) clearInterval(t);
        streams.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

function toScript(s: FakeScript | FakeStep | undefined): FakeScript {
  if (s === undefined) return () => ({});
  if (typeof s === 'function') return s;
  return () => s;
}

export interface FakeV2Options {
  org: string;
  token: string;
  /** Buckets that exist; any other is 404 "bucket not found". */
  buckets: string[];
  tls?: FakeBackendOptions['tls'];
}

const V2_PRECISIONS = ['ns', 'us', 'ms', 's'];

/** What InfluxDB 2.x answers a write, checked in its order: path, token, org, bucket, precision. */
export function v2Answer(req: RecordedRequest, o: FakeV2Options): FakeStep {
  const url = new URL(req.url, 'http://fake');
  const error = (status: number, code: string, message: string): FakeStep => ({ status, body: JSON.stringify({ code, message }) });
  if (url.pathname !== '/api/v2/write') return error(404, 'not found', 'path not found');
  if (req.headers.authorization !== `Token ${o.token}`) return error(401, 'unauthorized', 'unauthorized access');
  const org = url.searchParams.get('org');
  if (org !== o.org) return error(404, 'not found', `organization name ${JSON.stringify(org)} not found`);
  const bucket = url.searchParams.get('bucket') ?? '';
  if (!o.buckets.includes(bucket)) return error(404, 'not found', `bucket ${JSON.stringify(bucket)} not found`);
  const precision = url.searchParams.get('precision') ?? 'ns';
  if (!V2_PRECISIONS.includes(precision)) return error(400, 'invalid', `invalid precision ${JSON.stringify(precision)}`);
  return { status: 204 };
}

/** An InfluxDB 2.x /api/v2/write: 204 for the right token, org and bucket, 2.x's JSON errors otherwise. */
export function startFakeV2Backend(o: FakeV2Options & Omit<FakeBackendOptions, 'script'>): Promise<FakeBackend> {
  return startFakeBackend({ ...o, script: (req) => v2Answer(req, o) });
}
