// Real HAProxy, running the config we generate, in front of tiny node servers playing two relays and two InfluxDB
// servers. Asserts where requests land, and that a database a relay reports as catching up leaves the read pool.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildConfig } from '../../../src/haproxy/build.js';
import { validateCluster } from '../../../src/haproxy/load.js';
import { renderConfig } from '../../../src/haproxy/render.js';
import { SKIP_NO_HAPROXY, startHaproxy, withTempDir } from './haproxy-bin.js';
import type { RunningHaproxy } from './haproxy-bin.js';
import { eventually } from '../../helpers/eventually.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  /** Set by HAProxy's `option forwardfor` on client traffic; health checks do not carry it. */
  readonly forwarded: boolean;
}

class StubRelay {
  health = 200;
  readonly backendStatus = new Map<string, number>();
  readonly seen: Seen[] = [];
  readonly tcpBytes: string[] = [];
  readonly http: http.Server;
  readonly tcp: net.Server;

  constructor(readonly name: string) {
    this.http = http.createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const url = req.url ?? '';
        if (url === '/health') return void res.writeHead(this.health).end();
        const backend = /^\/health\/backends\/(.+)$/.exec(url)?.[1];
        if (backend !== undefined) return void res.writeHead(this.backendStatus.get(backend) ?? 200, { 'content-type': 'application/json' }).end('{}');
        this.seen.push({ method: req.method ?? '', url, body, forwarded: req.headers['x-forwarded-for'] !== undefined });
        if (url.includes('hang=1')) return; // a hung relay: never answers this write
        res.writeHead(204, { 'x-served-by': this.name }).end();
      });
    });
    this.tcp = net.createServer((sock) => sock.on('data', (b: Buffer) => this.tcpBytes.push(b.toString())));
  }
}

class StubDatabase {
  readonly seen: Seen[] = [];
  readonly http: http.Server;

  constructor(readonly name: string) {
    this.http = http.createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        const url = req.url ?? '';
        const forwarded = req.headers['x-forwarded-for'] !== undefined;
        if (url === '/ping' && !forwarded) return void res.writeHead(204).end();
        this.seen.push({ method: req.method ?? '', url, body, forwarded });
        res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': this.name }).end('{"results":[]}');
      });
    });
  }
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port free right now: HAProxy binds it a moment later. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

