/**
 * The durable spool, end to end: the built relay as a child process, real influxd on both sides, and kill -9.
 * Every point a client got a 204 for must end up on both backends, with identical timestamps (points sent without one
 * included), across relay crashes, restarts and backend outages.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

async function backends(): Promise<[Influxd, Influxd]> {
  const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
  cleanup.push(() => a.destroy(), () => b.destroy());
  await Promise.all([a.createDatabase('test'), b.createDatabase('test')]);
  return [a, b];
}

async function spooledRelay(a: Influxd, b: Influxd, spool: string, extra: Record<string, string | number> = {}, dir?: string): Promise<Relay> {
  const port = await freePort();
  const top = Object.entries({ 'spool-dir': 'spool', fsync: 'interval', ...extra })
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join('\n');
  const toml =
    `${top}\n` +
    relayToml({
      bindAddr: `127.0.0.1:${port}`,
      name: spool,
      outputs: [
        { name: 'influxdb-a', location: `${a.url}/write`, timeout: '1s', 'max-delay-interval': '300ms' },
        { name: 'influxdb-b', location: `${b.url}/write`, timeout: '1s', 'max-delay-interval': '300ms' },
      ],
    });
  const relay = await startRelay({ toml, ...(dir ? { dir } : {}) });
  cleanup.push(() => relay.destroy());
  return relay;
}

const count = (db: Influxd, m: string): Promise<number> => db.count('test', m);

/** n lines of measurement m, ids from `from`; every other line without a timestamp (the relay stamps it). */
function lines(m: string, from: number, n: number): string {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) out.push(i % 2 === 0 ? `${m},id=${i} v=${i}i` : `${m},id=${i} v=${i}i ${1700000000000000000n + BigInt(i)}`);
  return out.join('\n');
}

