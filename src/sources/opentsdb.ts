/**
 * The `[[opentsdb]]` listener: InfluxDB's opentsdb service in front of the relay. One port takes both of OpenTSDB's
 * write protocols, as InfluxDB's does: a connection whose first line is an HTTP request line goes to the HTTP API
 * (opentsdb-http.ts), any other is a telnet stream of `put` lines, handled as a `[[tcp]]` connection (batches,
 * backpressure, graceful close) whose lines are converted (convert/opentsdb.ts).
 */
import type { ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { OpentsdbListenerConfig } from '../config/types.js';
import type { FanOut } from '../fanout.js';
import { LogThrottle, type Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { telnetLine } from './convert/opentsdb.js';
import { lineTranslator } from './convert/translate.js';
import { opentsdbHttpServer } from './opentsdb-http.js';
import { TcpSource } from './tcp.js';

const KB = 1024;
/** `METHOD SP request-target SP HTTP/x.y`, as Go's http.ReadRequest would take it. */
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\/\d\.\d\r?$/;

export class OpentsdbSource {
  private readonly tcp: TcpSource;
  private readonly http;
  private readonly httpSockets = new Set<Socket>();
  /** Called when the last HTTP connection closes (while closing). */
  private onHttpIdle: (() => void) | undefined;
  private closing = false;
  private readonly log: Logger;

  constructor(
    private readonly config: OpentsdbListenerConfig,
    fanout: FanOut,
    metrics: RelayMetrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'opentsdb', listener: config.name });
    const target = { db: config.database, rp: config.retentionPolicy, precision: 'n' as const, credentials: {} };
    this.http = opentsdbHttpServer(
      { listener: config.name, target, maxBodyBytes: config.maxBodySize, requestTimeoutMs: config.requestTimeoutMs, log: this.log, throttle: new LogThrottle() },
      fanout,
      metrics,
    );
    // While closing, each answer closes its connection.
    this.http.prependListener('request', (_req: unknown, res: ServerResponse) => {
      if (this.closing) res.shouldKeepAlive = false;
    });
    this.tcp = new TcpSource({ ...config, precision: 'n' }, fanout, metrics, logger, {
      component: 'opentsdb',
      translate: lineTranslator(telnetLine),
      divert: (socket, keep) => this.sniff(socket, keep),
    });
  }

  get name(): string {
    return this.config.name;
  }

  get address(): AddressInfo | undefined {
    return this.tcp.address;
  }

  start(): Promise<void> {
    return this.tcp.start();
  }

  /** Reads up to the first line break: an HTTP request line sends the connection to the HTTP API. */
  private sniff(socket: Socket, keep: () => void): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const decide = (ended: boolean): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('timeout', onIdle);
      socket.setTimeout(0);
      if (ended) {
        // Closed before its first line ended: nothing a line connection could still read.
        this.log.debug({ bytes }, 'opentsdb connection closed before its first line ended');
        socket.destroy();
        return;
      }
      const head = Buffer.concat(chunks, bytes);
      const firstLine = head.subarray(0, Math.max(0, head.indexOf(0x0a))).toString('latin1');
      if (REQUEST_LINE.test(firstLine)) {
        this.httpSockets.add(socket);
        socket.once('close', () => {
          this.httpSockets.delete(socket);
          if (this.httpSockets.size === 0) this.onHttpIdle?.();
        });
        socket.pause();
        this.http.emit('connection', socket);
        socket.unshift(head);
        process.nextTick(() => socket.resume());
      } else {
        // The line connection listens first, then gets back what was read: nothing is lost or reordered.
        keep();
        if (head.length > 0) socket.unshift(head);
      }
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (chunk.includes(0x0a) || bytes >= this.config.maxLineKb * KB) decide(false);
    };
    const onEnd = (): void => decide(true);
    const onIdle = (): void => decide(true);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.setTimeout(this.config.idleTimeoutMs);
    socket.once('timeout', onIdle);
  }

  async close(deadlineMs: number): Promise<void> {
    await this.tcp.close(deadlineMs);
    this.closing = true;
    this.http.closeIdleConnections();
    const deadline = Math.max(0, deadlineMs - Date.now());
    if (this.httpSockets.size > 0) {
      // Requests in flight finish (up to the deadline); keep-alive connections close once idle.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onHttpIdle = resolve;
        timer = setTimeout(resolve, deadline);
        this.http.closeIdleConnections();
      });
      clearTimeout(timer);
    }
    for (const s of this.httpSockets) s.destroy();
  }

  destroy(): Promise<void> {
    return this.close(Date.now());
  }
}