describe('generated haproxy.cfg in front of stub relays and databases', { skip: SKIP_NO_HAPROXY }, () => {
  const relays = [new StubRelay('relay-1'), new StubRelay('relay-2')];
  const dbs = [new StubDatabase('influxdb-a'), new StubDatabase('influxdb-b')];
  const ports = { http: 0, tcp: 0, stats: 0, freshness: 0 };
  let haproxy: RunningHaproxy | undefined;
  let cleanupDir: (() => void) | undefined;

  const statsAuth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  const url = (path: string) => `http://127.0.0.1:${ports.http}${path}`;
  const query = async (q: string, init: RequestInit = {}) => {
    const res = await fetch(url(`/query?q=${encodeURIComponent(q)}`), { ...init, headers: { connection: 'close' } });
    await res.arrayBuffer();
    return res;
  };
  const fresh = async (db: string) => (await fetch(`http://127.0.0.1:${ports.freshness}/fresh/${db}`)).status;
  /** A server's status column from the stats CSV: UP, DOWN, ... */
  const serverStatus = async (backend: string, srv: string) => {
    const csv = await (await fetch(`http://127.0.0.1:${ports.stats}/stats;csv`, { headers: statsAuth })).text();
    const row = csv.split('\n').find((line) => line.startsWith(`${backend},${srv},`));
    return row?.split(',')[17] ?? 'missing';
  };
  const servedBy = async (n: number) => {
    const names = new Set<string>();
    for (let i = 0; i < n; i++) names.add((await query('SELECT 1')).headers.get('x-served-by') ?? '');
    return [...names].sort();
  };

  before(async () => {
    const relayPorts = await Promise.all(relays.map(async (r) => ({ http: await listen(r.http), tcp: await listen(r.tcp) })));
    const dbPorts = await Promise.all(dbs.map((d) => listen(d.http)));
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    const cluster = validateCluster({
      relays: relays.map((r, i) => ({ name: r.name, address: `127.0.0.1:${relayPorts[i]?.http}`, 'tcp-address': `127.0.0.1:${relayPorts[i]?.tcp}` })),
      databases: dbs.map((d, i) => ({ name: d.name, address: `127.0.0.1:${dbPorts[i]}` })),
      http: { bind: `127.0.0.1:${ports.http}` },
      tcp: { bind: `127.0.0.1:${ports.tcp}` },
      stats: { bind: `127.0.0.1:${ports.stats}`, password: 'pw' },
      freshness: { port: ports.freshness },
      balance: { reads: 'roundrobin' },
      // Fast enough for a test, slow enough that a busy 2-core machine does not miss a check (timeout = inter).
      health: { inter: '250ms', fall: 2, rise: 1 },
      // Short, so the hung-write test waits 1 s, not the default 5 s.
      timeouts: { 'write-server': '1s' },
    });
    const cfg = renderConfig(buildConfig(cluster));
    // The temp dir must outlive before(): keep it until after() by parking withTempDir on a promise.
    let started!: () => void;
    const done = new Promise<void>((resolve) => (cleanupDir = resolve));
    await new Promise<void>((resolve, reject) => {
      started = resolve;
      withTempDir(async (dir) => {
        haproxy = await startHaproxy(cfg, dir);
        started();
        await done;
      }).catch(reject);
    });
    await eventually(async () => assert.ok((await fetch(url('/ping'))).status === 204, 'HAProxy answers /ping'), 8000)
      .catch((err: Error) => assert.fail(`${err.message}\nHAProxy said:\n${haproxy?.log() ?? ''}`));
    for (const r of relays) await eventually(async () => assert.ok((await serverStatus('writes', r.name)) === 'UP', `${r.name} is in the write pool`), 8000);
    await eventually(async () => assert.ok((await fresh('influxdb-a')) === 200 && (await fresh('influxdb-b')) === 200, 'both databases are fresh'), 8000);
  });

  after(async () => {
    await haproxy?.stop();
    cleanupDir?.();
    await Promise.all([...relays.flatMap((r) => [close(r.http), close(r.tcp)]), ...dbs.map((d) => close(d.http))]);
  });

  test('GET and HEAD /ping are answered by HAProxy with 204 and X-Influxdb-Version, no database sees them', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(url('/ping'), { method });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('x-influxdb-version'), '1.8.10');
      assert.equal(res.headers.get('x-served-by'), null);
    }
    const verbose = await fetch(url('/ping?verbose=true'));
    assert.equal(verbose.status, 200);
    assert.deepEqual(await verbose.json(), { version: '1.8.10' });
    assert.equal(dbs.flatMap((d) => d.seen).filter((s) => s.url.startsWith('/ping')).length, 0);
  });

  test('POST /write and /api/v2/write reach the relays, body and query string intact, balanced across both', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(url(`/write?db=telegraf&precision=s`), { method: 'POST', body: `cpu value=${i} 1700000000\n`, headers: { connection: 'close' } });
      assert.equal(res.status, 204);
    }
    const v2 = await fetch(url('/api/v2/write?bucket=telegraf'), { method: 'POST', body: 'mem used=1\n' });
    assert.equal(v2.status, 204);
    const writes = relays.flatMap((r) => r.seen);
    assert.deepEqual(writes.filter((s) => s.url.startsWith('/write')).map((s) => s.body).sort(),
      [0, 1, 2, 3].map((i) => `cpu value=${i} 1700000000\n`));
    assert.ok(writes.every((s) => s.forwarded && s.method === 'POST'));
    assert.ok(relays.every((r) => r.seen.length > 0), 'roundrobin should use both relays');
    assert.equal(dbs.flatMap((d) => d.seen).length, 0, 'no write may reach a database directly');
  });

  test('GET and POST /query reach the databases, balanced across both', async () => {
    assert.deepEqual(await servedBy(4), ['influxdb-a', 'influxdb-b']);
    const post = await fetch(url('/query'), { method: 'POST', body: new URLSearchParams({ q: 'SELECT * FROM cpu', db: 'telegraf' }) });
    assert.equal(post.status, 200);
    assert.ok(dbs.flatMap((d) => d.seen).some((s) => s.method === 'POST' && s.body.includes('q=SELECT')));
    assert.equal(relays.flatMap((r) => r.seen).filter((s) => s.url.startsWith('/query')).length, 0);
  });

  test('wrong methods and unknown paths are refused at HAProxy', async () => {
    const before = dbs.flatMap((d) => d.seen).length;
    assert.equal((await fetch(url('/write'))).status, 405);
    assert.equal((await fetch(url('/debug/vars'))).status, 404);
    assert.equal(dbs.flatMap((d) => d.seen).length, before, 'no refused request may reach a database');
  });

  test('a query that might change state goes to a relay: keywords anywhere, comments, unreadable bodies; plain reads do not', async () => {
    const atRelays = () => relays.flatMap((r) => r.seen).filter((s) => s.url.startsWith('/query')).length;
    const atDbs = () => dbs.flatMap((d) => d.seen).length;
    const form = new FormData();
    form.set('q', 'CREATE DATABASE x');
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, () => Promise<Response>][] = [
      ['CREATE DATABASE', () => query('CREATE DATABASE x')],
      ['DROP after a ;', () => fetch(url('/query?q=SELECT+1%3B+DROP+DATABASE+x'))],
      ['POSTed DROP MEASUREMENT', () => fetch(url('/query'), { method: 'POST', body: new URLSearchParams({ q: 'DROP MEASUREMENT cpu' }) })],
      ['SELECT INTO', () => query('SELECT mean(value) INTO cpu_1h FROM cpu')],
      ['a leading line comment', () => query('-- x\nSHOW DATABASES')],
      ['a block comment', () => query('SELECT 1 /* c */')],
      ['q spelled %71', () => fetch(url('/query?%71=CREATE+DATABASE+x'))],
      ['q after a ; separator', () => fetch(url('/query?db=x;q=CREATE+DATABASE+x'))],
      ['a keyword in quotes', () => query("SELECT * FROM cpu WHERE host = 'into'")],
      ['a dotted capital I (Go folds İNTO to into)', () => query('SELECT v \u0130NTO y FROM cpu')],
      ['an undecodable escape elsewhere', () => fetch(url('/query?q=%43REATE+DATABASE+x&z=%zz'))],
      ['a multipart body', () => fetch(url('/query'), { method: 'POST', body: form })],
      ['a compressed body', () => fetch(url('/query'), { method: 'POST', body: 'q=SELECT+1', headers: { ...formHeaders, 'content-encoding': 'gzip' } })],
      ['q beyond what HAProxy buffers', () => fetch(url('/query'), { method: 'POST', body: new URLSearchParams({ pad: 'x'.repeat(40_000), q: 'SHOW DATABASES' }) })],
      ['a bare ; in a body', () => fetch(url('/query'), { method: 'POST', body: 'db=x;q=CREATE DATABASE x', headers: formHeaders })],
    ];
    const dbsBefore = atDbs();
    for (const [what, send] of cases) {
      const before = atRelays();
      const res = await send();
      await res.arrayBuffer();
      assert.equal(res.status, 204, what); // the stub relay's answer
      assert.equal(atRelays(), before + 1, what);
    }
    assert.equal(atDbs(), dbsBefore, 'none of them may reach a database directly');

    const relaysBefore = atRelays();
    for (const q of ["SELECT * FROM cpu WHERE host = 'a'", 'SHOW DATABASES', 'SELECT "value" FROM "cpu" GROUP BY time(1m)']) {
      assert.equal((await query(q)).status, 200, q);
      const post = await fetch(url('/query'), { method: 'POST', body: new URLSearchParams({ q }) });
      assert.equal(post.status, 200, `POST ${q}`);
      await post.arrayBuffer();
    }
    assert.equal(atDbs(), dbsBefore + 6, 'plain reads go to the databases');
    assert.equal(atRelays(), relaysBefore);
  });

  test('a relay that hangs on a write: HAProxy answers 504 in JSON after timeouts.write-server', async () => {
    const res = await fetch(url('/write?db=x&hang=1'), { method: 'POST', body: 'm v=1\n', headers: { connection: 'close' } });
    assert.equal(res.status, 504);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { error: 'no answer from the relay or database in time' });
  });

  test('with no relay up, /ping and writes answer 503 in JSON with Retry-After; /ping is 204 again when one is back', async () => {
    for (const r of relays) r.health = 503;
    try {
      await eventually(async () => assert.ok((await serverStatus('writes', 'BACKEND')) === 'DOWN', 'both relays leave the write pool'), 8000);
      for (const path of ['/ping', '/ping?verbose=true']) {
        const ping = await fetch(url(path));
        assert.equal(ping.status, 503, path);
        assert.equal(ping.headers.get('retry-after'), '5');
        assert.equal(ping.headers.get('x-influxdb-version'), '1.8.10');
        assert.deepEqual(await ping.json(), { error: 'no relay can take writes' });
      }
      const write = await fetch(url('/write?db=x'), { method: 'POST', body: 'm v=1\n', headers: { connection: 'close' } });
      assert.equal(write.status, 503);
      assert.equal(write.headers.get('retry-after'), '5');
      assert.match(write.headers.get('content-type') ?? '', /application\/json/);
      assert.deepEqual(await write.json(), { error: 'no relay or database is available' });
    } finally {
      for (const r of relays) r.health = 200;
    }
    await eventually(async () => assert.ok((await fetch(url('/ping'))).status === 204, '/ping is 204 again'), 8000);
  });

  test('a database that one relay reports as catching up leaves the read pool, and returns when caught up', async () => {
    relays[0]?.backendStatus.set('influxdb-a', 503);
    try {
      await eventually(async () => assert.ok((await fresh('influxdb-a')) === 503, 'influxdb-a is stale'), 8000);
      await eventually(async () => assert.ok((await serverStatus('reads_fresh', 'influxdb-a')).startsWith('DOWN'), 'influxdb-a leaves reads_fresh'), 8000);
      assert.equal(await fresh('influxdb-b'), 200);
      assert.deepEqual(await servedBy(6), ['influxdb-b']);
    } finally {
      relays[0]?.backendStatus.delete('influxdb-a');
    }
    await eventually(async () => assert.ok((await fresh('influxdb-a')) === 200, 'influxdb-a is fresh again'), 8000);
    await eventually(async () => assert.ok((await servedBy(4)).length === 2, 'influxdb-a serves reads again'), 8000);
  });

  test('a relay that refuses writes leaves the write pool but its backlog still counts', async () => {
    const r1 = relays[0];
    assert.ok(r1);
    r1.health = 503;
    r1.backendStatus.set('influxdb-a', 503);
    try {
      await eventually(async () => assert.ok((await serverStatus('writes', 'relay-1')).startsWith('DOWN'), 'relay-1 leaves the write pool'), 8000);
      await eventually(async () => assert.ok((await fresh('influxdb-a')) === 503, 'influxdb-a is stale'), 8000);
      await eventually(async () => assert.ok((await serverStatus('reads_fresh', 'influxdb-a')).startsWith('DOWN'), 'influxdb-a leaves reads_fresh'), 8000);
      assert.equal(await serverStatus('relays_alive', 'relay-1'), 'UP', 'a relay answering 503 is still alive');
      const before = r1.seen.length;
      for (let i = 0; i < 4; i++) {
        assert.equal((await fetch(url('/write?db=x'), { method: 'POST', body: 'm v=1\n', headers: { connection: 'close' } })).status, 204);
      }
      assert.equal(r1.seen.length, before, 'the refusing relay got a write');
      assert.deepEqual(await servedBy(4), ['influxdb-b']);
    } finally {
      r1.health = 200;
      r1.backendStatus.delete('influxdb-a');
    }
    await eventually(async () => assert.ok((await fresh('influxdb-a')) === 200, 'influxdb-a is fresh again'), 8000);
    await eventually(async () => assert.ok((await serverStatus('writes', 'relay-1')) === 'UP', 'relay-1 is back in the write pool'), 8000);
  });

  test('when no database is fresh, reads fall back to every database that answers', async () => {
    relays[1]?.backendStatus.set('influxdb-a', 503);
    relays[1]?.backendStatus.set('influxdb-b', 503);
    try {
      await eventually(async () => assert.ok((await fresh('influxdb-a')) === 503 && (await fresh('influxdb-b')) === 503, 'both are stale'), 8000);
      await eventually(async () => assert.ok((await serverStatus('reads_fresh', 'BACKEND')) === 'DOWN', 'reads_fresh is empty'), 8000);
      assert.deepEqual(await servedBy(4), ['influxdb-a', 'influxdb-b']);
    } finally {
      relays[1]?.backendStatus.clear();
    }
    await eventually(async () => assert.ok((await fresh('influxdb-a')) === 200 && (await fresh('influxdb-b')) === 200, 'both fresh again'), 8000);
  });

  test('raw TCP line protocol reaches a relay TCP listener', async () => {
    const sock = net.connect(ports.tcp, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    sock.end('cpu value=1 1700000000000000000\n');
    await eventually(async () => assert.ok(relays.some((r) => r.tcpBytes.join('').includes('cpu value=1 ')), 'a relay got the line'), 8000);
  });

  test('the stats page needs credentials; /metrics serves HAProxy\'s Prometheus metrics', async () => {
    const stats = `http://127.0.0.1:${ports.stats}`;
    assert.equal((await fetch(`${stats}/stats`)).status, 401);
    const auth = statsAuth;
    const page = await fetch(`${stats}/stats;csv`, { headers: auth });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /^fresh_influxdb-a,relay-1,/m);
    assert.equal((await fetch(`${stats}/metrics`)).status, 401);
    const metrics = await fetch(`${stats}/metrics`, { headers: auth });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^haproxy_process_/m);
  });
});
