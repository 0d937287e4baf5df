/**
 * The `[[udp]]` listener, a drop-in for influxdb-relay's: datagrams of line protocol in, validated by the scanner and
 * stamped once at receipt (with the listener's precision), then
 * - sent on as datagrams to `host:port` outputs (re-split to each output's mtu), and
 * - coalesced briefly (up to coalesceBytes or coalesceMs) into one batch for (database, retention-policy, precision)
 *   and handed to the fan-out of the http(s) outputs, so a stream of tiny datagrams is not one request each.
 *
 * UDP has no backpressure: a batch that some backend cannot take (queue full) is dropped there. Bad lines and dropped
 * points are counted and logged throttled; nothing a datagram holds can throw out of the receive handler.
 */
import dgram from 'node:dgram';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Batch, WriteTarget } from '../batch.js';
import type { UdpListenerConfig } from '../config/types.js';
import type { FanOut, FanOutResult } from '../fanout.js';
import { describeParseErrors, scanLines } from '../lineprotocol/scanner.js';
import { intakeMetrics } from '../telemetry/intake-metrics.js';
import { LogThrottle, type Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { parseListenAddress } from '../net/address.js';
import type { LineTranslator } from './convert/translate.js';
import { Coalescer } from './coalescer.js';
import { UdpForward } from './udp-forward.js';

export interface UdpSourceOptions {
  /** A coalesced batch is handed on once it holds this many bytes (default 64 KiB)... */
  readonly coalesceBytes?: number;
  /** ...or once its first datagram is this old (default 50 ms). */
  readonly coalesceMs?: number;
  /** `[[graphite]]` over UDP: each datagram's lines become line protocol before the scan. */
  readonly translate?: LineTranslator;
}

const DEFAULT_COALESCE_BYTES = 64 * 1024;
const DEFAULT_COALESCE_MS = 50;

export class UdpSource {
  private socket: dgram.Socket | undefined;
  private readonly forwards: UdpForward[];
  private readonly coalescer: Coalescer;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private closing = false;
  private readonly m;
  private readonly translate: LineTranslator | undefined;

  constructor(
    private readonly config: UdpListenerConfig,
    private readonly fanout: FanOut,
    metrics: RelayMetrics,
    logger: Logger,
    options: UdpSourceOptions = {},
  ) {
    this.log = logger.child({ component: 'udp', listener: config.name });
    this.translate = options.translate;
    const target: WriteTarget = { db: config.database, rp: config.retentionPolicy, precision: config.precision, credentials: {} };
    this.coalescer = new Coalescer(target, options.coalesceBytes ?? DEFAULT_COALESCE_BYTES, options.coalesceMs ?? DEFAULT_COALESCE_MS, (batch) => this.submit(batch));
    const intake = intakeMetrics(metrics);
    this.forwards = config.output.flatMap((o) => (o.kind === 'udp' ? [new UdpForward(o, config.name, intake, this.log)] : []));
    const l = config.name;
    this.m = {
      datagrams: intake.udpDatagrams.labels(l),
      received: metrics.pointsReceived.labels(l),
      badLines: metrics.linesRejected.labels(l),
      stamped: metrics.pointsStamped.labels(l),
      unavailable: intake.pointsDropped.labels(l, 'unavailable'),
      rejected: intake.pointsDropped.labels(l, 'rejected'),
    };
  }

  get name(): string {
    return this.config.name;
  }

  /** The bound address (port 0 in the config picks a free one). */
  get address(): AddressInfo | undefined {
    try {
      return this.socket?.address();
    } catch {
      return undefined; // not bound, or closed
    }
  }

  /** SO_RCVBUF as the kernel set it (Linux doubles what was asked, up to net.core.rmem_max). */
  get receiveBufferSize(): number | undefined {
    try {
      return this.socket?.getRecvBufferSize();
    } catch {
      return undefined;
    }
  }

  async start(): Promise<void> {
    for (const f of this.forwards) await f.start();
    const { host, port } = parseListenAddress(this.config.bindAddr);
    const socket = dgram.createSocket({
      type: host !== undefined && isIPv6(host) ? 'udp6' : 'udp4',
      ...(this.config.readBuffer > 0 ? { recvBufferSize: this.config.readBuffer } : {}),
    });
    socket.on('message', (msg, rinfo) => {
      try {
        this.receive(msg, rinfo);
      } catch (err) {
        // A datagram is anyone's input: a bug it triggers is logged, and the listener keeps receiving.
        this.log.error({ err, from: `${rinfo.address}:${rinfo.port}` }, 'BUG: handling a datagram failed');
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch(async (err: Error) => {
      socket.close();
      await Promise.all(this.forwards.map((f) => f.close()));
      throw new Error(`udp listener ${this.config.name}: cannot bind ${this.config.bindAddr}: ${err.message}`);
    });
    socket.on('error', (err) => this.warn('socket', { err: err.message }, 'udp socket error'));
    this.socket = socket;
    this.log.info(
      { address: this.address, readBuffer: this.receiveBufferSize, outputs: this.forwards.length + this.fanout.size },
      'listening for UDP writes',
    );
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.m.datagrams.inc();
    if (this.translate) {
      const t = this.translate.translate(msg);
      if (t.dropped > 0) {
        this.m.rejected.inc(t.dropped);
        this.warn('convert', { from: `${rinfo.address}:${rinfo.port}`, lines: t.dropped, error: t.error }, 'dropped lines that make no InfluxDB point');
      }
      msg = t.body;
    }
    const scan = scanLines(msg, { precision: this.config.precision });
    if (scan.errorCount > 0) {
      this.m.badLines.inc(scan.errorCount);
      this.warn('parse', { from: `${rinfo.address}:${rinfo.port}`, lines: scan.errorCount, error: describeParseErrors(scan) }, 'dropped invalid lines from a datagram');
    }
    if (scan.points === 0) return;
    this.m.received.inc(scan.points);
    if (scan.stamped > 0) this.m.stamped.inc(scan.stamped);
    for (const f of this.forwards) f.send(scan.body);
    if (this.fanout.size > 0) this.coalescer.add(scan.body, scan.points);
  }

  /** Hands a coalesced batch to the fan-out. The batch is in every backend queue (or counted dropped) on return. */
  private submit(batch: Batch): void {
    this.fanout.write(batch, 'any').then(
      (result) => this.settled(batch, result),
      (err: unknown) => this.log.error({ err }, 'BUG: fan-out write failed'),
    );
  }

  private settled(batch: Batch, result: FanOutResult): void {
    if (result.kind === 'unavailable') {
      this.m.unavailable.inc(batch.points);
      this.warn('unavailable', { points: batch.points, error: result.error }, 'UDP batch not taken by every backend (UDP has no backpressure)');
    } else if (result.kind === 'rejected') {
      this.m.rejected.inc(batch.points);
      this.warn('rejected', { points: batch.points, status: result.status, backend: result.backend, answer: result.backendBody.slice(0, 512) }, 'a backend rejected a UDP batch');
    }
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.throttle.log(this.log, 'warn', key, fields, msg);
  }

  /**
   * Stops receiving and hands on what is coalesced. Batches are queued in the backends synchronously, so there is
   * nothing to wait for here: the backends' own close drains them. Idempotent.
   */
  async close(_deadlineMs?: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.coalescer.cut();
    await Promise.all(this.forwards.map((f) => f.close()));
  }
}
