import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BackendHealth } from '../../../src/backends/backend.js';
import { StatusReport } from '../../../src/admin/status.js';
import { RelayMetrics } from '../../../src/telemetry/metrics.js';

const backend = (name: string, state: BackendHealth['state'], extra: Partial<BackendHealth> = {}): BackendHealth => ({
  name,
  location: `http://${name}:8086/write`,
  state,
  acceptingWrites: true,
  queueBytes: 0,
  queueBatches: 0,
  queueCapacityBytes: 1024,
  oldestBatchAgeMs: 0,
  inFlight: 0,
  ...extra,
});

test('/status.json: backends summed over listeners, quarantine, and rates from the counters between two samples', async () => {
  const metrics = new RelayMetrics({ processMetrics: false });
  // The HTTP listener's queue for b, and the TCP listener's queue for b (same output name), with a missed window.
  const all = [backend('a', 'up'), backend('b', 'down', { queueBytes: 100, queueBatches: 2, oldestBatchAgeMs: 5000 }), backend('b', 'up', { queueBytes: 50, queueBatches: 1, missedWindows: 1 })];
  const report = new StatusReport(
    { listener: 'http', backends: () => all.slice(0, 2), backendsNamed: (n) => all.filter((b) => b.name === n), spool: () => undefined, closing: () => false },
    metrics,
  );
  metrics.pointsReceived.labels('http').inc(100);
  metrics.backendPointsDelivered.labels('a').inc(100);
  const first = await report.build(10_000);
  assert.equal(first.rateIntervalMs, undefined, 'no rates from one sample');
  assert.equal(first.backends[0]!.deliveredPerSecond, undefined);

  metrics.pointsReceived.labels('http').inc(400);
  metrics.backendPointsDelivered.labels('a').inc(400);
  metrics.backendRequests.labels('b', 'retry').inc(6);
  const s = await report.build(12_000);
  assert.equal(s.rateIntervalMs, 2000);
  assert.deepEqual(s.listeners, [{ name: 'http', receivedPoints: 500, pointsPerSecond: 200 }]);
  const [a, b] = s.backends;
  assert.equal(a!.deliveredPerSecond, 200);
  assert.equal(a!.fresh, true);
  assert.equal(b!.state, 'down', 'the worst of its queues');
  assert.equal(b!.queueBytes, 150);
  assert.equal(b!.queues, 2);
  assert.equal(b!.quarantined, true);
  assert.equal(b!.errorsPerSecond, 3);
  assert.equal(b!.deliveredPerSecond, 0, 'a backend that delivered nothing runs at 0/s once rates exist');
  assert.equal(s.acceptingWrites, true);
});
