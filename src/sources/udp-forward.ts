/**
 * A `[[udp]]` output whose location is `host:port`: validated lines are sent on as datagrams, as influxdb-relay did,
 * re-split at line boundaries so that no datagram exceeds the output's mtu.
 *
 * Fire and forget, like UDP itself: send errors (e.g. ICMP port unreachable on a connected socket) are counted and
 * logged throttled, never thrown. A single line longer than the mtu cannot be sent whole; it is dropped and counted
 * (influxdb-relay dropped the rest of the datagram with it).
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { UdpForwardConfig } from '../config/types.js';
import { exactBlockEnd } from '../lineprotocol/exact-parser.js';
import type { IntakeMetrics } from '../telemetry/intake-metrics.js';
import { LogThrottle, type Logger } from '../telemetry/logger.js';
import { parseListenAddress } from '../net/address.js';

/** influxdb-relay's default. */
const DEFAULT_MTU = 1024;

export interface MtuSplit {
  readonly datagrams: Buffer[];
  /** Lines dropped because each alone is larger than the mtu. */
  readonly oversize: number;
}

/**
 * Splits valid line protocol (each line ending in '\n') into slices of at most `mtu` bytes, cut only between lines.
 * Line ends are InfluxDB's (a quoted string field may hold a '\n'), so a line is never cut in two.
 */
export function splitForMtu(body: Buffer, mtu: number): MtuSplit {
  const len = body.length;
  if (len <= mtu) return { datagrams: len === 0 ? [] : [body], oversize: 0 };
  const datagrams: Buffer[] = [];
  let oversize = 0;
  let start = 0; // start of the datagram being built
  let i = 0; // start of the next line
  while (i < len) {
    const lineEnd = Math.min(exactBlockEnd(body, i, len) + 1, len);
    if (lineEnd - start <= mtu) {
      i = lineEnd;
      continue;
    }
    if (i > start) {
      // The line does not fit after what is gathered: send that, and try the line again in a fresh datagram.
      datagrams.push(body.subarray(start, i));
      start = i;
      continue;
    }
    oversize++;
    i = lineEnd;
    start = i;
  }
  if (start < len) datagrams.push(body.subarray(start, len));
  return { datagrams, oversize };
}

export class UdpForward {
  private socket: dgram.Socket | undefined;
  private readonly mtu: number;
  private readonly throttle = new LogThrottle();
  private readonly sent;
  private readonly errors;
  private readonly oversize;

  constructor(
    readonly config: UdpForwardConfig,
    listener: string,
    metrics: IntakeMetrics,
    private readonly log: Logger,
  ) {
    this.mtu = config.mtu > 0 ? config.mtu : DEFAULT_MTU;
    this.sent = metrics.udpForwarded.labels(listener, config.name);
    this.errors = metrics.udpForwardErrors.labels(listener, config.name);
    this.oversize = metrics.linesDropped.labels(listener, 'over-mtu');
  }

  get name(): string {
    return this.config.name;
  }

  /** Opens a socket connected to the output (resolving its host once). */
  async start(): Promise<void> {
    const { host, port } = parseListenAddress(this.config.location);
    const target = host ?? '127.0.0.1';
    const socket = dgram.createSocket(isIPv6(target) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, target, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.failed(err));
        resolve();
      });
    }).catch((err: Error) => {
      socket.close();
      throw new Error(`udp output ${this.config.name}: cannot reach location ${this.config.location}: ${err.message}`);
    });
    this.socket = socket;
  }

  /** Sends valid, stamped lines, re-split to the mtu. */
  send(body: Buffer): void {
    const socket = this.socket;
    if (!socket) return;
    const { datagrams, oversize } = splitForMtu(body, this.mtu);
    if (oversize > 0) {
      this.oversize.inc(oversize);
      this.warn('over-mtu', { lines: oversize, mtu: this.mtu }, 'lines larger than the udp output mtu were not forwarded');
    }
    for (const d of datagrams) {
      socket.send(d, (err) => {
        if (err) this.failed(err);
        else this.sent.inc();
      });
    }
  }

  private failed(err: Error): void {
    this.errors.inc();
    this.warn('send', { err: err.message }, 'could not send to the udp output');
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.throttle.log(this.log, 'warn', key, { output: this.config.name, ...fields }, msg);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
