/**
 * The whole HA stack (`make up`'s topology, test/helpers/ha-stack.ts): real HAProxy in front of two built relays and
 * two real influxd. Every write and read goes through HAProxy's ports; outcomes are checked on each influxd directly.
 * Covers: mirroring through HAProxy, reads, a relay stopped (writes move to the other), and a database killed and
 * brought back (reads keep answering, writes keep being accepted, the missed points arrive, and the database is kept
 * out of the read pool until the relays report it caught up), and a relay killed with -9 during a database outage
 * (its spooled backlog survives: both databases end up with the same points).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InfluxDB, type IPoint } from 'influx';
import { eventually } from '../helpers/eventually.js';
import { HAPROXY_BIN, startHaStack, type HaStack, type StackDatabase, type StackRelay } from '../helpers/ha-stack.js';
import { get } from '../helpers/http.js';
import { freePorts } from '../helpers/ports.js';
import { REPO_ROOT } from '../helpers/relay.js';

const T0 = Date.UTC(2024, 0, 1);
const SKIP = !existsSync(HAPROXY_BIN) && `skipped: ${HAPROXY_BIN} is not installed (Debian package haproxy)`;
let stack: HaStack;

/** node-influx through HAProxy; maxRetries 0 so that a failure shows instead of being retried on the same host. */
function client(): InfluxDB {
  return new InfluxDB({ host: '127.0.0.1', port: stack.port, database: stack.database, pool: { maxRetries: 0, requestTimeout: 5000 } });
}

function points(measurement: string, from: number, n: number): IPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement,
    tags: { stack: 'ha' },
    fields: { seq: from + i },
    timestamp: new Date(T0 + from + i),
  }));
}

