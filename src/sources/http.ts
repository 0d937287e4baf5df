/**
 * The HTTP listener: InfluxDB 1.x's /write and /ping, plus the relay's /health and /metrics.
 * Routing and the server's lifecycle live here; each endpoint's work lives in its own module.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { backendReadiness, influxdbHealth, listenerHealth } from '../admin/health.js';
import type { BackendHealth } from '../backends/backend.js';
import type { FanOut } from '../fanout.js';
import { ScanPool } from '../lineprotocol/scan-pool.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { parseListenAddress } from '../net/address.js';
import { noContent, sendError, sendJson, baseHeaders } from './respond.js';
import { VERSION_HEADER } from '../version.js';
import { v2WriteDialect } from './v2-write.js';
import { v1WriteDialect } from './write-handler.js';
import { WritePipeline, type WriteHandlerOptions } from './write-pipeline.js';

export interface HttpSourceOptions extends WriteHandlerOptions {
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
  readonly backendsNamed?: (name: string) => readonly BackendHealth[];
}

/** Allowed methods per path, for 405 + Allow. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/write': ['POST'],
  '/api/v2/write': ['POST'],
  '/ping': ['GET', 'HEAD'],
  '/health': ['GET', 'HEAD'],
  '/metrics': ['GET'],
};
const BACKEND_HEALTH_PREFIX = '/health/backends/';

export class HttpSource {
  private server: Server | undefined;
  private readonly writes: WritePipeline;
  private readonly v2Writes: WritePipeline;
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
    this.writes = new WritePipeline(options, fanout, metrics, this.log, v1WriteDialect, scanner);
    this.v2Writes = new WritePipeline(options, fanout, metrics, this.log, v2WriteDialect, scanner);
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
    const handler = (req: IncomingMessage, res: ServerResponse) => this.route(req, res);
    const serverOptions = {
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
      if (socket.writable && err.code !== 'ECONNRESET') {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"bad request"}');
      } else socket.destroy();
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

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const status = () => this.count(path, res.statusCode);
    res.once('finish', status);

    if (path.startsWith(BACKEND_HEALTH_PREFIX)) return this.backendHealth(req, res, decodeURIComponent(path.slice(BACKEND_HEALTH_PREFIX.length)));
    const allowed = ROUTES[path];
    if (!allowed) {
      req.resume();
      return sendError(res, 404, path === '/query' ? 'the relay only takes writes: send /query to InfluxDB (or through HAProxy)' : 'not found');
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
    switch (path) {
      case '/write':
        return this.write(this.writes, req, res, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
      case '/api/v2/write':
        return this.write(this.v2Writes, req, res, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
      case '/ping':
        req.resume();
        if (this.options.pingStatus === 204) return noContent(res);
        return sendJson(res, this.options.pingStatus, { version: VERSION_HEADER });
      case '/health': {
        req.resume();
        const h = listenerHealth(this.options.listener, this.fanout.health(), this.closing);
        const influxdb = q >= 0 && new URLSearchParams(url.slice(q + 1)).get('format') === 'influxdb';
        return sendJson(res, h.acceptingWrites ? 200 : 503, influxdb ? influxdbHealth(h) : h);
      }
      case '/metrics':
        req.resume();
        return void this.metricsEndpoint(res);
    }
  }

  private write(handler: WritePipeline, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    if (this.closing) {
      req.resume();
      res.setHeader('Connection', 'close');
      return handler.dialect.sendError(res, 503, 'the relay is shutting down', { 'Retry-After': '1' });
    }
    const done = handler
      .handle(req, res, query)
      .catch((err: unknown) => {
        // Nothing should throw here; if something does, the client still gets an answer and the relay keeps running.
        this.log.error({ err }, 'BUG: write handler failed');
        if (!res.headersSent) sendError(res, 500, 'internal error in the relay');
      })
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private backendHealth(req: IncomingMessage, res: ServerResponse, name: string): void {
    req.resume();
    const backends = this.options.backendsNamed?.(name) ?? this.fanout.health().filter((b) => b.name === name);
    if (backends.length === 0) return sendError(res, 404, `no backend named "${name}"`);
    const r = backendReadiness(backends);
    sendJson(res, r.status, r.body);
  }

  private async metricsEndpoint(res: ServerResponse): Promise<void> {
    try {
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
      res.end(text);
    } catch (err) {
      this.log.error({ err }, 'metrics collection failed');
      sendError(res, 500, 'metrics collection failed');
    }
  }

  private count(path: string, status: number): void {
    const endpoint = ROUTES[path] ? path : path.startsWith(BACKEND_HEALTH_PREFIX) ? '/health/backends' : 'other';
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
