/**
 * Backends for unit tests: fast retry timings, a silent logger, their own metrics registry, and an injected writer
 * (scripted or hanging) instead of undici.
 */
import pino from 'pino';
import { Backend, type BackendDeps, type BackendOptions, type Fate } from '../../src/backends/backend.js';
import type { Batch } from '../../src/batch.js';
import type { BatchQueue } from '../../src/queue/queue.js';
import { RelayMetrics } from '../../src/telemetry/metrics.js';

export const TEST_BACKEND_OPTIONS: BackendOptions = {
  name: 'b',
  location: 'http://127.0.0.1:1/write',
  retry: true,
  maxBatchBytes: 1 << 20,
  initialDelayMs: 5,
  maxDelayMs: 20,
  deadLetterAfterMs: 3_600_000,
  maxInFlight: 1,
  whenFull: 'reject',
};

export function testBackend(
  queue: BatchQueue,
  writer: BackendDeps['writer'],
  options: Partial<BackendOptions> = {},
  metrics = new RelayMetrics({ processMetrics: false }),
  missed?: BackendDeps['missed'],
): Backend {
  return new Backend({ ...TEST_BACKEND_OPTIONS, ...options }, { queue, logger: pino({ level: 'silent' }), metrics, writer, ...(missed ? { missed } : {}) });
}

/** Takes the batch and waits for its fate as a client would, up to an answer deadline. */
export async function submit(b: Backend, batch: Batch, untilDelivered = false, deadlineMs = 1000): Promise<Fate> {
  const t = b.take(batch, untilDelivered);
  if (!t.late) return t.fate;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Fate>((resolve) => {
    timer = setTimeout(() => {
      t.cancel();
      resolve(t.late!);
    }, deadlineMs);
  });
  try {
    return await Promise.race([t.fate, late]);
  } finally {
    clearTimeout(timer);
  }
}
