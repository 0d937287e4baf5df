/**
 * The relay-wide budget of bodies in flight: the class alone, then concurrent requests through HttpSource (writes held
 * in the stub fan-out keep their bodies in flight), across two listeners sharing one budget.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { eventually } from '../../helpers/eventually.js';
import { post, type HttpResponse } from '../../helpers/http.js';
import { parseConfig } from '../../../src/config/load.js';
import { BodyBudget } from '../../../src/sources/body-budget.js';
import { postChunked, startTestSource, StubFanOut, type TestSource } from './http-source-fixture.js';

test('reservations: reserve, grow, release (idempotent); never past the limit', () => {
  const b = new BodyBudget(100);
  const r1 = b.reserve(60)!;
  assert.equal(b.usedBytes, 60);
  assert.equal(b.reserve(41), undefined, 'does not fit');
  const r2 = b.reserve(0)!;
  assert.ok(r2.ensure(40));
  assert.equal(r2.ensure(41), false, 'one byte too many: unchanged');
  assert.equal(r2.bytes, 40);
  assert.ok(r2.ensure(10), 'shrinking is a no-op');
  assert.equal(b.reserve(0), undefined, 'a full budget refuses even a request of unknown size');
  r1.release();
  r1.release();
  assert.equal(b.usedBytes, 40);
  r2.release();
  assert.equal(b.usedBytes, 0);
  assert.equal(r2.ensure(1), false, 'a released reservation takes nothing');
});

describe('through HttpSource: 503 + Retry-After when bodies in flight exceed the budget', () => {
  const KB = 1024;
  const budget = new BodyBudget(1024 * KB);
  const fanout = new StubFanOut();
  let a: TestSource;
  let b: TestSource;
  const body = (bytes: number) => Buffer.from('m v=1\n'.repeat(Math.floor(bytes / 6)));

  before(async () => {
    // Two listeners, one budget: the bound is the relay's, not each listener's.
    a = await startTestSource({ bodyBudget: budget, maxBodyBytes: 1024 * KB }, fanout);
    b = await startTestSource({ bodyBudget: budget, maxBodyBytes: 1024 * KB }, fanout);
  });
  afterEach(() => fanout.release());
  after(async () => {
    await a.close();
    await b.close();
  });

  const assertBusy = (res: HttpResponse) => {
    assert.equal(res.status, 503, res.body);
    assert.equal(res.headers['retry-after'], '1');
    assert.match(res.body, /"error":"too many request bodies in flight/);
  };

  test('ten concurrent 300 KB writes against 1 MB: three in flight, seven refused before their bodies are read', async () => {
    fanout.hold();
    const n = fanout.batches.length;
    const answers = Array.from({ length: 10 }, (_, i) => post(`${(i % 2 ? a : b).url}/write?db=d`, body(300 * KB)));
    await eventually(async () => {
      assert.equal(fanout.batches.length - n, 3);
      assert.equal((await a.refused('bodies-in-flight')) + (await b.refused('bodies-in-flight')), 7);
    }, 10_000, 20);
    assert.ok(budget.usedBytes <= budget.limitBytes && budget.usedBytes >= 900 * KB, `${budget.usedBytes} bytes reserved`);
    fanout.release();
    const results = await Promise.all(answers);
    assert.equal(results.filter((r) => r.status === 204).length, 3);
    for (const r of results.filter((r) => r.status !== 204)) assertBusy(r);
    assert.equal(budget.usedBytes, 0, 'every reservation is released once its request is answered');
    assert.equal((await post(`${a.url}/write?db=d`, body(900 * KB))).status, 204, 'the budget is free again');
  });

  test('a chunked body that outgrows what is left → 503 mid-stream', async () => {
    fanout.hold();
    const n = fanout.batches.length;
    const held = post(`${a.url}/write?db=d`, body(800 * KB));
    await eventually(async () => assert.equal(fanout.batches.length, n + 1), 10_000, 20);
    const chunked = await postChunked(`${b.url}/write?db=d`, [body(100 * KB), body(100 * KB), body(100 * KB)]);
    assert.equal(chunked.status, 503, chunked.body);
    assert.equal(chunked.headers['retry-after'], '1');
    fanout.release();
    assert.equal((await held).status, 204);
    assert.equal(budget.usedBytes, 0);
  });

  test('a gzip body is counted decoded: small on the wire, refused once it inflates past the budget', async () => {
    fanout.hold();
    const n = fanout.batches.length;
    const held = post(`${a.url}/write?db=d`, body(800 * KB));
    await eventually(async () => assert.equal(fanout.batches.length, n + 1), 10_000, 20);
    const before = await b.refused('bodies-in-flight');
    const gz = gzipSync(body(600 * KB));
    assert.ok(gz.length < 200 * KB, 'its Content-Length fits the budget');
    const res = await post(`${b.url}/write?db=d`, gz, { headers: { 'content-encoding': 'gzip' } });
    assertBusy(res);
    assert.equal(await b.refused('bodies-in-flight'), before + 1);
    fanout.release();
    assert.equal((await held).status, 204);
    assert.equal(budget.usedBytes, 0);
  });
});

test('config: max-bodies-in-flight-mb defaults to 256 and must hold the largest max-body-size-mb', () => {
  const toml = (extra: string) => `${extra}\n[[http]]\nbind-addr = "127.0.0.1:0"\nmax-body-size-mb = 25\noutput = [{ location = "http://127.0.0.1:8086/write" }]\n`;
  assert.equal(parseConfig(toml('')).maxBodiesInFlightMb, 256);
  assert.equal(parseConfig(toml('max-bodies-in-flight-mb = 25')).maxBodiesInFlightMb, 25);
  assert.throws(() => parseConfig(toml('max-bodies-in-flight-mb = 24')), /http\[0\]\.max-body-size.*larger than max-bodies-in-flight-mb \(24\)/s);
});
