/**
 * Pooled request bodies (body-pool.ts) against two real influxd: memory a body was read into is reused only once
 * every backend queue is done with its batch. The relay runs in check mode, which overwrites returned memory with NUL
 * bytes and delays its reuse, so a body returned while a queue still held it would reach a backend as NUL bytes (a
 * 400, points missing there) or as another write's lines (points missing, others doubled): either way the replicas
 * would differ from what the clients sent.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';

const started: Array<{ destroy(): Promise<void> }> = [];
after(async () => {
  for (const s of started.reverse()) await s.destroy();
});

const LINES = 1000;
const T0 = 1700000000000000000n;

/** Body n: 1,000 lines (~90 KB, pooled), every point distinct, value = n * LINES + i. */
function body(n: number): string {
  let s = '';
  for (let i = 0; i < LINES; i++) s += `pooled,body=b${n},host=h${i % 10},region=eu-west-1,service=pool-test value=${n * LINES + i},line=${i}i ${T0 + BigInt(n * LINES + i)}\n`;
  return s;
}

async function backendState(relay: Relay, name: string): Promise<{ state: string; queueBatches: number }> {
  const h = await get(`${relay.url}/health`);
  return (h.json as { backends: Array<{ name: string; state: string; queueBatches: number }> }).backends.find((b) => b.name === name)!;
}

test('bodies read into pooled memory reach both replicas intact while one backend is frozen (SIGSTOP) past its timeout and thawed', async () => {
  const [a, b]: [Influxd, Influxd] = await Promise.all([startInfluxd(), startInfluxd()]);
  started.push(a, b);
  await Promise.all([a.createDatabase('test'), b.createDatabase('test')]);
  const port = await freePort();
  const output = { 'buffer-size-mb': 64, timeout: '1s', 'initial-delay-interval': '100ms', 'max-delay-interval': '300ms' };
  const relay = await startRelay({
    env: { INFLUX_RELAY_BODY_POOL_CHECK: '1' },
    toml: relayToml({
      bindAddr: `127.0.0.1:${port}`,
      outputs: [
        { name: 'influxdb-a', location: `${a.url}/write`, ...output },
        { name: 'influxdb-b', location: `${b.url}/write`, ...output },
      ],
    }),
  });
  started.push(relay);

  let bodies = 0;
  const write = async (): Promise<void> => {
    const text = body(bodies++);
    assert.ok(text.length >= 64 * 1024, 'large enough to be pooled');
    const res = await post(`${relay.url}/write?db=test`, text);
    assert.equal(res.status, 204, res.body);
  };
  for (let i = 0; i < 10; i++) await write();

  process.kill(b.pid, 'SIGSTOP');
  try {
    // B's requests time out and its batches wait in its queue, while A's are delivered and their bodies let go.
    for (let i = 0; i < 20; i++) await write();
    await eventually(async () => {
      const s = await backendState(relay, 'influxdb-b');
      assert.equal(s.state, 'down');
      assert.ok(s.queueBatches > 0);
    }, 15_000);
    for (let i = 0; i < 10; i++) await write();
  } finally {
    process.kill(b.pid, 'SIGCONT');
  }
  for (let i = 0; i < 10; i++) await write();

  const total = bodies * LINES;
  await eventually(async () => {
    assert.equal(await a.count('test', 'pooled', 'value'), total);
    assert.equal(await b.count('test', 'pooled', 'value'), total);
  }, 60_000);
  // Every point carries its own value: a body swapped with another write's would show here even with the counts right.
  const expected = (total * (total - 1)) / 2;
  for (const replica of [a, b]) {
    const r = await replica.query('SELECT sum(value) FROM pooled', { db: 'test' });
    assert.equal(r.results[0].series[0].values[0][1], expected);
  }
  const metrics = await get(`${relay.url}/metrics`);
  assert.doesNotMatch(metrics.body, /influx_relay_backend_points_dropped_total\{[^}]*\} [1-9]/, 'nothing dropped or refused');
  const served = (memory: string): number => Number(new RegExp(`influx_relay_body_pool_bodies_total\\{memory="${memory}"\\} (\\d+)`).exec(metrics.body)?.[1] ?? 0);
  assert.equal(served('new') + served('reused'), bodies, 'every body was read into pooled memory');
});