function countIn(json: unknown): number {
  const v = (json as { results?: Array<{ series?: Array<{ values?: unknown[][] }> }> } | undefined)?.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

/** count(seq) read through HAProxy's /query: throws unless HAProxy answers 200. */
async function countThroughHaproxy(measurement: string): Promise<number> {
  const q = encodeURIComponent(`SELECT count("seq") FROM "${measurement}"`);
  const res = await get(`${stack.url}/query?db=${stack.database}&q=${q}`, { timeoutMs: 5000 });
  assert.equal(res.status, 200, `read through HAProxy: ${res.body}`);
  return countIn(res.json);
}

async function countOn(db: StackDatabase, measurement: string): Promise<number> {
  return countIn(await db.influxd.query(`SELECT count("seq") FROM "${measurement}"`, { db: stack.database }));
}

/** Polls until both databases hold exactly n points of the measurement. */
async function landsOnBoth(measurement: string, n: number): Promise<void> {
  await eventually(async () => {
    for (const db of stack.databases) assert.equal(await countOn(db, measurement), n, `${db.name}: ${measurement}`);
  }, 15_000);
}

async function stot(backend: string, server: string): Promise<number> {
  const row = (await stack.stats()).find((r) => r['pxname'] === backend && r['svname'] === server);
  return Number(row?.['stot'] ?? NaN);
}

describe('the HA stack, through HAProxy only', { skip: SKIP }, () => {
  before(async () => {
    // A short backoff cap: a database that comes back is retried within a second.
    stack = await startHaStack({ links: true, output: { 'max-delay-interval': '1s' } });
  });
  after(async () => {
    await stack?.destroy();
  });

  test('writes with node-influx land on both databases, balanced across both relays', async () => {
    const influx = client();
    for (let i = 0; i < 4; i++) await influx.writePoints(points('ha_write', i * 5, 5), { precision: 'ms' });
    await landsOnBoth('ha_write', 20);
    for (const r of stack.relays) assert.ok((await stot('writes', r.name)) > 0, `${r.name} took no write`);
  });

  test('a query through HAProxy answers with the data', async () => {
    const q = encodeURIComponent('SELECT "seq" FROM "ha_write" ORDER BY time');
    const res = await get(`${stack.url}/query?db=${stack.database}&q=${q}&epoch=ms`);
    assert.equal(res.status, 200, res.body);
    const values = (res.json as { results: Array<{ series: Array<{ values: Array<[number, number]> }> }> }).results[0]?.series[0]?.values;
    assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => [T0 + i, i]));
  });

  test('raw line protocol on HAProxy\'s TCP port lands on both databases', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `ha_tcp seq=${i}i ${(T0 + i) * 1e6}\n`).join('');
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: stack.tcpPort }, () => sock.end(lines));
      sock.on('error', reject).on('close', () => resolve());
    });
    await landsOnBoth('ha_tcp', 10);
  });

  test('Netdata\'s protocols through HAProxy: OpenTSDB telnet, POST /api/put on the HTTP port, Graphite TCP: on both databases', async () => {
    const t = Math.floor(T0 / 1000);
    const send = (port: number, data: string) => new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port }, () => sock.end(data));
      sock.on('error', reject).on('close', () => resolve());
    });
    await send(stack.opentsdbPort, Array.from({ length: 5 }, (_, i) => `put netdata.ha.telnet ${t + i} ${i} host=ha\n`).join(''));
    await send(stack.graphitePort, Array.from({ length: 4 }, (_, i) => `netdata.ha.graphite;host=ha ${i} ${t + i}\n`).join(''));
    const body = JSON.stringify(Array.from({ length: 3 }, (_, i) => ({ metric: 'netdata.ha.http', timestamp: t + i, value: i, tags: { host: 'ha' } })));
    const res = await fetch(`${stack.url}/api/put`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 204, await res.text());
    const db = stack.netdataDatabase;
    await eventually(async () => {
      for (const d of stack.databases) {
        for (const [m, n] of [['netdata.ha.telnet', 5], ['netdata.ha.graphite;host=ha', 4], ['netdata.ha.http', 3]] as const) {
          assert.equal(await d.influxd.count(db, m, 'value'), n, `${d.name}: ${m}`);
        }
      }
    }, 15_000);
    for (const backend of ['writes_opentsdb', 'writes_graphite', 'writes_api_put']) {
      const taken = (await Promise.all(stack.relays.map((r) => stot(backend, r.name)))).reduce((x, y) => x + y, 0);
      assert.ok(taken > 0, `HAProxy's ${backend} carried nothing`);
    }
  });

  test('a relay stopped with SIGTERM: writes move to the other relay and land on both databases', async () => {
    const [stopped, other] = stack.relays as [(typeof stack.relays)[0], (typeof stack.relays)[0]];
    const exit = stopped.stop(); // SIGTERM by PID: it drains, then exits
    // Until HAProxy has noticed, a write may fail: retry each one (fresh client, so no host is held back).
    let seq = 0;
    const deadline = Date.now() + 8000;
    while ((await stack.serverStatus('writes', stopped.name)) !== 'DOWN') {
      assert.ok(Date.now() < deadline, 'HAProxy never took the stopped relay out of the write pool');
      const batch = points('ha_failover', seq, 1);
      if (await client().writePoints(batch, { precision: 'ms' }).then(() => true, () => false)) seq++;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await exit, 0, `the relay should drain and exit 0:\n${stopped.process.logs().slice(-2000)}`);
    // From now on every write must succeed, through the remaining relay.
    const before = await stot('writes', other.name);
    const influx = client();
    for (let i = 0; i < 20; i++, seq++) await influx.writePoints(points('ha_failover', seq, 1), { precision: 'ms' });
    assert.ok((await stot('writes', other.name)) - before >= 20, 'the writes should have gone to the remaining relay');
    await landsOnBoth('ha_failover', seq);

    // Back to two relays for what follows.
    await stopped.start();
    for (const backend of ['writes', 'relays_alive', 'fresh_influxdb-a', 'fresh_influxdb-b']) await stack.waitForServer(backend, stopped.name, 'UP');
  });

  test('a database killed and brought back: reads and writes go on; it catches up and only then serves reads again', async () => {
    const [, b] = stack.databases as [StackDatabase, StackDatabase];
    const m = 'ha_outage';
    const influx = client();
    await influx.writePoints(points(m, 0, 10), { precision: 'ms' });
    await landsOnBoth(m, 10);

    await b.influxd.kill();
    // Writes keep being accepted (the relays queue them for influxdb-b), reads keep answering from influxdb-a.
    let total = 10;
    const outageEnd = Date.now() + 1500;
    while (Date.now() < outageEnd) {
      await influx.writePoints(points(m, total, 5), { precision: 'ms' });
      total += 5;
      assert.ok((await countThroughHaproxy(m)) >= 10);
      await new Promise((r) => setTimeout(r, 50));
    }
    await eventually(async () => assert.equal(await countOn(stack.databases[0] as StackDatabase, m), total));
    await stack.waitForServer('reads_any', b.name, 'DOWN');
    await stack.waitForServer('reads_fresh', b.name, 'DOWN');
    assert.equal(await countThroughHaproxy(m), total);
    for (const r of stack.relays) assert.equal(await r.backendStatus(b.name), 503, `${r.name} should report ${b.name} behind`);

    // Bring it back while the relays still cannot reach it (their link is cut): it answers /ping, so HAProxy sees it
    // up, but every relay still holds its backlog and reports it behind. It must get no read in the meantime.
    b.link?.cut();
    await b.influxd.restart();
    await stack.waitForServer('reads_any', b.name, 'UP');
    assert.ok((await countOn(b, m)) < total, 'influxdb-b should be missing the outage points');
    const served = await stot('reads_fresh', b.name);
    const hold = Date.now() + 2000; // 4 health-check intervals
    while (Date.now() < hold) {
      assert.notEqual(await stack.serverStatus('reads_fresh', b.name), 'UP', 'a database the relays report behind must not be in the read pool');
      assert.equal((await get(`${stack.freshnessUrl}/fresh/${b.name}`)).status, 503);
      assert.equal(await countThroughHaproxy(m), total, 'a read was answered by the stale replica');
      for (const r of stack.relays) assert.equal(await r.backendStatus(b.name), 503);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await stot('reads_fresh', b.name), served, 'reads were sent to the stale replica');

    // Heal: the relays replay their backlogs, the missed points arrive, and then (only then) it rejoins the read pool.
    b.link?.heal();
    const rejoinBy = Date.now() + 15_000;
    for (;;) {
      // Stats first, then the relays: a relay that reported caught up stays so, so UP before 200 would be a bug.
      const inPool = (await stack.serverStatus('reads_fresh', b.name)) === 'UP';
      const reports = await Promise.all(stack.relays.map((r) => r.backendStatus(b.name)));
      if (inPool) {
        assert.deepEqual(reports, [200, 200], 'influxdb-b rejoined the read pool while a relay still reported it catching up');
        break;
      }
      assert.equal(await countThroughHaproxy(m), total, 'a read was answered by the stale replica');
      assert.ok(Date.now() < rejoinBy, 'influxdb-b never rejoined the read pool');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await countOn(b, m), total, 'the missed points should have arrived on influxdb-b');

    // It serves reads again, with every point.
    const before = await stot('reads_fresh', b.name);
    for (let i = 0; i < 10; i++) assert.equal(await countThroughHaproxy(m), total);
    assert.ok((await stot('reads_fresh', b.name)) > before, 'influxdb-b should serve reads again');
  });

  test('influxdb-b killed -9 under load, relay-1 killed -9 and restarted meanwhile: afterwards both hold the same points, every acknowledged one', async () => {
    const [r1] = stack.relays as [StackRelay, StackRelay];
    const [a, b] = stack.databases as [StackDatabase, StackDatabase];
    const m = 'ha_crash';
    const BATCH = 50;
    // Load through HAProxy until told to stop: each batch has its own timestamps, so a point is counted once.
    let next = 0;
    let acked = 0;
    let stopLoad = false;
    const load = (async () => {
      while (!stopLoad) {
        const batch = points(m, next, BATCH);
        next += BATCH;
        if (await client().writePoints(batch, { precision: 'ms' }).then(() => true, () => false)) acked += BATCH;
      }
    })();
    const ackedGrows = async (by: number): Promise<void> => {
      const target = acked + by;
      await eventually(async () => assert.ok(acked >= target, `${acked} of ${target} points acknowledged`), 20_000, 20);
    };
    try {
      await ackedGrows(500);
      await b.influxd.kill(); // SIGKILL
      await ackedGrows(1000); // the relays hold this for influxdb-b
      await r1.kill9(); // a crash: with memory queues its backlog for influxdb-b would be gone for good
      await ackedGrows(500); // through relay-2 alone once HAProxy has noticed
      await r1.start(); // same config and spool
      await stack.waitForServer('writes', r1.name, 'UP');
      await ackedGrows(500);
    } finally {
      stopLoad = true;
      await load;
    }
    await b.influxd.restart();
    await eventually(async () => {
      const [onA, onB] = [await countOn(a, m), await countOn(b, m)];
      assert.equal(onB, onA, `influxdb-a has ${onA} points, influxdb-b ${onB}`);
      assert.ok(onA >= acked && onA <= next, `${onA} points stored, ${acked} acknowledged, ${next} sent`);
    }, 30_000, 200);
  });
});

