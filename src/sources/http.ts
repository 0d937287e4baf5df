/**
 * The HTTP listener: InfluxDB 1.x's /write, 2.x's /api/v2/write, 1.x's /query (statements that change state, which
 * go to every backend; query.ts), and the admin routes (/ping, /health, /metrics).
 * Routing and the server's lifecycle live here; each endpoint's work lives in its own module.
 * No request may throw out of the router: whatever a client sends, it gets a JSON answer and the process stays up.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { BackendHealth } from '../fanout.js';
import { ADMIN_ROUTES, AdminRoutes, BACKEND_HEALTH_PREFIX, type AdminPath } from '../admin/routes.js';
import type { FanOut } from '../fanout.js';
import { ScanPool } from '../lineprotocol/scan-pool.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { parseListenAddress } from '../net/address.js';
import type { BodyPool } from '../body-pool.js';
import { BodyBudget, type BodyReservation } from './body-budget.js';
import { announcedBytes, OVER_BUDGET, overBudget } from './http-body.js';
import { sendError, baseHeaders } from './respond.js';
import { v2Dialect } from './v2-write.js';
import { v1Dialect } from './v1-write.js';
import { QueryEndpoint } from './query.js';
import { WritePipeline, type ClientDialect, type WritePipelineOptions } from './write-pipeline.js';

export interface HttpSourceOptions extends WritePipelineOptions {
  readonly bindAddr: string;
  readonly sslCombinedPem?: string;
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Status of GET/HEAD /ping (204, or 200 for clients that want it). */
  readonly pingStatus: number;
  /** Validates bodies (on worker threads for large ones); inline when absent. */
  readonly scanner?: Pick<ScanPool, 'scan'>;
  /** Every backend of the relay with this output name, whatever its listener (for /health/backends/<name>). */
  /** POST /-/reload: re-reads the config and applies it (reload-endpoint = true). */
  readonly reload?: () => Promise<unknown>;
  readonly backendsNamed?: (name: string) => readonly BackendHealth[];
  /** The relay-wide budget of bodies in flight, shared by every listener; a private one of the default size if absent. */
  readonly bodyBudget?: BodyBudget;
  /** Memory for large bodies, reused; only where every backend has a memory queue (body-pool.ts). */
  readonly bodyPool?: BodyPool;
}

/** `max-bodies-in-flight-mb`'s default, for a listener built without the relay's shared budget. */
const DEFAULT_BODIES_IN_FLIGHT_BYTES = 256 * 1024 * 1024;

/** Allowed methods per path, for 405 + Allow. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/write': ['POST'],
  '/api/v2/write': ['POST'],
  '/query': ['GET', 'POST'],
  ...ADMIN_ROUTES,
};

/**
 * How often Node checks header-timeout and request-timeout: its default (30 s) would let a 10 s header timeout run
 * to 40 s. Half the header timeout, at most a second, at least 100 ms.
 */
function connectionsCheckingInterval(headerTimeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(headerTimeoutMs / 2)));
}

