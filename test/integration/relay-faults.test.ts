/**
 * Faults a real InfluxDB cannot be made to show on demand, against a scripted fake backend beside a real influxd:
 * a 500 that is retried, a hang that must not hang the client, a poison batch that is dead-lettered, Retry-After.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { startFakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';

let real: Influxd;
let fake: FakeBackend;
let relay: Relay;

before(async () => {
  real = await startInfluxd();
  await real.createDatabase('test');
  fake = await startFakeBackend();
  const port = await freePort();
  relay = await startRelay({
    // Pooled memory is overwritten when it returns (body-pool.ts), so a read after that fails here, not in production.
    env: { INFLUX_RELAY_BODY_POOL_CHECK: '1' },
    toml: relayToml({
      bindAddr: `127.0.0.1:${port}`,
      outputs: [
        { name: 'real', location: `${real.url}/write`, timeout: '1s' },
        {
          name: 'fake',
          location: fake.writeUrl,
          timeout: '500ms',
          'initial-delay-interval': '20ms',
          'max-delay-interval': '100ms',
          // Long enough that a batch retried under CI load is not dead-lettered by accident; the poison test waits it out.
          'dead-letter-after': '3s',
          'dead-letter-file': 'dead-letters.lp',
        },
      ],
    }),
  });
});
after(async () => {
  await relay?.destroy();
  await fake?.close();
  await real?.destroy();
});

test('a 500 is retried until delivered; the client is not kept waiting', async () => {
  fake.enqueue({ status: 500, body: '{"error":"engine: cache maximum memory size exceeded"}' }, { status: 500 });
  const n = fake.requests.length;
  const res = await post(`${relay.url}/write?db=test`, 'retry500 v=1 1700000000000000000\n');
  assert.equal(res.status, 204, res.body);
  const reqs = await fake.waitForRequests(n + 3, 5000);
  const bodies = reqs.slice(n).map((r) => r.body.toString());
  assert.deepEqual(bodies, Array(3).fill('retry500 v=1 1700000000000000000\n'), 'the same bytes, three times');
  assert.equal((await real.points('test', 'retry500')).length, 1);
});

test('Retry-After from the backend is honoured', async () => {
  fake.enqueue({ status: 503, headers: { 'retry-after': '1' } });
  const n = fake.requests.length;
  await post(`${relay.url}/write?db=test`, 'retryafter v=1 1700000000000000000\n');
  const reqs = await fake.waitForRequests(n + 2, 5000);
  const gap = reqs[n + 1]!.at - reqs[n]!.at;
  assert.ok(gap >= 900, `waited ${gap} ms`);
});

test('a hanging backend: the client still gets its answer within the output timeout', async () => {
  fake.enqueue({ hang: true });
  const t0 = Date.now();
  const res = await post(`${relay.url}/write?db=test`, 'hang v=1 1700000000000000000\n');
  assert.equal(res.status, 204, 'queued for the hanging backend, delivered to the other');
  assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
  await eventually(async () => {
    assert.ok(fake.requests.some((r, i) => i > 0 && r.body.toString().includes('hang v=1')));
  });
});

/** A backend's answer reaches the client only when it had no backlog: wait until earlier tests' retries are done. */
async function fakeIdle(): Promise<void> {
  await eventually(async () => {
    const h = await get(`${relay.url}/health/backends/fake`);
    assert.equal(h.status, 200, h.body);
    assert.equal((h.json as { queueBatches: number }).queueBatches, 0);
  }, 10_000);
}

test('the backend\'s own 4xx reaches the client', async () => {
  await fakeIdle();
  fake.enqueue({ status: 400, body: '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"conflict\\" is type string, already exists as type float dropped=1"}' });
  const res = await post(`${relay.url}/write?db=test`, 'conflict v=1 1700000000000000000\n');
  assert.equal(res.status, 400);
  assert.match((res.json as { error: string }).error, /field type conflict/);
  assert.equal(res.headers['x-relay-backend'], 'fake');
});

test('a poison batch is dead-lettered after dead-letter-after and the backend moves on', async () => {
  fake.setScript((r) => (r.body.toString().includes('poison') ? { status: 500, body: '{"error":"poison"}' } : undefined));
  const res = await post(`${relay.url}/write?db=test`, 'poison v=1 1700000000000000000\n');
  assert.equal(res.status, 204);
  await post(`${relay.url}/write?db=test`, 'healthy v=1 1700000000000000000\n');
  await eventually(async () => {
    const h = await get(`${relay.url}/health`);
    const b = (h.json as { backends: Array<{ name: string; queueBatches: number }> }).backends.find((x) => x.name === 'fake')!;
    assert.equal(b.queueBatches, 0);
  }, 15_000);
  await fakeIdle();
  assert.ok(fake.requests.some((r) => r.body.toString().includes('healthy v=1')));
  // The dead-letter file is appended in the background: wait for it.
  const file = await eventually(async () => {
    const text = await readFile(path.join(relay.dir, 'dead-letters.lp'), 'utf8');
    assert.match(text, /^# dead-letter backend="fake" db="test"/);
    return text;
  });
  assert.match(file, /\npoison v=1 1700000000000000000\n$/);
  const m = await get(`${relay.url}/metrics`);
  assert.match(m.body, /influx_relay_backend_points_dropped_total\{backend="fake",reason="dead-letter"\} 1/);
  fake.setScript({ status: 204 });
});

test('a poison body large enough to be pooled (body-pool.ts) is dead-lettered byte for byte', async () => {
  // 1,000 lines, ~90 KB with a Content-Length: read into pooled memory, which returns to the pool once the backend
  // gives the batch up. The dead-letter file is written after that, so it must hold a copy (in check mode, which
  // `make test` sets, returned memory is overwritten with NUL bytes).
  const body = Array.from({ length: 1000 }, (_, i) => `poison,body=large,line=${i} value=${i}.5,n=${i}i ${1700000000000000000n + BigInt(i)}\n`).join('');
  assert.ok(body.length >= 64 * 1024);
  fake.setScript((r) => (r.body.toString().includes('poison,body=large') ? { status: 500, body: '{"error":"poison"}' } : undefined));
  const res = await post(`${relay.url}/write?db=test`, body);
  assert.equal(res.status, 204);
  await post(`${relay.url}/write?db=test`, 'healthy v=2 1700000000000000000\n');
  const file = await eventually(async () => {
    const text = await readFile(path.join(relay.dir, 'dead-letters.lp'), 'utf8');
    assert.ok(text.includes('poison,body=large,line=999 '), 'the large batch is in the dead-letter file');
    return text;
  }, 15_000);
  const start = file.indexOf('poison,body=large,line=0 ');
  assert.equal(file.slice(start, start + body.length), body);
  await fakeIdle();
  fake.setScript({ status: 204 });
});
