/**
 * The `[[tcp]]` listener: newline-delimited line protocol on long-lived connections (Telegraf's socket_writer, nc),
 * optionally over TLS. Each connection batches, scans and applies backpressure on its own (tcp-connection.ts); this
 * file owns the server, the set of connections and the graceful close.
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import type { TcpListenerConfig } from '../config/types.js';
import type { FanOut } from '../fanout.js';
import { intakeMetrics } from '../telemetry/intake-metrics.js';
import { LogThrottle, type Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { parseListenAddress } from '../net/address.js';
import type { LineTranslator } from './convert/translate.js';
import { TcpConnection, type TcpContext } from './tcp-connection.js';

/** What `[[opentsdb]]` and `[[graphite]]` listeners add to a TCP listener. */
export interface TcpSourceOptions {
  /** Turns each line of another protocol into line protocol. */
  readonly translate?: LineTranslator;
  /** Sees each new connection first; calls `keep` to make it a line connection, or takes it elsewhere (HTTP). */
  readonly divert?: (socket: Socket, keep: () => void) => void;
  /** Logs' `component` (default `tcp`). */
  readonly component?: string;
}

const KB = 1024;

export class TcpSource {
  private server: net.Server | undefined;
  private readonly connections = new Set<TcpConnection>();
  private readonly ctx: TcpContext;
  private readonly log: Logger;
  private readonly connGauge;
  private readonly accepted;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: TcpListenerConfig,
    fanout: FanOut,
    metrics: RelayMetrics,
    logger: Logger,
    private readonly options: TcpSourceOptions = {},
  ) {
    this.log = logger.child({ component: options.component ?? 'tcp', listener: config.name });
    const intake = intakeMetrics(metrics);
    const l = config.name;
    this.connGauge = intake.tcpConnections.labels(l);
    this.accepted = intake.tcpConnectionsAccepted.labels(l);
    this.ctx = {
      fanout,
      target: { db: config.database, rp: config.retentionPolicy, precision: config.precision, credentials: {} },
      precision: config.precision,
      batchBytes: config.batchSizeKb * KB,
      batchDelayMs: config.batchDelayMs,
      maxLineBytes: config.maxLineKb * KB,
      idleTimeoutMs: config.idleTimeoutMs,
      ...(options.translate ? { translate: options.translate } : {}),
      log: this.log,
      throttle: new LogThrottle(),
      metrics: {
        received: metrics.pointsReceived.labels(l),
        badLines: metrics.linesRejected.labels(l),
        stamped: metrics.pointsStamped.labels(l),
        tooLong: intake.linesDropped.labels(l, 'line-too-long'),
        pauses: intake.tcpPauses.labels(l),
        rejected: intake.pointsDropped.labels(l, 'rejected'),
        shutdown: intake.pointsDropped.labels(l, 'shutdown'),
      },
    };
  }

  get name(): string {
    return this.config.name;
  }

  /** The bound address (port 0 in the config picks a free one). */
  get address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Open connections (for tests and health). */
  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const onSocket = (socket: Socket) => this.accept(socket);
    let server: net.Server;
    if (this.config.sslCombinedPem) {
      const pem = readFileSync(this.config.sslCombinedPem);
      server = tls.createServer({ cert: pem, key: pem }, onSocket);
      server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'tls handshake failed'));
    } else {
      server = net.createServer(onSocket);
    }
    const { host, port } = parseListenAddress(this.config.bindAddr);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new Error(`tcp listener ${this.config.name}: cannot listen on ${this.config.bindAddr}: ${err.message}`);
    });
    server.on('error', (err) => this.log.error({ err }, 'tcp server error'));
    this.server = server;
    this.log.info({ address: this.address, tls: Boolean(this.config.sslCombinedPem) }, 'listening for TCP writes');
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.options.divert) this.options.divert(socket, () => this.keep(socket));
    else this.keep(socket);
  }

  private keep(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.accepted.inc();
    this.connGauge.inc();
    const conn = new TcpConnection(socket, this.ctx);
    this.connections.add(conn);
    void conn.done.then(() => {
      this.connections.delete(conn);
      this.connGauge.dec();
    });
  }

  /**
   * Stops accepting, ends every connection (complete lines received so far are still handed on), and waits until
   * every batch has been taken by the backends, or the deadline (ms since the epoch) passes. Idempotent.
   */
  close(deadlineMs: number): Promise<void> {
    this.closing ??= this.doClose(deadlineMs);
    return this.closing;
  }

  private async doClose(deadlineMs: number): Promise<void> {
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const c of this.connections) c.finish();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()))));
    await Promise.race([Promise.all([...this.connections].map((c) => c.done)), deadline]);
    clearTimeout(timer);
    for (const c of this.connections) c.abandon();
    await closed;
  }
}