export class HttpSource {
  private server: Server | undefined;
  private readonly v1Writes: WritePipeline;
  private readonly v2Writes: WritePipeline;
  private readonly queries: QueryEndpoint;
  private readonly admin: AdminRoutes;
  private readonly budget: BodyBudget;
  private readonly log: Logger;
  private closing = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: HttpSourceOptions,
    private readonly fanout: FanOut,
    private readonly metrics: RelayMetrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'http', listener: options.listener });
    const scanner = options.scanner ?? new ScanPool(0);
    this.v1Writes = new WritePipeline(options, fanout, metrics, this.log, v1Dialect, scanner, options.bodyPool);
    this.v2Writes = new WritePipeline(options, fanout, metrics, this.log, v2Dialect, scanner, options.bodyPool);
    this.queries = new QueryEndpoint(options, fanout, metrics, this.log);
    this.budget = options.bodyBudget ?? new BodyBudget(DEFAULT_BODIES_IN_FLIGHT_BYTES);
    // The only place a listener reaches its backends: their health, for /health.
    const own = (): readonly BackendHealth[] => fanout.health();
    this.admin = new AdminRoutes(
      {
        listener: options.listener,
        pingStatus: options.pingStatus,
        backends: own,
        spool: () => fanout.journalHealth(),
        backendsNamed: options.backendsNamed ?? ((name) => own().filter((b) => b.name === name)),
        closing: () => this.closing,
        ...(options.reload ? { reload: options.reload } : {}),
      },
      metrics,
      this.log,
    );
  }

  get name(): string {
    return this.options.listener;
  }

  /** The bound address (port 0 in the config picks a free one). */
  get address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.guardedRoute(req, res);
    const serverOptions = {
      connectionsCheckingInterval: connectionsCheckingInterval(this.options.headerTimeoutMs),
      headersTimeout: this.options.headerTimeoutMs,
      requestTimeout: this.options.requestTimeoutMs,
      keepAliveTimeout: this.options.idleTimeoutMs,
    };
    if (this.options.sslCombinedPem) {
      const pem = readFileSync(this.options.sslCombinedPem);
      this.server = https.createServer({ ...serverOptions, cert: pem, key: pem }, handler);
    } else {
      this.server = http.createServer(serverOptions, handler);
    }
    // Keep-alive idle timeout is the server's; the per-socket timeout would also cut long uploads.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        socket.end(rawAnswer('408 Request Timeout', 'request timeout: headers or body not received in time'));
      } else socket.end(rawAnswer('400 Bad Request', 'bad request'));
    });
    const { host, port } = parseListenAddress(this.options.bindAddr);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.log.info({ address: this.address, tls: Boolean(this.options.sslCombinedPem) }, 'listening for HTTP writes');
  }

  /** The last-resort guard: a bug or an input nobody foresaw costs one request a 4xx/5xx, never the process. */
  private guardedRoute(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      const malformed = err instanceof URIError;
      // The path only: the query may carry credentials (u, p).
      const path = (req.url ?? '').split('?', 1)[0];
      if (malformed) this.log.warn({ err, method: req.method, path }, 'malformed request URL');
      else this.log.error({ err, method: req.method, path }, 'BUG: HTTP route failed');
      req.resume();
      if (res.headersSent) res.destroy();
      else sendError(res, malformed ? 400 : 500, malformed ? 'malformed request URL' : 'internal error in the relay');
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const status = () => this.count(path, res.statusCode);
    res.once('finish', status);

    if (path.startsWith(BACKEND_HEALTH_PREFIX)) return this.admin.backendHealth(path.slice(BACKEND_HEALTH_PREFIX.length), req, res);
    // Own keys only, as for every table a client's text is looked up in.
    const allowed = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!allowed) {
      req.resume();
      return sendError(res, 404, 'not found');
    }
    if (!allowed.includes(method)) {
      req.resume();
      if (method === 'OPTIONS') {
        baseHeaders(res);
        res.writeHead(204, { Allow: allowed.join(', ') });
        res.end();
        return;
      }
      return sendError(res, 405, `method ${method} not allowed for ${path}`, { Allow: allowed.join(', ') });
    }
    const query = q < 0 ? '' : url.slice(q + 1);
    switch (path) {
      case '/write':
        return this.withBody(this.v1Writes.dialect, req, res, (r) => this.v1Writes.handle(req, res, new URLSearchParams(query), r));
      case '/api/v2/write':
        return this.withBody(this.v2Writes.dialect, req, res, (r) => this.v2Writes.handle(req, res, new URLSearchParams(query), r));
      case '/query':
        return this.withBody(v1Dialect, req, res, (r) => this.queries.handle(req, res, query, r));
      default:
        return this.admin.answer(path as AdminPath, query, req, res);
    }
  }

  /** A request with a body (a write, a query): refused while closing or over the body budget, else handled. */
  private withBody(dialect: Pick<ClientDialect, 'sendError'>, req: IncomingMessage, res: ServerResponse, handle: (r: BodyReservation) => Promise<void>): void {
    if (this.closing) {
      req.resume();
      res.setHeader('Connection', 'close');
      return dialect.sendError(res, 503, 'the relay is shutting down', { 'Retry-After': '1' });
    }
    // Refused before the body is read when what it announces does not fit the relay-wide budget.
    const reservation = this.budget.reserve(announcedBytes(req, this.options.maxBodyBytes));
    if (!reservation) {
      req.resume();
      this.metrics.requestsRefused.labels(this.options.listener, OVER_BUDGET).inc();
      return dialect.sendError(res, 503, overBudget().message, { 'Retry-After': '1' });
    }
    const done = handle(reservation)
      .catch((err: unknown) => {
        // Nothing should throw here; if something does, the client still gets an answer and the relay keeps running.
        this.log.error({ err }, 'BUG: write pipeline failed');
        if (!res.headersSent) sendError(res, 500, 'internal error in the relay');
      })
      .finally(() => {
        reservation.release();
        this.inFlight.delete(done);
      });
    this.inFlight.add(done);
  }

  private count(path: string, status: number): void {
    const endpoint = Object.hasOwn(ROUTES, path) ? path : path.startsWith(BACKEND_HEALTH_PREFIX) ? '/health/backends' : 'other';
    this.metrics.httpRequests.labels(this.options.listener, endpoint, String(status)).inc();
  }

  /** Stops accepting, lets in-flight writes finish (bounded by the deadline), closes idle connections. */
  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const remaining = Math.max(0, deadlineMs - Date.now());
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, remaining).unref())]);
    server.closeAllConnections();
    await closed;
  }
}

/** An answer written straight to a socket the HTTP parser gave up on. */
function rawAnswer(statusLine: string, error: string): string {
  const body = JSON.stringify({ error });
  return `HTTP/1.1 ${statusLine}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
