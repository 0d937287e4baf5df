// /api/v2/write with the official 2.x client (@influxdata/influxdb-client) through the relay's write pipeline to two real
// InfluxDB 1.x backends with auth on: bucket "db/rp" and "db", token "user:password" standing for 1.x credentials,
// gzip, and errors in the 2.x shape.
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { v2Dialect } from '../../src/sources/v2-write.js';
import { WritePipeline } from '../../src/sources/write-pipeline.js';
import { ScanPool } from '../../src/lineprotocol/scan-pool.js';
import { post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { httpOutput, rig, type Rig } from './source-fixtures.js';

describe('/api/v2/write to two InfluxDB 1.x backends', () => {
  let a: Influxd;
  let b: Influxd;
  let r: Rig;
  let server: Server;
  let url: string;
  let token: string;

  before(async () => {
    [a, b] = await Promise.all([startInfluxd({ auth: true }), startInfluxd({ auth: true })]);
    for (const s of [a, b]) await s.createDatabase('v2db', { name: 'short', duration: '1h', default: false });
    token = `${a.admin!.user}:${a.admin!.pass}`;
    r = rig([httpOutput(`${a.url}/write`), httpOutput(`${b.url}/write`)]);
    const pipeline = new WritePipeline(
      { listener: 'v2-test', defaultRetentionPolicy: '', defaultConsistency: 'all', maxBodyBytes: 1024 * 1024 },
      r.fanout,
      r.metrics,
      r.logger,
      v2Dialect,
      new ScanPool(0),
    );
    // Stands in for the relay's HTTP listener, which routes /api/v2/write to this pipeline.
    server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://relay');
      if (u.pathname === '/api/v2/write' && req.method === 'POST') void pipeline.handle(req, res, u.searchParams);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await r?.close();
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  const writeApi = (bucket: string, o: { gzipThreshold?: number; token?: string } = {}) =>
    new InfluxDB({ url, token: o.token ?? token }).getWriteApi('any-org', bucket, 'ns', {
      maxRetries: 0,
      flushInterval: 0,
      gzipThreshold: o.gzipThreshold ?? 1_000_000,
      writeFailed: () => undefined, // the test asserts the error itself
    });

  test('the 2.x client writes to bucket "db/rp" with token "user:password": exact points on both backends', async () => {
    // Within the 1h retention policy, to the nanosecond.
    const t = BigInt(Date.now()) * 1_000_000n + 123_456n;
    const w = writeApi('v2db/short');
    w.writePoint(new Point('weather').tag('loc', 'paris').floatField('temp', 21.5).intField('n', 3).timestamp(String(t)));
    w.writeRecords([`weather,loc=oslo temp=-3.25,n=4i ${t + 1n}`]);
    await w.close();
    const expected = [
      { time: String(t), loc: 'paris', n: 3, temp: 21.5 },
      { time: String(t + 1n), loc: 'oslo', n: 4, temp: -3.25 },
    ];
    for (const s of [a, b]) {
      assert.deepEqual(await s.points('v2db', 'weather', { rp: 'short' }), expected);
      assert.deepEqual(await s.points('v2db', 'weather', { rp: 'autogen' }), []);
    }
  });

  test('bucket "db" alone writes to the default retention policy; gzip bodies work', async () => {
    const w = writeApi('v2db', { gzipThreshold: 0 });
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(`gz,i=${i % 5} v=${i}i ${1700000000000000000 + i * 1000}`);
    w.writeRecords(lines);
    await w.close();
    const res = await post(`${url}/api/v2/write?org=o&bucket=v2db&precision=s`, 'gz,i=raw v=1i 1700000000\n', {
      gzip: true,
      headers: { authorization: `Token ${token}` },
    });
    assert.equal(res.status, 204, res.body);
    for (const s of [a, b]) assert.equal((await s.points('v2db', 'gz', { rp: 'autogen' })).length, 501);
  });

  test('a wrong token is refused by the backends: 401 in the 2.x error shape, nothing written', async () => {
    const w = writeApi('v2db', { token: `${a.admin!.user}:wrong` });
    w.writeRecords(['denied v=1 1']);
    const quiet = setLogger({ error: () => undefined, warn: () => undefined });
    const err = await w.close().then(() => undefined, (e: unknown) => e);
    setLogger(quiet);
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.statusCode, 401);
    assert.equal(err.code, 'unauthorized');
    for (const s of [a, b]) assert.deepEqual(await s.points('v2db', 'denied'), []);
  });

  test('errors of the request itself, in the 2.x shape', async () => {
    const auth = { authorization: `Token ${token}` };
    const cases: Array<[string, string, number, string, RegExp]> = [
      ['', 'x v=1 1', 400, 'invalid', /missing parameter: bucket/],
      ['bucket=/short', 'x v=1 1', 400, 'invalid', /empty database/],
      ['bucket=v2db&precision=h', 'x v=1 1', 400, 'invalid', /invalid precision "h"/],
      ['bucket=v2db', 'x v=', 400, 'invalid', /unable to parse 'x v=': missing field value/],
      ['bucket=nodb', 'x v=1 1', 404, 'not found', /database not found/],
    ];
    for (const [query, body, status, code, message] of cases) {
      const res = await post(`${url}/api/v2/write?${query}`, body, { headers: auth });
      assert.equal(res.status, status, `${query}: ${res.body}`);
      const json = JSON.parse(res.body) as { code: string; message: string };
      assert.equal(json.code, code, query);
      assert.match(json.message, message, query);
    }
  });

  test('a partial write forwards the good lines and answers 400 "partial write"', async () => {
    const res = await post(`${url}/api/v2/write?bucket=v2db&precision=s`, 'partial v=1 1700000000\npartial v=\n', {
      headers: { authorization: `Token ${token}` },
    });
    assert.equal(res.status, 400);
    assert.match((JSON.parse(res.body) as { message: string }).message, /^partial write: unable to parse/);
    for (const s of [a, b]) assert.deepEqual(await s.points('v2db', 'partial'), [{ time: '1700000000000000000', v: 1 }]);
  });
});