/** `make up`, `make restart-relay` and `make down` themselves (scripts/), on free ports and a temp run dir. */
describe('make up / restart-relay / down', { skip: SKIP }, () => {
  const names = ['INFLUX_A_PORT', 'INFLUX_B_PORT', 'INFLUX_A_RPC_PORT', 'INFLUX_B_RPC_PORT', 'RELAY_1_PORT', 'RELAY_1_TCP_PORT',
    'RELAY_2_PORT', 'RELAY_2_TCP_PORT', 'HAPROXY_PORT', 'HAPROXY_TCP_PORT', 'HAPROXY_STATS_PORT', 'HAPROXY_FRESHNESS_PORT', 'STATUS_PORT', 'PROMETHEUS_PORT',
    'RELAY_1_OPENTSDB_PORT', 'RELAY_2_OPENTSDB_PORT', 'RELAY_1_GRAPHITE_PORT', 'RELAY_2_GRAPHITE_PORT', 'HAPROXY_OPENTSDB_PORT', 'HAPROXY_GRAPHITE_PORT'] as const;
  let run = '';
  let env: NodeJS.ProcessEnv = {};
  const script = (name: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile('bash', [path.join(REPO_ROOT, 'scripts', name), ...args], { env: { ...env, ...extra }, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, output: stdout + stderr }));
    });
  const pidOf = async (name: string) => Number((await readFile(path.join(run, `${name}.pid`), 'utf8')).trim());
  const writeThrough = async (line: string) => {
    const res = await fetch(`http://127.0.0.1:${env['HAPROXY_PORT']}/write?db=telegraf`, { method: 'POST', body: line, headers: { connection: 'close' } });
    await res.arrayBuffer();
    return res.status;
  };

  before(async () => {
    run = await mkdtemp(path.join(tmpdir(), 'make-up-'));
    const ports = await freePorts(names.length);
    env = { ...process.env, UP_RUN_DIR: run, ...Object.fromEntries(names.map((n, i) => [n, String(ports[i])])) };
  });
  after(async () => {
    if (run === '') return;
    await script('down.sh');
    await rm(run, { recursive: true, force: true });
  });

  test('the relays spool; restart-relay brings relay-1 back on the same spool and PID file (KILL: a crash; default: drained, no write fails); down stops all', async () => {
    const up = await script('up.sh');
    assert.equal(up.code, 0, up.output);
    for (const n of [1, 2]) assert.match(await readFile(path.join(run, `relay-${n}.toml`), 'utf8'), new RegExp(`^spool-dir = "${run}/relay-${n}/spool"$`, 'm'));
    assert.equal(await writeThrough('up_restart seq=1i 1700000000000000000'), 204);
    // Netdata's ports, printed, and a line through each landing in database netdata on both influxd.
    assert.match(up.output, new RegExp(`127\\.0\\.0\\.1:${env['HAPROXY_OPENTSDB_PORT']} +OpenTSDB telnet[\\s\\S]*127\\.0\\.0\\.1:${env['HAPROXY_GRAPHITE_PORT']} +Graphite`));
    for (const [port, line] of [[env['HAPROXY_OPENTSDB_PORT'], 'put up.netdata 1700000000 1 host=up\n'], [env['HAPROXY_GRAPHITE_PORT'], 'up.graphite 2 1700000000\n']] as const) {
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port: Number(port) }, () => sock.end(line));
        sock.on('error', reject).on('close', () => resolve());
      });
    }
    await eventually(async () => {
      for (const p of [env['INFLUX_A_PORT'], env['INFLUX_B_PORT']]) {
        const q = encodeURIComponent('SELECT count(value) FROM "up.netdata", "up.graphite"');
        const series = ((await get(`http://127.0.0.1:${p}/query?db=netdata&q=${q}`)).json as { results: Array<{ series?: unknown[] }> }).results[0]?.series ?? [];
        assert.equal(series.length, 2, `influxd :${p}: ${JSON.stringify(series)}`);
      }
    }, 15_000, 200);

    // Observed out of the box: the cluster page, and Prometheus scraping both relays and HAProxy with the rules loaded.
    const statusUrl = `http://127.0.0.1:${env['STATUS_PORT']}`;
    const promUrl = `http://127.0.0.1:${env['PROMETHEUS_PORT']}`;
    assert.match(up.output, new RegExp(`status +${statusUrl}/[\\s\\S]*metrics +${promUrl}/`));
    assert.match((await get(`${statusUrl}/`)).body, /<title>influx-relay cluster<\/title>/);
    await eventually(async () => {
      const targets = (await get(`${promUrl}/api/v1/targets`)).json as { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } };
      const up = targets.data.activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job).sort();
      assert.deepEqual(up, ['haproxy', 'influx-relay', 'influx-relay']);
    }, 30_000, 500);
    const rules = (await get(`${promUrl}/api/v1/rules`)).json as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
    assert.ok(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name)).includes('InfluxRelayBacklogOld'));

    // make drain / make ready: relay-1 leaves HAProxy's write pool (writes keep succeeding on relay-2) and comes back.
    const haproxyView = async (relay: string) => {
      const s = (await get(`${statusUrl}/cluster.json`)).json as { relays: Array<{ name: string; haproxy?: { status: string } }> };
      return s.relays.find((r) => r.name === relay)?.haproxy?.status;
    };
    const drained = await script('drain.sh', ['drain', 'relay-1']);
    assert.equal(drained.code, 0, drained.output);
    assert.equal(await haproxyView('relay-1'), 'DRAIN');
    for (let i = 0; i < 4; i++) assert.equal(await writeThrough(`up_drain seq=${i}i ${1700000000000000000 + i}`), 204);
    const ready = await script('drain.sh', ['ready', 'relay-1']);
    assert.equal(ready.code, 0, ready.output);
    await eventually(async () => assert.equal(await haproxyView('relay-1'), 'UP'), 10_000, 200);

    // make reload-haproxy: a new HAProxy takes over the sockets (-sf) while writes stream; none fails.
    const oldHaproxy = await pidOf('haproxy');
    let reloading = true;
    const during: number[] = [];
    const writes = (async () => {
      for (let i = 0; reloading; i++) during.push(await writeThrough(`up_reload seq=${i}i ${1700000000000000000 + i}`).catch(() => 0));
    })();
    const reloaded = await script('reload-haproxy.sh');
    reloading = false;
    await writes;
    assert.equal(reloaded.code, 0, reloaded.output);
    assert.notEqual(await pidOf('haproxy'), oldHaproxy, 'a new HAProxy runs');
    assert.ok(!existsSync(`/proc/${oldHaproxy}`) || (await readFile(`/proc/${oldHaproxy}/stat`, 'utf8')).split(' ')[2] === 'Z', 'the old one is gone');
    assert.ok(during.length > 0);
    assert.deepEqual(during.filter((s) => s !== 204), [], 'a write failed during the HAProxy reload');

    const before = await pidOf('relay-1');
    const restarted = await script('restart-relay.sh', ['1'], { SIGNAL: 'KILL' });
    assert.equal(restarted.code, 0, restarted.output);
    const after = await pidOf('relay-1');
    assert.notEqual(after, before);
    assert.ok(!existsSync(`/proc/${before}`) || (await readFile(`/proc/${before}/stat`, 'utf8')).split(' ')[2] === 'Z', 'the old relay is gone');
    assert.equal((await get(`http://127.0.0.1:${env['RELAY_1_PORT']}/health`)).status, 200);
    assert.ok(existsSync(path.join(run, 'relay-1', 'spool', 'http')), 'relay-1 spools in run/relay-1/spool');

    // The rolling restart (SIGNAL=TERM): drained at HAProxy first, so a stream of writes meanwhile never fails.
    let writing = true;
    const statuses: number[] = [];
    const stream = (async () => {
      for (let i = 0; writing; i++) statuses.push(await writeThrough(`up_roll seq=${i}i ${1700000000000000000 + i}`).catch(() => 0));
    })();
    const rolled = await script('restart-relay.sh', ['1']);
    writing = false;
    await stream;
    assert.equal(rolled.code, 0, rolled.output);
    assert.match(rolled.output, /set to drain at HAProxy[\s\S]*back in HAProxy's write pool/);
    assert.ok(statuses.length > 0);
    assert.deepEqual(statuses.filter((s) => s !== 204), [], 'a write failed during the drained restart');
    const rolledPid = await pidOf('relay-1');

    const down = await script('down.sh');
    assert.equal(down.code, 0, down.output);
    assert.notEqual(rolledPid, after);
    assert.match(down.output, new RegExp(`stopped relay-1 \\(pid ${rolledPid}\\)`), 'make down knows the restarted relay');
    assert.deepEqual((await readdir(run)).filter((f) => f.endsWith('.pid')), []);
  });
});
