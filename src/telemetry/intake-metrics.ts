/**
 * Metrics of the streaming sources (UDP, TCP), registered on the relay's registry next to RelayMetrics.
 * Points received, lines rejected and points stamped use RelayMetrics' per-listener counters; these are the rest.
 * One instance per registry (prom-client refuses a name registered twice): get it with intakeMetrics().
 */
import { Counter, Gauge } from 'prom-client';
import type { RelayMetrics } from './metrics.js';

export class IntakeMetrics {
  readonly udpDatagrams;
  readonly udpForwarded;
  readonly udpForwardErrors;
  readonly tcpConnections;
  readonly tcpConnectionsAccepted;
  readonly tcpPauses;
  readonly linesDropped;
  readonly pointsDropped;

  constructor(metrics: RelayMetrics) {
    const registers = [metrics.registry];
    this.udpDatagrams = new Counter({
      name: 'influx_relay_udp_datagrams_received_total',
      help: 'Datagrams received by a UDP listener.',
      labelNames: ['listener'] as const,
      registers,
    });
    this.udpForwarded = new Counter({
      name: 'influx_relay_udp_forward_datagrams_total',
      help: 'Datagrams sent to a UDP output (after re-splitting to its mtu).',
      labelNames: ['listener', 'output'] as const,
      registers,
    });
    this.udpForwardErrors = new Counter({
      name: 'influx_relay_udp_forward_errors_total',
      help: 'Datagrams a UDP output could not be sent (socket errors).',
      labelNames: ['listener', 'output'] as const,
      registers,
    });
    this.tcpConnections = new Gauge({
      name: 'influx_relay_tcp_connections',
      help: 'Open connections on a TCP listener.',
      labelNames: ['listener'] as const,
      registers,
    });
    this.tcpConnectionsAccepted = new Counter({
      name: 'influx_relay_tcp_connections_accepted_total',
      help: 'Connections accepted by a TCP listener.',
      labelNames: ['listener'] as const,
      registers,
    });
    this.tcpPauses = new Counter({
      name: 'influx_relay_tcp_backpressure_pauses_total',
      help: 'Times a TCP connection stopped reading because a backend queue was full (backpressure).',
      labelNames: ['listener'] as const,
      registers,
    });
    this.linesDropped = new Counter({
      name: 'influx_relay_intake_lines_dropped_total',
      help: 'Lines a UDP/TCP listener discarded before validation, by reason (line-too-long: over max-line-kb; ' +
        'over-mtu: a line larger than a UDP output mtu).',
      labelNames: ['listener', 'reason'] as const,
      registers,
    });
    this.pointsDropped = new Counter({
      name: 'influx_relay_intake_points_dropped_total',
      help: 'Valid points a UDP/TCP listener gave up on, by reason (unavailable: some backend could not take them, ' +
        'e.g. queue full; rejected: a backend rejected them with a 4xx; shutdown: the close deadline passed).',
      labelNames: ['listener', 'reason'] as const,
      registers,
    });
  }
}

const byRegistry = new WeakMap<RelayMetrics, IntakeMetrics>();

export function intakeMetrics(metrics: RelayMetrics): IntakeMetrics {
  let m = byRegistry.get(metrics);
  if (!m) {
    m = new IntakeMetrics(metrics);
    byRegistry.set(metrics, m);
  }
  return m;
}
