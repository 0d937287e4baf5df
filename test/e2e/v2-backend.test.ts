/**
 * An InfluxDB 2.x backend beside a 1.x one, through the built relay: a real influxd (type v1) and a fake 2.x write
 * API (type v2) that checks token, org, bucket and precision the way 2.x does. Every write must reach both with the
 * same points at the same instants; the 2.x backend's refusals and Retry-After must be handled as 2.x means them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { startFakeV2Backend, type FakeBackend, type RecordedRequest } from '../helpers/fake-backend.js';
import { post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePorts } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';
import { tomlValue } from '../helpers/relay-toml.js';

const TOKEN = 'right-token';

describe('type = "v2" output beside a real InfluxDB 1.x', () => {
  let influxd: Influxd;
  let v2: FakeBackend;
  let relay: Relay;
  /** The second listener, whose only output holds a wrong token. */
  let wrongUrl: string;

  before(async () => {
    influxd = await startInfluxd();
    await influxd.createDatabase('test', { name: 'short', duration: '1h' });
    v2 = await startFakeV2Backend({ org: 'acme', token: TOKEN, buckets: ['test', 'test/short'] });
    const [port, wrongPort] = await freePorts(2);
    wrongUrl = `http://127.0.0.1:${wrongPort}`;
    const v2Output = (token: string) => ({
      name: 'v2',
      location: v2.url,
      type: 'v2',
      org: 'acme',
      token,
      timeout: '3s',
      'initial-delay-interval': '50ms',
      'max-delay-interval': '5s',
    });
    const wrong = Object.entries(v2Output('wrong-token')).map(([k, v]) => `${k.includes('-') ? JSON.stringify(k) : k} = ${tomlValue(v)}`);
    const toml = relayToml({
      bindAddr: `127.0.0.1:${port}`,
      outputs: [{ name: 'influxdb', location: `${influxd.url}/write`, timeout: '3s' }, v2Output(TOKEN)],
      extra: `[[http]]\nname = "wrong-token"\nbind-addr = "127.0.0.1:${wrongPort}"\noutput = [ { ${wrong.join(', ')} } ]\n`,
    });
    relay = await startRelay({ toml });
  });

  after(async () => {
    await relay?.destroy();
    await v2?.close();
    await influxd?.destroy();
  });

  /** Requests the fake got after `from`, waiting for at least one. */
  async function received(from: number): Promise<RecordedRequest[]> {
    await v2.waitForRequests(from + 1);
    return v2.requests.slice(from);
  }

  const query = (r: RecordedRequest) => Object.fromEntries(new URL(r.url, 'http://x').searchParams);

  test('a write lands on influxd, and the 2.x backend gets the same lines with token, org, bucket and precision', async () => {
    const from = v2.requests.length;
    const body = ['same,id=1 v=1i 1700000000000000001', 'same,id=2 v=2i', 'same,id=3 v=3i 1700000000000000003'].join('\n');
    const res = await post(`${relay.url}/write?db=test&u=client&p=secret`, body);
    assert.equal(res.status, 204, res.body);
    const [r, ...more] = await received(from);
    assert.equal(more.length, 0);
    assert.equal(r!.headers.authorization, `Token ${TOKEN}`, "the configured token, not the client's credentials");
    assert.deepEqual(query(r!), { org: 'acme', bucket: 'test', precision: 'ns' });
    const points = await influxd.points('test', 'same');
    assert.equal(points.length, 3);
    // What influxd stored, written back as lines, is byte for byte what the 2.x backend got (the stamp included).
    const stored = points.map((p) => `same,id=${String(p['id'])} v=${String(p['v'])}i ${String(p['time'])}`).sort();
    assert.deepEqual(r!.body.toString().trimEnd().split('\n').sort(), stored);
  });

  test('rp makes the bucket db/rp; ms precision stays ms', async () => {
    const from = v2.requests.length;
    const ms = Date.now();
    const res = await post(`${relay.url}/write?db=test&rp=short&precision=ms`, `rp,id=a v=1 ${ms}`);
    assert.equal(res.status, 204, res.body);
    const [r] = await received(from);
    assert.deepEqual(query(r!), { org: 'acme', bucket: 'test/short', precision: 'ms' });
    assert.equal(r!.body.toString(), `rp,id=a v=1 ${ms}\n`);
    assert.equal((await influxd.points('test', 'rp', { rp: 'short' }))[0]?.['time'], `${ms}000000`);
  });

  test('minutes, which 2.x lacks, reach it as seconds: both replicas hold the same instant', async () => {
    const from = v2.requests.length;
    const minutes = Math.floor(Date.now() / 60_000) - 5;
    const res = await post(`${relay.url}/write?db=test&precision=m`, `mins v=1 ${minutes}`);
    assert.equal(res.status, 204, res.body);
    const [r] = await received(from);
    assert.equal(query(r!).precision, 's');
    assert.equal(r!.body.toString(), `mins v=1 ${minutes * 60}\n`);
    const [p] = await influxd.points('test', 'mins');
    assert.equal(p?.['time'], `${minutes * 60}000000000`);
  });

  test('/api/v2/write into the relay: the 2.x backend still gets the configured token, not the client\'s', async () => {
    const from = v2.requests.length;
    const res = await post(`${relay.url}/api/v2/write?org=whatever&bucket=test&precision=s`, 'api v=1 1700000000', {
      headers: { authorization: 'Token someone:else' },
    });
    assert.equal(res.status, 204, res.body);
    const [r] = await received(from);
    assert.equal(r!.headers.authorization, `Token ${TOKEN}`);
    assert.deepEqual(query(r!), { org: 'acme', bucket: 'test', precision: 's' });
  });

  test('a wrong token: the 2.x backend answers 401, and so does the relay, in each API\'s shape', async () => {
    const v1 = await post(`${wrongUrl}/write?db=test`, 'denied v=1 1');
    assert.equal(v1.status, 401, v1.body);
    assert.deepEqual(v1.json, { error: 'unauthorized access' });
    assert.equal(v1.headers['x-relay-backend'], 'v2');
    const api = await post(`${wrongUrl}/api/v2/write?bucket=test`, 'denied v=1 1');
    assert.equal(api.status, 401, api.body);
    assert.deepEqual(api.json, { code: 'unauthorized', message: 'unauthorized access' });
    const refused = v2.requests.filter((r) => r.headers.authorization === 'Token wrong-token');
    assert.equal(refused.length, 2, 'refused once each: a 401 is not retried');
  });

  test('429 with Retry-After: the write is queued (204) and retried no sooner than the backend asked', async () => {
    const from = v2.requests.length;
    v2.enqueue({ status: 429, headers: { 'retry-after': '1' }, body: '{"code":"too many requests","message":"org exceeded write limits"}' });
    const res = await post(`${relay.url}/write?db=test`, 'throttled v=1 1700000000000000000');
    assert.equal(res.status, 204, res.body);
    const [first, retry] = await eventually(async () => {
      const got = v2.requests.slice(from);
      assert.ok(got.length >= 2, `${got.length} requests`);
      return got;
    });
    assert.ok(retry!.at - first!.at >= 950, `retried after ${retry!.at - first!.at} ms`);
    assert.deepEqual(retry!.body, first!.body);
    assert.equal((await influxd.points('test', 'throttled')).length, 1);
  });
});
