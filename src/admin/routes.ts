/**
 * The relay's own endpoints, served on every HTTP listener beside the writes: `/ping` (InfluxDB's), `/health`,
 * `/health/backends/<name>`, `/metrics`, and the status page `/` with its data `/status.json`. The HTTP source only routes here; health is read through narrow callbacks
 * (reports, not backends), so neither this module nor the source needs to know what a backend is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { VERSION_HEADER } from '../version.js';
import { noContent, sendError, sendJson } from '../sources/respond.js';
import type { BackendHealth } from '../backends/backend.js';
import type { JournalHealth } from '../queue/queue.js';
import { backendReadiness, influxdbHealth, listenerHealth } from './health.js';
import { STATUS_PAGE } from './status-page.js';
import { PAGE_HEADERS } from './page-style.js';
import { StatusReport, type StatusMetrics } from './status.js';

export interface AdminOptions {
  readonly listener: string;
  /** Status of GET/HEAD /ping (204, or 200 for clients that want it). */
  readonly pingStatus: number;
  /** This listener's backends (for /health). */
  readonly backends: () => readonly BackendHealth[];
  /** Whether this listener's spool can write (for /health); undefined without a spool. */
  readonly spool: () => JournalHealth | undefined;
  /** Every backend of the relay with this output name, whatever its listener (for /health/backends/<name>). */
  readonly backendsNamed: (name: string) => readonly BackendHealth[];
  /** True once the listener stops taking writes. */
  readonly closing: () => boolean;
  /** Re-reads the config file and applies it (`reload-endpoint = true`); absent: POST /-/reload answers 404. */
  readonly reload?: () => Promise<unknown>;
}

/** Allowed methods per admin path, for 405 + Allow. */
export const ADMIN_ROUTES = {
  '/ping': ['GET', 'HEAD'],
  '/health': ['GET', 'HEAD'],
  '/metrics': ['GET'],
  '/-/reload': ['POST'],
  '/': ['GET', 'HEAD'],
  '/status.json': ['GET'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export type AdminPath = keyof typeof ADMIN_ROUTES;

export const BACKEND_HEALTH_PREFIX = '/health/backends/';

export class AdminRoutes {
  private readonly status: StatusReport;

  constructor(
    private readonly options: AdminOptions,
    private readonly metrics: Pick<RelayMetrics, 'registry'> & StatusMetrics,
    private readonly log: Logger,
  ) {
    this.status = new StatusReport(options, metrics);
  }

  /** Answers one admin request whose method the router has already checked; `query` is the text after '?'. */
  answer(path: AdminPath, query: string, req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    switch (path) {
      case '/ping':
        if (this.options.pingStatus === 204) return noContent(res);
        return sendJson(res, this.options.pingStatus, { version: VERSION_HEADER });
      case '/health': {
        const h = listenerHealth(this.options.listener, this.options.backends(), this.options.closing(), this.options.spool());
        const influxdb = new URLSearchParams(query).get('format') === 'influxdb';
        return sendJson(res, h.acceptingWrites ? 200 : 503, influxdb ? influxdbHealth(h) : h);
      }
      case '/metrics':
        return void this.sendMetrics(res);
      case '/':
        res.writeHead(200, PAGE_HEADERS);
        return void res.end(req.method === 'HEAD' ? undefined : STATUS_PAGE);
      case '/status.json':
        return void this.sendStatus(res);
      case '/-/reload':
        return void this.reload(res);
    }
  }

  /** 200 with what changed; 400 with the config error (the running config is kept); 404 when the endpoint is off. */
  private async reload(res: ServerResponse): Promise<void> {
    if (!this.options.reload) return sendError(res, 404, 'the reload endpoint is off: set reload-endpoint = true, or send SIGHUP');
    try {
      sendJson(res, 200, await this.options.reload());
    } catch (err) {
      if (!res.headersSent) sendError(res, 400, `reload refused, the running config is kept: ${(err as Error).message}`);
    }
  }

  /** /health/backends/<name>, any method; `encodedName` is the path after the prefix, still percent-encoded. */
  backendHealth(encodedName: string, req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const name = decodeOrUndefined(encodedName);
    if (name === undefined) return sendError(res, 400, `malformed percent-encoding in backend name "${encodedName}"`);
    const backends = this.options.backendsNamed(name);
    if (backends.length === 0) return sendError(res, 404, `no backend named "${name}"`);
    const r = backendReadiness(backends);
    sendJson(res, r.status, r.body);
  }

  private async sendStatus(res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await this.status.build());
    } catch (err) {
      this.log.error({ err }, 'status collection failed');
      if (!res.headersSent) sendError(res, 500, 'status collection failed');
    }
  }

  private async sendMetrics(res: ServerResponse): Promise<void> {
    try {
      const text = await this.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
      res.end(text);
    } catch (err) {
      this.log.error({ err }, 'metrics collection failed');
      if (!res.headersSent) sendError(res, 500, 'metrics collection failed');
    }
  }
}

/** decodeURIComponent without the URIError a client can provoke with `%ZZ`. */
function decodeOrUndefined(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