describe('durable spool', () => {
  test('backend B down, 10k points acknowledged, relay kill -9, relay and B restarted: B holds exactly what A holds', async () => {
    const [a, b] = await backends();
    await b.kill();
    const relay = await spooledRelay(a, b, 'crash-a');
    for (let i = 0; i < 10; i++) {
      const res = await post(`${relay.url}/write?db=test`, lines('crash', i * 1000, 1000));
      assert.equal(res.status, 204, res.body);
    }
    await eventually(async () => assert.equal(await count(a, 'crash'), 10_000));
    await relay.kill9();

    const again = await spooledRelay(a, b, 'crash-a', {}, relay.dir);
    const h = await get(`${again.url}/health/backends/influxdb-b`);
    assert.equal(h.status, 503, 'B is behind: it must not be in the read pool');
    await b.restart();
    await eventually(async () => assert.equal(await count(b, 'crash'), 10_000), 30_000);
    const [pa, pb] = await Promise.all([a.points('test', 'crash'), b.points('test', 'crash')]);
    assert.equal(pa.length, 10_000);
    assert.deepEqual(pb, pa, 'identical points and timestamps, stamped ones included');
    await eventually(async () => assert.equal((await get(`${again.url}/health/backends/influxdb-b`)).status, 200));
  });

  test('kill -9 in the middle of a sustained write stream: every acknowledged point is on both backends', async () => {
    const [a, b] = await backends();
    const relay = await spooledRelay(a, b, 'stream');
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const from = next;
        next += 200;
        const res = await post(`${relay.url}/write?db=test`, lines('stream', from, 200)).catch(() => undefined);
        if (res?.status === 204) acked.add(from);
        else if (!res) return; // the relay is gone
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    await eventually(async () => assert.ok(acked.size >= 40), 20_000, 20);
    await relay.kill9();
    stop = true;
    await Promise.all(writers);
    const ackedPoints = acked.size * 200;

    await spooledRelay(a, b, 'stream', {}, relay.dir);
    await eventually(async () => {
      assert.ok((await count(a, 'stream')) >= ackedPoints);
      assert.ok((await count(b, 'stream')) >= ackedPoints);
    }, 30_000);
    const [pa, pb] = await Promise.all([a.points('test', 'stream'), b.points('test', 'stream')]);
    const ids = (ps: Array<Record<string, unknown>>) => new Set(ps.map((p) => Number(p['id'])));
    const [ia, ib] = [ids(pa), ids(pb)];
    for (const from of acked) {
      for (let i = from; i < from + 200; i++) {
        assert.ok(ia.has(i) && ib.has(i), `acknowledged point ${i} is on both backends`);
      }
    }
    const byId = (ps: Array<Record<string, unknown>>) => new Map(ps.map((p) => [p['id'], p['time']]));
    const [ta, tb] = [byId(pa), byId(pb)];
    for (const from of acked) assert.equal(ta.get(String(from)), tb.get(String(from)), 'a stamped point carries the same time on both');
  });

  test('spool full with when-full = reject: 503, and nothing acknowledged is lost', async () => {
    const [a, b] = await backends();
    await b.kill();
    const relay = await spooledRelay(a, b, 'full-reject', { 'spool-max-mb': 1, 'when-full': 'reject' });
    const acked: number[] = [];
    let status = 204;
    for (let i = 0; status === 204 && i < 100; i++) {
      const res = await post(`${relay.url}/write?db=test`, lines('full', i * 2000, 2000));
      status = res.status;
      if (status === 204) acked.push(i);
      else assert.match((res.json as { error: string }).error, /spool|full/i);
    }
    assert.equal(status, 503);
    assert.ok(acked.length > 0);
    const h = await get(`${relay.url}/health`);
    assert.equal(h.status, 503, 'a relay that cannot take writes says so to the load balancer');
    await b.restart();
    const expected = acked.length * 2000;
    await eventually(async () => assert.equal(await count(b, 'full'), expected), 30_000);
    assert.equal(await count(a, 'full'), expected, 'the refused write reached no backend');
  });

  test('spool full with when-full = drop-oldest: the down backend drops its oldest, counted; the other keeps everything', async () => {
    const [a, b] = await backends();
    await b.kill();
    const relay = await spooledRelay(a, b, 'full-drop', { 'spool-max-mb': 1, 'when-full': 'drop-oldest' });
    // ~1.7 MB of line protocol into a 1 MB spool.
    const pad = 'x'.repeat(100);
    for (let i = 0; i < 6; i++) {
      const res = await post(`${relay.url}/write?db=test`, lines('drop', i * 2000, 2000).replaceAll(' v=', ` pad="${pad}",v=`));
      assert.equal(res.status, 204, res.body);
    }
    await eventually(async () => assert.equal(await count(a, 'drop'), 12_000));
    const m = await get(`${relay.url}/metrics`);
    const dropped = /influx_relay_backend_points_dropped_total\{backend="influxdb-b",reason="spool-full"\} (\d+)/.exec(m.body);
    assert.ok(dropped && Number(dropped[1]) > 0, `drops are counted per backend and reason:\n${m.body.split('\n').filter((l) => l.includes('dropped')).join('\n')}`);
  });

  test('a backend down for the whole test: the other stays current and the relay\'s memory stays bounded', async () => {
    const [a, b] = await backends();
    await b.kill();
    const relay = await spooledRelay(a, b, 'bounded', { 'spool-max-mb': 512 });
    const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${relay.pid}/status`, 'utf8'))![1]) / 1024;
    const pad = 'x'.repeat(150);
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      const body = Array.from({ length: 5000 }, (_, j) => `bounded,host=h${j % 50} id=${i * 5000 + j}i,v=${j}i,pad="${pad}" ${1700000000000000000n + BigInt(i * 5000 + j)}`).join('\n');
      const res = await post(`${relay.url}/write?db=test`, body);
      assert.equal(res.status, 204, res.body);
      peak = Math.max(peak, await rss());
    }
    await eventually(async () => assert.equal(await count(a, 'bounded'), 150_000), 60_000);
    const h = await get(`${relay.url}/health`);
    const bHealth = (h.json as { backends: Array<{ name: string; queueBytes: number; state: string }> }).backends.find((x) => x.name === 'influxdb-b')!;
    assert.ok(bHealth.queueBytes > 25 * 1024 * 1024, `B's backlog is on disk: ${bHealth.queueBytes} bytes`);
    assert.equal(bHealth.state, 'down');
    assert.ok(peak < 400, `relay RSS stayed bounded: peak ${peak.toFixed(0)} MiB while ~${(bHealth.queueBytes / 1048576).toFixed(0)} MiB waited for B`);
  });
});
