/**
 * Writes through the built relay land identically on two real influxd 1.6.7: values, types, timestamps (sent and
 * stamped), precisions, retention policies, gzip, partial writes, a missing database, and the node-influx client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InfluxDB } from 'influx';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { post, request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

let c: Cluster;
let defaultRpUrl: string;

before(async () => {
  const port = await freePort();
  defaultRpUrl = `http://127.0.0.1:${port}`;
  c = await startCluster({
    databases: ['test', 'rpdb'],
    // A second listener whose writes default to a non-default retention policy.
    extra: `[[http]]
name = "rp-default"
bind-addr = "127.0.0.1:${port}"
default-retention-policy = "short"
output = [ { name = "a", location = "\${A}" }, { name = "b", location = "\${B}" } ]`,
  });
  await Promise.all(c.backends.map((b) => b.query('CREATE RETENTION POLICY "short" ON "rpdb" DURATION 2h REPLICATION 1')));
});
after(async () => {
  await c?.destroy();
});

async function both(measurement: string, db = 'test', rp?: string) {
  const [pa, pb] = await Promise.all(c.backends.map((b) => b.points(db, measurement, rp ? { rp } : {})));
  return { a: pa!, b: pb! };
}

describe('mirroring through the relay', () => {
  test('values and types land identically on both backends', async () => {
    const body = [
      'types,host=a\\ b,region=eu-west f=1.5,i=-42i,s="hello \\"quoted\\" \\\\ world",t=true,bf=F 1700000000000000001',
      'types,host=c f=2e3,i=9223372036854775807i,s="ünïcødé ✓",t=false 1700000000000000002',
    ].join('\n');
    const res = await post(`${c.relay.url}/write?db=test`, body);
    assert.equal(res.status, 204, res.body);
    const { a, b } = await both('types');
    assert.deepEqual(a, b);
    assert.equal(a.length, 2);
    const first = a.find((p) => p['time'] === '1700000000000000001')!;
    assert.equal(first['host'], 'a b');
    assert.equal(first['f'], 1.5);
    assert.equal(first['i'], -42);
    assert.equal(first['s'], 'hello "quoted" \\ world');
    assert.equal(first['t'], true);
    assert.equal(first['bf'], false);
    const second = a.find((p) => p['time'] === '1700000000000000002')!;
    assert.equal(second['i'], 9223372036854775807n);
    assert.equal(second['s'], 'ünïcødé ✓');
    // Types, as InfluxDB stored them: a float column and an integer column.
    const keys = await c.a.query('SHOW FIELD KEYS FROM "types"', { db: 'test' });
    const keysB = await c.b.query('SHOW FIELD KEYS FROM "types"', { db: 'test' });
    assert.deepEqual(keys, keysB);
    assert.match(JSON.stringify(keys), /\["f","float"\].*\["i","integer"\]/);
  });

  test('points without a timestamp get the same one on both backends', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const res = await post(`${c.relay.url}/write?db=test`, 'nots,k=1 v=1\nnots,k=2 v=2\nnots,k=3 v=3 1600000000000000000\n');
    assert.equal(res.status, 204, res.body);
    const after = BigInt(Date.now()) * 1_000_000n;
    const { a, b } = await both('nots');
    assert.deepEqual(a, b);
    assert.equal(a.length, 3);
    for (const p of a.filter((p) => p['k'] !== '3')) {
      const t = BigInt(p['time'] as string);
      assert.ok(t >= before && t <= after, `stamped at receipt: ${t}`);
    }
    assert.equal(a.find((p) => p['k'] === '3')!['time'], '1600000000000000000');
  });

  const instants: Array<[string, string, string]> = [
    ['n', '1700000000123456789', '1700000000123456789'],
    ['ns', '1700000000123456789', '1700000000123456789'],
    ['u', '1700000000123456', '1700000000123456000'],
    ['µ', '1700000000123456', '1700000000123456000'],
    ['ms', '1700000000123', '1700000000123000000'],
    ['s', '1700000000', '1700000000000000000'],
    ['m', '28333333', '1699999980000000000'],
    ['h', '472222', '1699999200000000000'],
  ];
  for (const [precision, sent, stored] of instants) {
    test(`precision=${precision} is stored at the right instant, on both`, async () => {
      const m = `prec_${precision === 'µ' ? 'mu' : precision}`;
      const res = await post(`${c.relay.url}/write?db=test&precision=${encodeURIComponent(precision)}`, `${m} v=1 ${sent}\n${m},stamped=yes v=2\n`);
      assert.equal(res.status, 204, res.body);
      const { a, b } = await both(m);
      assert.deepEqual(a, b);
      assert.equal(a.find((p) => p['stamped'] === null || p['stamped'] === undefined)!['time'], stored);
      // A stamped point carries the request's precision: whole seconds for s, whole hours for h.
      const stamped = BigInt(a.find((p) => p['stamped'] === 'yes')!['time'] as string);
      const unit = { n: 1n, ns: 1n, u: 1000n, µ: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n }[precision]!;
      assert.equal(stamped % unit, 0n);
      assert.ok(stamped <= BigInt(Date.now()) * 1_000_000n);
    });
  }

  test('rp parameter selects the retention policy on both', async () => {
    // A recent time: the "short" policy keeps 2 hours.
    const res = await post(`${c.relay.url}/write?db=rpdb&rp=short&precision=ms`, `inrp v=1 ${Date.now()}\n`);
    assert.equal(res.status, 204, res.body);
    const { a, b } = await both('inrp', 'rpdb', 'short');
    assert.equal(a.length, 1);
    assert.deepEqual(a, b);
    const { a: def } = await both('inrp', 'rpdb', 'autogen');
    assert.equal(def.length, 0, 'not in the default rp');
  });

  test('default-retention-policy applies when the write names no rp', async () => {
    const res = await post(`${defaultRpUrl}/write?db=rpdb`, 'defrp v=1\n');
    assert.equal(res.status, 204, res.body);
    const { a, b } = await both('defrp', 'rpdb', 'short');
    assert.equal(a.length, 1);
    assert.deepEqual(a, b);
  });

  test('a large body (validated on a scan thread) lands identically, stamps included', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? `big,host=n${i} v=${i}i,s="x${i}"` : `big,host=h${i % 17} v=${i}i,s="x${i}" ${1700000000000000000n + BigInt(i)}`,
    );
    const body = lines.join('\r\n') + '\nbad line\n';
    assert.ok(body.length > 64 * 1024, 'over the offload threshold');
    const res = await post(`${c.relay.url}/write?db=test`, body);
    assert.equal(res.status, 400, 'the one bad line is reported as a partial write');
    assert.match((res.json as { error: string }).error, /^partial write: unable to parse 'bad line'/);
    const { a, b } = await both('big');
    assert.equal(a.length, 3000);
    assert.deepEqual(a, b);
  });

  test('gzip bodies are decoded', async () => {
    const res = await post(`${c.relay.url}/write?db=test`, 'gz v=1 1700000000000000000\ngz v=2 1700000000000000001\n', { gzip: true });
    assert.equal(res.status, 204, res.body);
    const { a, b } = await both('gz');
    assert.equal(a.length, 2);
    assert.deepEqual(a, b);
  });

  test('a corrupt or truncated gzip body is a 400 and stores nothing', async () => {
    const { gzipSync } = await import('node:zlib');
    const good = gzipSync(Buffer.from('badgz v=1 1\n'));
    for (const body of [Buffer.from('this is not gzip'), good.subarray(0, good.length - 6)]) {
      const res = await request('POST', `${c.relay.url}/write?db=test`, { body, headers: { 'content-encoding': 'gzip' } });
      assert.equal(res.status, 400);
      assert.match((res.json as { error: string }).error, /unable to decode gzip body/);
    }
    const { a } = await both('badgz');
    assert.equal(a.length, 0);
  });

  test('partial write: good lines land on both, the client hears InfluxDB\'s partial write', async () => {
    const body = 'part v=1 1700000000000000000\npart v= 1700000000000000001\npart v=3 1700000000000000003\nno_fields\n';
    const res = await post(`${c.relay.url}/write?db=test`, body);
    assert.equal(res.status, 400);
    const error = (res.json as { error: string }).error;
    assert.match(error, /^partial write: unable to parse 'part v= 1700000000000000001': .+ \(and 1 other parse errors\)$/);
    const { a, b } = await both('part');
    assert.deepEqual(a, b);
    assert.deepEqual(a.map((p) => p['v']), [1, 3]);
  });

  test('a batch with no good line stores nothing and says why', async () => {
    const res = await post(`${c.relay.url}/write?db=test`, 'nogood\n');
    assert.equal(res.status, 400);
    assert.match((res.json as { error: string }).error, /^unable to parse 'nogood': /);
  });

  test('a missing database is a 404 with InfluxDB\'s error', async () => {
    const res = await post(`${c.relay.url}/write?db=nope`, 'm v=1\n');
    assert.equal(res.status, 404);
    assert.match((res.json as { error: string }).error, /database not found/);
  });

  test('the node-influx client writes through the relay', async () => {
    const url = new URL(c.relay.url);
    const client = new InfluxDB({ host: url.hostname, port: Number(url.port), database: 'test' });
    await client.writePoints([
      { measurement: 'nodeinflux', tags: { host: 'x' }, fields: { v: 1.25, n: 7 }, timestamp: new Date(1700000000000) },
      { measurement: 'nodeinflux', tags: { host: 'y' }, fields: { v: 2.5, n: 8 } },
    ]);
    const { a, b } = await both('nodeinflux');
    assert.equal(a.length, 2);
    assert.deepEqual(a, b);
  });
});

describe('the InfluxDB 1.x HTTP surface', () => {
  test('/ping answers 204 with X-Influxdb-Version, for GET and HEAD', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await request(method, `${c.relay.url}/ping`);
      assert.equal(res.status, 204);
      assert.ok(res.headers['x-influxdb-version']);
    }
  });

  test('missing db is a 400 with InfluxDB\'s message', async () => {
    const res = await post(`${c.relay.url}/write`, 'm v=1\n');
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, { error: 'missing parameter: db' });
  });

  test('unknown path 404, wrong method 405 with Allow, both JSON', async () => {
    const nf = await request('GET', `${c.relay.url}/nope`);
    assert.equal(nf.status, 404);
    assert.ok((nf.json as { error: string }).error);
    const q = await request('GET', `${c.relay.url}/query?q=show+databases`);
    assert.equal(q.status, 200, 'a read that reaches the relay is answered by a backend');
    assert.match(q.body, /"results"/);
    const wrong = await request('GET', `${c.relay.url}/write?db=test`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers['allow'], 'POST');
    assert.ok((wrong.json as { error: string }).error);
  });

  test('bad precision and consistency are 400s that name the value', async () => {
    const p = await post(`${c.relay.url}/write?db=test&precision=x`, 'm v=1\n');
    assert.equal(p.status, 400);
    assert.match((p.json as { error: string }).error, /invalid precision "x"/);
    const k = await post(`${c.relay.url}/write?db=test&consistency=most`, 'm v=1\n');
    assert.equal(k.status, 400);
  });

  test('a body over max-body-size-mb after gzip decoding is a 413', async () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 'a');
    const res = await post(`${c.relay.url}/write?db=test`, big, { gzip: true });
    assert.equal(res.status, 413);
    assert.match((res.json as { error: string }).error, /too large/);
  });

  test('/health is 200 with every backend up, /health/backends/<name> 200, unknown name 404', async () => {
    const h = await request('GET', `${c.relay.url}/health`);
    assert.equal(h.status, 200);
    const body = h.json as { status: string; backends: Array<{ name: string; state: string }> };
    assert.equal(body.status, 'pass');
    assert.deepEqual(body.backends.map((b) => [b.name, b.state]), [['influxdb-a', 'up'], ['influxdb-b', 'up']]);
    assert.equal((await request('GET', `${c.relay.url}/health/backends/influxdb-a`)).status, 200);
    assert.equal((await request('GET', `${c.relay.url}/health/backends/nope`)).status, 404);
  });

  test('/metrics exposes Prometheus text with delivered points per backend', async () => {
    const m = await request('GET', `${c.relay.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.body, /influx_relay_backend_points_delivered_total\{backend="influxdb-a"\} \d+/);
    assert.match(m.body, /influx_relay_backend_queue_bytes\{backend="influxdb-b"\} 0/);
  });
});
