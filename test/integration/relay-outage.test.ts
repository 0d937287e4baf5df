/**
 * A backend killed and restarted while writes continue: both converge. Every backend down: the client gets a prompt
 * 204 while the queues accept (and the data arrives later), or a prompt 503 when buffering is off — never a hang.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';

const started: Cluster[] = [];
after(async () => {
  await Promise.all(started.map((c) => c.destroy()));
});

const count = (c: Cluster, which: 'a' | 'b', m: string): Promise<number> => c[which].count('test', m);

describe('outages', () => {
  test('one backend killed and restarted while writing continues: both converge', async () => {
    const c = await startCluster({ output: { 'buffer-size-mb': 64, timeout: '2s', 'max-delay-interval': '500ms' } });
    started.push(c);
    let sent = 0;
    const write = async (n: number) => {
      const lines = Array.from({ length: 100 }, (_, i) => `conv,batch=${n} v=${i} ${1700000000000000000n + BigInt(n * 100 + i)}`).join('\n');
      const res = await post(`${c.relay.url}/write?db=test`, lines);
      assert.equal(res.status, 204, res.body);
      sent += 100;
    };
    for (let n = 0; n < 10; n++) await write(n);
    await c.b.kill();
    const health = await get(`${c.relay.url}/health`);
    assert.equal(health.status, 200, 'still accepting writes while B is down');
    for (let n = 10; n < 30; n++) await write(n);
    await eventually(async () => {
      const h = await get(`${c.relay.url}/health`);
      const b = (h.json as { backends: Array<{ name: string; state: string; queueBatches: number }> }).backends.find((x) => x.name === 'influxdb-b')!;
      assert.equal(b.state, 'down');
      assert.ok(b.queueBatches > 0);
    });
    await c.b.restart();
    for (let n = 30; n < 40; n++) await write(n);
    await eventually(async () => {
      assert.equal(await count(c, 'a', 'conv'), sent);
      assert.equal(await count(c, 'b', 'conv'), sent);
    }, 30_000);
    const [a, b] = await Promise.all([c.a.points('test', 'conv'), c.b.points('test', 'conv')]);
    assert.deepEqual(a, b);
  });

  test('every backend down, queues accepting: a prompt 204, and the data arrives when they return', async () => {
    const c = await startCluster({ output: { 'buffer-size-mb': 8, timeout: '1s', 'max-delay-interval': '300ms' } });
    started.push(c);
    await Promise.all([c.a.kill(), c.b.kill()]);
    const t0 = Date.now();
    const res = await post(`${c.relay.url}/write?db=test`, 'down v=1\ndown v=2 1700000000000000000\n');
    assert.equal(res.status, 204, res.body);
    assert.ok(Date.now() - t0 < 3000, 'answered within the output timeout');
    await Promise.all([c.a.restart(), c.b.restart()]);
    await eventually(async () => {
      assert.equal(await count(c, 'a', 'down'), 2);
      assert.equal(await count(c, 'b', 'down'), 2);
    });
    const [a, b] = await Promise.all([c.a.points('test', 'down'), c.b.points('test', 'down')]);
    assert.deepEqual(a, b, 'the stamped point carries the same time on both');
  });

  test('every backend down, buffering off: a prompt 503 with Retry-After', async () => {
    const c = await startCluster({ output: { 'buffer-size-mb': 0, timeout: '1s' } });
    started.push(c);
    await Promise.all([c.a.kill(), c.b.kill()]);
    const t0 = Date.now();
    const res = await post(`${c.relay.url}/write?db=test`, 'off v=1\n');
    assert.equal(res.status, 503);
    assert.ok(res.headers['retry-after']);
    assert.match((res.json as { error: string }).error, /influxdb-a/);
    assert.ok(Date.now() - t0 < 3000, 'answered within the output timeout');
  });

  test('when-full = reject: a full queue answers 503 for writes and for /health', async () => {
    const c = await startCluster({ top: { 'when-full': 'reject' }, output: { 'buffer-size-mb': 1, timeout: '1s', 'max-delay-interval': '5s' } });
    started.push(c);
    await c.b.kill();
    const line = `full,host=${'x'.repeat(200)} v=1`;
    const body = Array.from({ length: 2000 }, (_, i) => `${line} ${1700000000000000000n + BigInt(i)}`).join('\n');
    let status = 204;
    for (let i = 0; i < 10 && status === 204; i++) status = (await post(`${c.relay.url}/write?db=test`, body)).status;
    assert.equal(status, 503);
    const h = await get(`${c.relay.url}/health`);
    assert.equal(h.status, 503);
    assert.match((h.json as { message: string }).message, /queue full for influxdb-b/);
  });

  test('when-full = drop-oldest (the default): one replica down longer than its queue does not stop writes', async () => {
    const c = await startCluster({ top: { 'ledger-dir': 'ledger' }, output: { 'buffer-size-mb': 1, timeout: '1s', 'max-delay-interval': '5s' } });
    started.push(c);
    await c.b.kill();
    const line = `drop,host=${'x'.repeat(200)} v=1`;
    let sent = 0;
    for (let i = 0; i < 10; i++) {
      const body = Array.from({ length: 2000 }, (_, j) => `${line} ${1700000000000000000n + BigInt(i * 2000 + j)}`).join('\n');
      const res = await post(`${c.relay.url}/write?db=test`, body);
      assert.equal(res.status, 204, `write ${i}: ${res.body}`);
      sent += 2000;
    }
    const h = await get(`${c.relay.url}/health`);
    assert.equal(h.status, 200, 'HAProxy keeps this relay in rotation');
    await eventually(async () => assert.equal(await count(c, 'a', 'drop'), sent));
    const m = await get(`${c.relay.url}/metrics`);
    const dropped = /influx_relay_backend_points_dropped_total\{backend="influxdb-b",reason="queue-full"\} (\d+)/.exec(m.body);
    assert.ok(dropped && Number(dropped[1]) > 0, 'the points B missed are counted');
    assert.match(m.body, /influx_relay_missed_windows\{backend="influxdb-b"\} [1-9]/, 'and recorded as a missed window');
    const health = (await get(`${c.relay.url}/health`)).json as { backends: Array<{ name: string; missedWindows?: number }> };
    assert.ok((health.backends.find((x) => x.name === 'influxdb-b')?.missedWindows ?? 0) > 0, '/health shows it');
    assert.equal(health.backends.find((x) => x.name === 'influxdb-a')?.missedWindows, 0, 'A missed nothing');
    await c.b.restart();
    await eventually(async () => assert.equal(await count(c, 'b', 'drop'), sent - Number(dropped[1])), 30_000);
    // Caught up, but missing what was dropped: reads stay off B until the window is repaired.
    await eventually(async () => assert.equal((await get(`${c.relay.url}/health`)).status, 200));
    const fresh = await get(`${c.relay.url}/health/backends/influxdb-b`);
    assert.equal(fresh.status, 503, fresh.body);
    assert.equal((fresh.json as { quarantined: boolean }).quarantined, true);
    assert.equal((await get(`${c.relay.url}/health/backends/influxdb-a`)).status, 200);
  });

  test('a hung database (SIGSTOP) does not hold the client for the output timeout: queued at answer-timeout', async () => {
    // An output timeout far longer than the client is willing to wait (Telegraf's default is 5 s).
    const c = await startCluster({ top: { 'answer-timeout': '1s' }, output: { timeout: '60s' } });
    started.push(c);
    process.kill(c.b.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 3; i++) {
        const res = await post(`${c.relay.url}/write?db=test`, `hung v=${i} ${1700000000000000000n + BigInt(i)}\n`, { timeoutMs: 5000 });
        assert.equal(res.status, 204, res.body);
      }
      await eventually(async () => assert.equal(await count(c, 'a', 'hung'), 3));
    } finally {
      process.kill(c.b.pid, 'SIGCONT');
    }
    await eventually(async () => assert.equal(await count(c, 'b', 'hung'), 3), 30_000);
  });
});
