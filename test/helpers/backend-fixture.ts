/**
 * Backends for unit tests: fast retry timings, a silent logger, their own metrics registry, and an injected writer
 * (scripted or hanging) instead of undici.
 */
import pino from 'pino';
import { Backend, type BackendDeps, type BackendOptions } from '../../src/backends/backend.js';
import type { BatchQueue } from '../../src/queue/queue.js';
import { RelayMetrics } from '../../src/telemetry/metrics.js';

export const TEST_BACKEND_OPTIONS: BackendOptions = {
  name: 'b',
  location: 'http://127.0.0.1:1/write',
  timeoutMs: 1000,
  retry: true,
  maxBatchBytes: 1 << 20,
  initialDelayMs: 5,
  maxDelayMs: 20,
  deadLetterAfterMs: 3_600_000,
  maxInFlight: 1,
  connections: 1,
  skipTlsVerification: false,
};

export function testBackend(
  queue: BatchQueue,
  writer: NonNullable<BackendDeps['writer']>,
  options: Partial<BackendOptions> = {},
  metrics = new RelayMetrics({ processMetrics: false }),
): Backend {
  return new Backend({ ...TEST_BACKEND_OPTIONS, ...options }, { queue, logger: pino({ level: 'silent' }), metrics, writer });
}
