/**
 * The `[[graphite]]` listener: InfluxDB's graphite service in front of the relay. Over TCP it is a `[[tcp]]` listener
 * and over UDP a `[[udp]]` one, each line converted as InfluxDB 1.6 converts it (convert/graphite.ts); from there on
 * the points are batches like any other (fan-out, queues, spool). UDP has no backpressure, as `[[udp]]`.
 */
import type { GraphiteListenerConfig } from '../config/types.js';
import type { FanOut } from '../fanout.js';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { GraphiteParser } from './convert/graphite.js';
import { lineTranslator } from './convert/translate.js';
import { TcpSource } from './tcp.js';
import { UdpSource } from './udp.js';

export function graphiteSource(l: GraphiteListenerConfig, fanout: FanOut, metrics: RelayMetrics, logger: Logger): TcpSource | UdpSource {
  const parser = new GraphiteParser({ separator: l.separator, templates: l.templates, tags: l.tags, parseTags: l.parseGraphiteTags });
  const translate = lineTranslator((line) => parser.line(line));
  if (l.protocol === 'udp') {
    const udp = { name: l.name, bindAddr: l.bindAddr, readBuffer: l.udpReadBuffer, precision: 'n' as const, database: l.database, retentionPolicy: l.retentionPolicy, output: l.output };
    return new UdpSource(udp, fanout, metrics, logger, { translate });
  }
  return new TcpSource({ ...l, precision: 'n' }, fanout, metrics, logger, { component: 'graphite', translate });
}
