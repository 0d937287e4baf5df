// Shared by the UDP, TCP and /api/v2/write integration tests: sources are built in the test process from a FanOut of
// real backends (backendFromConfig), the way the composition root builds them, without the relay binary.
import type { Backend } from '../../src/backends/backend.js';
import { backendFromConfig } from '../../src/backends/from-config.js';
import type { WhenFull } from '../../src/config/enums.js';
import type { HttpOutputConfig } from '../../src/config/types.js';
import { FanOut } from '../../src/fanout.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { RelayMetrics } from '../../src/telemetry/metrics.js';
import type { Influxd } from '../helpers/influxd.js';

export function httpOutput(location: string, o: Partial<HttpOutputConfig> = {}): HttpOutputConfig {
  return {
    kind: 'http',
    name: location,
    location,
    type: 'v1',
    timeoutMs: 5000,
    bufferSizeMb: 16,
    spoolMemoryMb: 16,
    maxBatchKb: 512,
    maxDelayIntervalMs: 1000,
    skipTlsVerification: false,
    deadLetterAfterMs: 3_600_000,
    maxInFlight: 1,
    connections: 2,
    initialDelayIntervalMs: 50,
    ...o,
  };
}

export interface Rig {
  readonly fanout: FanOut;
  readonly backends: readonly Backend[];
  readonly metrics: RelayMetrics;
  readonly logger: Logger;
  /** Drains and closes the backends. */
  close(): Promise<void>;
}

/** Back-pressure (`when-full = reject`) unless told otherwise: these tests watch sources pause and resume. */
export function rig(outputs: readonly HttpOutputConfig[], level: 'silent' | 'debug' = 'silent', whenFull: WhenFull = 'reject'): Rig {
  const metrics = new RelayMetrics({ processMetrics: false });
  const logger = createLogger(level);
  const backends = outputs.map((o) => backendFromConfig(o, { logger, metrics, whenFull }));
  return {
    fanout: new FanOut(backends, 2000),
    backends,
    metrics,
    logger,
    async close() {
      await Promise.all(backends.map((b) => b.close(Date.now() + 5000)));
    },
  };
}

/** SELECT count(field) on one influxd; 0 when the measurement does not exist (yet). */
export async function countPoints(s: Influxd, db: string, measurement: string, field: string, rp?: string): Promise<number> {
  const from = (rp ? `"${rp}".` : '') + `"${measurement}"`;
  const json = (await s.query(`SELECT count("${field}") FROM ${from}`, { db })) as {
    results: Array<{ series?: Array<{ values: unknown[][] }> }>;
  };
  return Number(json.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

/** Sum of a labelled counter's values, optionally only where every given label matches. */
export async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}
