import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendReadiness, influxdbHealth, listenerHealth } from '../../../src/admin/health.js';
import type { BackendHealth, BackendState } from '../../../src/backends/backend.js';
import { VERSION_HEADER } from '../../../src/version.js';

const fake = (state: BackendState, queueBatches = 0, acceptingWrites = true): BackendHealth => ({
      name: 'influxdb-a',
      location: 'http://a/write',
      state,
      acceptingWrites,
      queueBytes: queueBatches * 100,
      queueBatches,
      queueCapacityBytes: 1000,
      oldestBatchAgeMs: queueBatches * 10,
      inFlight: 0,
});

test('a database is ready for reads only when every listener\'s queue for it is caught up', () => {
  assert.equal(backendReadiness([fake('up'), fake('up')]).status, 200);
  const behind = backendReadiness([fake('up'), fake('catching-up', 3)]);
  assert.equal(behind.status, 503, 'the TCP listener\'s backlog counts too');
  assert.equal(behind.body.state, 'catching-up');
  assert.equal(behind.body.queueBatches, 3);
  assert.equal(behind.body.queues, 2);
  assert.equal(backendReadiness([fake('catching-up', 1), fake('down', 2)]).body.state, 'down', 'the worst state is reported');
});

test('a caught-up database with an unrepaired missed window is quarantined: not fresh for reads', () => {
  const missing = { ...fake('up'), missedWindows: 2 };
  const r = backendReadiness([fake('up'), missing]);
  assert.equal(r.status, 503);
  assert.equal(r.body.quarantined, true);
  assert.match(r.body.message, /quarantined: 2 missed window/);
  const repaired = backendReadiness([{ ...fake('up'), missedWindows: 0 }]);
  assert.equal(repaired.status, 200);
  assert.equal(repaired.body.quarantined, false);
});

test('/health: 503 when a backend cannot take writes or the relay is closing', () => {
  assert.equal(listenerHealth('l', [fake('down', 5)], false).status, 'pass', 'down but with room: still accepting');
  const full = listenerHealth('l', [fake('up'), fake('down', 9, false)], false);
  assert.equal(full.acceptingWrites, false);
  assert.match(full.message, /queue full for influxdb-a/);
  assert.equal(listenerHealth('l', [fake('up')], true).status, 'fail');
});

test('/health?format=influxdb: InfluxDB 1.8\'s body, byte for byte when passing; the reason when failing', () => {
  const pass = influxdbHealth(listenerHealth('l', [fake('down', 5)], false));
  assert.equal(
    JSON.stringify(pass),
    `{"checks":[],"message":"ready for queries and writes","name":"influxdb","status":"pass","version":"${VERSION_HEADER}"}`,
  );
  const full = influxdbHealth(listenerHealth('l', [fake('up', 9, false)], false));
  assert.deepEqual(full, {
    checks: [],
    message: 'cannot accept writes: queue full for influxdb-a',
    name: 'influxdb',
    status: 'fail',
    version: VERSION_HEADER,
  });
  assert.equal(influxdbHealth(listenerHealth('l', [fake('up')], true)).message, 'shutting down');
});
