/**
 * The loaded configuration the rest of the relay uses: camelCase, durations in milliseconds, every default applied,
 * empty optional strings turned into `undefined`. Produced only by parseConfig() (schema.ts is the source of truth
 * for keys, defaults and meaning; docs/configuration.md is generated from it).
 */
import type { Precision } from '../lineprotocol/precision.js';

import type { Consistency, FsyncPolicy, LogLevel, OutputType, WhenFull } from './enums.js';

export interface RelayConfig {
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** -1: one per core beyond the first, at most 4. */
  readonly scanThreads: number;
  /** Undefined: no spool, memory queues. */
  readonly spoolDir?: string;
  /** Undefined: the spool dir; with neither, no ledger. */
  readonly ledgerDir?: string;
  readonly spoolMaxMb: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly whenFull: WhenFull;
  readonly answerTimeoutMs: number;
  readonly reloadEndpoint: boolean;
  readonly antiEntropyIntervalMs: number;
  readonly antiEntropyLookbackMs: number;
  /** Relay-wide bound of HTTP request bodies in flight (decoded), shared by every [[http]] listener. */
  readonly maxBodiesInFlightMb: number;
  readonly bodyPoolMb: number;
  readonly http: readonly HttpListenerConfig[];
  readonly udp: readonly UdpListenerConfig[];
  readonly tcp: readonly TcpListenerConfig[];
  readonly opentsdb: readonly OpentsdbListenerConfig[];
  readonly graphite: readonly GraphiteListenerConfig[];
}

/** An InfluxDB backend reached over HTTP (`[[http]]`, `[[tcp]]` and URL-located `[[udp]]` outputs). */
export interface HttpOutputConfig {
  readonly kind: 'http';
  /** Defaults to `location`; unique within its listener. */
  readonly name: string;
  /** v1: the backend's full /write URL; v2: its origin or its /api/v2/write URL (http or https). */
  readonly location: string;
  readonly type: OutputType;
  /** v2 only (then org and token are set; bucket is optional: db/rp of each write otherwise). */
  readonly org?: string;
  readonly bucket?: string;
  readonly token?: string;
  readonly timeoutMs: number;
  /** Queue limit; 0 disables queueing (each write is tried once). */
  readonly bufferSizeMb: number;
  /** With a spool: the part of this backend's backlog kept in memory (buffer-size-mb, its default when that is 0). */
  readonly spoolMemoryMb: number;
  readonly maxBatchKb: number;
  readonly maxDelayIntervalMs: number;
  readonly skipTlsVerification: boolean;
  /** PEM bundle that verifies an https backend's certificate instead of the system CAs. */
  readonly caFile?: string;
  /** Set together with httpPass, or neither. */
  readonly httpUser?: string;
  readonly httpPass?: string;
  readonly deadLetterAfterMs: number;
  readonly deadLetterFile?: string;
  readonly maxInFlight: number;
  readonly connections: number;
  readonly initialDelayIntervalMs: number;
}

/** A raw UDP forward of influxdb-relay's `[[udp]]` (location `host:port`). */
export interface UdpForwardConfig {
  readonly kind: 'udp';
  readonly name: string;
  readonly location: string;
  readonly mtu: number;
}

export type UdpOutputConfig = UdpForwardConfig | HttpOutputConfig;

export interface HttpListenerConfig {
  /** Defaults to `http://<bind-addr>` (`https://` with a certificate). */
  readonly name: string;
  readonly bindAddr: string;
  readonly sslCombinedPem?: string;
  /** Empty string: none (the database's default). */
  readonly defaultRetentionPolicy: string;
  /** Status code of GET/HEAD /ping. */
  readonly defaultPingResponse: number;
  readonly output: readonly HttpOutputConfig[];
  readonly ack: Consistency;
  /** Largest decoded request body: `max-body-size`, or the deprecated `max-body-size-mb` in MiB when set. */
  readonly maxBodyBytes: number;
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface UdpListenerConfig {
  /** Defaults to `udp://<bind-addr>`. */
  readonly name: string;
  readonly bindAddr: string;
  /** SO_RCVBUF in bytes; 0 = OS default. */
  readonly readBuffer: number;
  readonly precision: Precision;
  /** Required (non-empty) when any output is an HTTP backend; empty otherwise allowed. */
  readonly database: string;
  readonly retentionPolicy: string;
  readonly output: readonly UdpOutputConfig[];
}

export interface TcpListenerConfig {
  /** Defaults to `tcp://<bind-addr>` (`tcps://` with a certificate). */
  readonly name: string;
  readonly bindAddr: string;
  readonly database: string;
  readonly retentionPolicy: string;
  readonly precision: Precision;
  readonly maxLineKb: number;
  readonly idleTimeoutMs: number;
  readonly batchSizeKb: number;
  readonly batchDelayMs: number;
  readonly sslCombinedPem?: string;
  readonly output: readonly HttpOutputConfig[];
}

/** `[[opentsdb]]`: OpenTSDB telnet `put` lines and HTTP `/api/put` on one port, converted as InfluxDB 1.6 does. */
export interface OpentsdbListenerConfig {
  /** Defaults to `opentsdb://<bind-addr>`. */
  readonly name: string;
  readonly bindAddr: string;
  readonly database: string;
  readonly retentionPolicy: string;
  readonly maxLineKb: number;
  readonly idleTimeoutMs: number;
  readonly batchSizeKb: number;
  readonly batchDelayMs: number;
  /** Largest decoded `/api/put` body. */
  readonly maxBodySize: number;
  readonly requestTimeoutMs: number;
  readonly sslCombinedPem?: string;
  readonly output: readonly HttpOutputConfig[];
}

/** `[[graphite]]`: Graphite plaintext over TCP or UDP, converted as InfluxDB 1.6 does. */
export interface GraphiteListenerConfig {
  /** Defaults to `graphite://<bind-addr>` (`graphite+udp://` for UDP). */
  readonly name: string;
  readonly bindAddr: string;
  readonly protocol: 'tcp' | 'udp';
  readonly database: string;
  readonly retentionPolicy: string;
  readonly separator: string;
  readonly templates: readonly string[];
  readonly tags: readonly string[];
  /** Graphite 1.1 `;k=v` tags become tags (InfluxDB 1.6 keeps them in the measurement name). */
  readonly parseGraphiteTags: boolean;
  readonly maxLineKb: number;
  readonly idleTimeoutMs: number;
  readonly batchSizeKb: number;
  readonly batchDelayMs: number;
  /** UDP only: SO_RCVBUF, 0 = OS default. */
  readonly udpReadBuffer: number;
  readonly output: readonly HttpOutputConfig[];
}
