/**
 * Anti-entropy against real influxd: a replica that missed writes (its queue overflowed while it was down) is
 * quarantined, then repaired by the relay itself once it is back, and its quarantine ends; and points that reached
 * only one replica in the recent past are copied to the other.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';

const started: Cluster[] = [];
after(async () => {
  await Promise.all(started.map((c) => c.destroy()));
});

const count = (c: Cluster, which: 'a' | 'b', m: string): Promise<number> => c[which].count('test', m);

test('a replica that missed writes is quarantined, repaired by the relay once back, and fresh again', async () => {
  const c = await startCluster({
    top: { 'ledger-dir': 'ledger', 'anti-entropy-interval': '1s', 'anti-entropy-lookback': '0s' },
    output: { 'buffer-size-mb': 1, timeout: '1s', 'max-delay-interval': '1s' },
  });
  started.push(c);
  await c.b.kill();
  const line = `gap,host=${'x'.repeat(200)} v=1`;
  const now = BigInt(Date.now()) * 1_000_000n;
  let sent = 0;
  for (let i = 0; i < 10; i++) {
    const body = Array.from({ length: 2000 }, (_, j) => `${line} ${now - 3_600_000_000_000n + BigInt(i * 2000 + j) * 1_000_000n}`).join('\n');
    assert.equal((await post(`${c.relay.url}/write?db=test`, body)).status, 204);
    sent += 2000;
  }
  await eventually(async () => assert.equal(await count(c, 'a', 'gap'), sent));
  const before = await get(`${c.relay.url}/metrics`);
  assert.match(before.body, /influx_relay_missed_windows\{backend="influxdb-b"\} [1-9]/, 'B missed a window');
  const dropped = Number(/influx_relay_backend_points_dropped_total\{backend="influxdb-b",reason="queue-full"\} (\d+)/.exec(before.body)?.[1]);
  assert.ok(dropped > 0, 'and lost points from its queue');
  await c.b.restart();
  // B first catches up on its queue (what was not dropped), then the relay copies the missed window from A.
  await eventually(async () => assert.equal(await count(c, 'b', 'gap'), sent), 60_000);
  await eventually(async () => assert.equal((await get(`${c.relay.url}/health/backends/influxdb-b`)).status, 200), 30_000);
  // The pass is counted when it ends, a moment after the window it repaired was marked.
  await eventually(async () => {
    const m = await get(`${c.relay.url}/metrics`);
    assert.match(m.body, /influx_relay_missed_windows\{backend="influxdb-b"\} 0/);
    assert.match(m.body, /influx_relay_anti_entropy_points_copied_total [1-9]/);
  });
});

test('points that reached one replica only, in the recent past, are copied to the other', async () => {
  const c = await startCluster({ top: { 'anti-entropy-interval': '1s', 'anti-entropy-lookback': '1h' } });
  started.push(c);
  // Written behind the relay's back, two minutes ago (older than the minute a pass leaves for writes in flight).
  const t = BigInt(Date.now() - 120_000) * 1_000_000n;
  await c.a.write('test', Array.from({ length: 50 }, (_, i) => `only_a v=${i} ${t + BigInt(i)}`).join('\n'));
  await c.b.write('test', `only_b v=1 ${t}`);
  await eventually(async () => {
    assert.equal(await count(c, 'b', 'only_a'), 50);
    assert.equal(await count(c, 'a', 'only_b'), 1);
  }, 60_000);
});
