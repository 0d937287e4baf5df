// A real Netdata (Debian's netdata-core 1.37, internal collectors only, `update every = 1`) exporting to the relay's
// [[opentsdb]] listener (connectors `opentsdb`, telnet, and `opentsdb:http`, /api/put) and its [[graphite]]
// listener (connector `graphite`); the relay mirrors into two real influxd, which must end up with the same points.
// Then, with the spool on, the relay is killed (-9) while Netdata streams and restarted on the same spool: both
// influxd are equal again, keep growing, and hold every point the relay acknowledged. Last, one agent with all three
// connectors through the HA stack (HAProxy → two relays). Skipped, saying why, where netdata is not installed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { HAPROXY_BIN, startHaStack, type HaStack } from '../helpers/ha-stack.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { netdataMissing, startNetdata, type ExportingInstance, type Netdata } from '../helpers/netdata.js';
import { freePorts } from '../helpers/ports.js';
import { startRelay, type Relay } from '../helpers/relay.js';

const missing = netdataMissing();
if (missing !== undefined) console.log(`# skipping the real-Netdata test: ${missing}`);

/** count(value) per measurement of a database. */
async function counts(s: Influxd, db: string): Promise<Map<string, number>> {
  const res = await s.query('SELECT count(value) FROM /.*/', { db });
  const series = (res.results?.[0]?.series ?? []) as { name: string; values: [unknown, number][] }[];
  return new Map(series.map((x) => [x.name, Number(x.values[0]?.[1] ?? 0)]));
}

/** The idle-jitter chart is collected by Netdata itself every second: one point a second per dimension. */
const JITTER: Record<string, RegExp> = {
  nd_telnet: /^netdata\.system\.idlejitter\.min$/,
  nd_http: /^netdata\.system\.idlejitter\.min$/,
  nd_graphite: /^netdata\.netdata-test\.system\.idlejitter\.min(;|$)/,
};

function jitterCount(c: Map<string, number>, db: string): number {
  const re = JITTER[db]!;
  return [...c].filter(([name]) => re.test(name)).reduce((n, [, v]) => n + v, 0);
}

/**
 * A TCP proxy in front of the relay's /api/put port that notes which points the relay acknowledged: Netdata sends one
 * request at a time and waits for its answer, so the bytes sent since the last answer are what a 2xx acknowledges.
 * Returns the acknowledged timestamps of `metric`, and a close().
 */
async function ackRecorder(target: number, metric: string): Promise<{ port: number; acked: Set<number>; close(): Promise<void> }> {
  const acked = new Set<number>();
  const sockets = new Set<net.Socket>();
  const re = new RegExp(`"metric":"${metric.replace(/\./g, '\\.')}","timestamp":(\\d+)`, 'g');
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    let sent = '';
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => {
      sent += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (/^HTTP\/1\.1 2\d\d/m.test(d.toString('latin1'))) {
        for (const m of sent.matchAll(re)) acked.add(Number(m[1]));
        sent = '';
      }
      client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    acked,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('real Netdata → relay [[opentsdb]]/[[graphite]] → two influxd', { skip: missing, timeout: 240_000 }, () => {
  let a: Influxd;
  let b: Influxd;
  let relay: Relay | undefined;
  let netdata: Netdata | undefined;
  let dir: string;
  let toml: string;
  let ports: { http: number; telnet: number; apiPut: number; graphite: number };

  before(async () => {
    const [http, telnet, apiPut, graphite] = await freePorts(4);
    ports = { http: http!, telnet: telnet!, apiPut: apiPut!, graphite: graphite! };
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    for (const s of [a, b]) for (const db of Object.keys(JITTER)) await s.createDatabase(db);
    const outputs = (kind: string) =>
      [a, b].map((s, i) => `  [[${kind}.output]]\n    name = "influxdb-${i}"\n    location = "${s.url}/write"\n`).join('');
    dir = mkdtempSync(path.join(os.tmpdir(), 'netdata-relay-'));
    toml = `spool-dir = "spool"
shutdown-timeout = "5s"

[[http]]
  bind-addr = "127.0.0.1:${ports.http}"
${outputs('http')}
[[opentsdb]]
  name = "netdata-telnet"
  bind-addr = "127.0.0.1:${ports.telnet}"
  database = "nd_telnet"
${outputs('opentsdb')}
[[opentsdb]]
  name = "netdata-http"
  bind-addr = "127.0.0.1:${ports.apiPut}"
  database = "nd_http"
${outputs('opentsdb')}
[[graphite]]
  name = "netdata-graphite"
  bind-addr = "127.0.0.1:${ports.graphite}"
  database = "nd_graphite"
${outputs('graphite')}`;
    relay = await startRelay({ toml, dir });
  });

  after(async () => {
    await netdata?.stop();
    await relay?.stop();
    await Promise.all([a?.destroy(), b?.destroy()]);
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  /** Both influxd hold the same count per measurement, non-zero, in every database (once Netdata has stopped). */
  async function sameOnBoth(dbs: readonly string[]): Promise<Map<string, number>[]> {
    return eventually(async () => {
      const out: Map<string, number>[] = [];
      for (const db of dbs) {
        const [ca, cb] = await Promise.all([counts(a, db), counts(b, db)]);
        assert.ok(ca.size > 0, `nothing in ${db}`);
        assert.deepEqual([...cb].sort(), [...ca].sort(), `${db}: the two influxd differ`);
        assert.ok([...ca.values()].every((n) => n > 0));
        out.push(ca);
      }
      return out;
    }, 60_000, 250);
  }

  async function growsOnBoth(db: string, atLeast: number): Promise<void> {
    await eventually(async () => {
      const [ca, cb] = await Promise.all([counts(a, db), counts(b, db)]);
      return jitterCount(ca, db) >= atLeast && jitterCount(cb, db) >= atLeast;
    }, 60_000, 250);
  }

  const connectors: [string, string, () => number][] = [
    ['opentsdb', 'nd_telnet', () => ports.telnet],
    ['opentsdb:http', 'nd_http', () => ports.apiPut],
    ['graphite', 'nd_graphite', () => ports.graphite],
  ];

  for (const [connector, db, port] of connectors) {
    test(`connector ${connector}: both influxd end up with the same points`, async () => {
      netdata = startNetdata([{ connector, name: 'relay', destination: `127.0.0.1:${port()}` }]);
      await growsOnBoth(db, 5);
      await netdata.stop();
      netdata = undefined;
      const [c] = await sameOnBoth([db]);
      assert.ok(c!.size > 50, `${db}: only ${c!.size} measurements from Netdata's own charts`);
    });
  }

  test('relay killed -9 mid-stream and restarted on its spool: every acknowledged point on both influxd, and more', async () => {
    // /api/put through a proxy that notes what the relay answered 2xx to; telnet and graphite straight in.
    const recorder = await ackRecorder(ports.apiPut, 'netdata.system.idlejitter.min');
    try {
      const destination = (db: string, port: number) => (db === 'nd_http' ? recorder.port : port);
      const instances: ExportingInstance[] = connectors.map(([connector, db, port]) => ({
        connector,
        name: db,
        destination: `127.0.0.1:${destination(db, port())}`,
        bufferOnFailures: 30,
      }));
      netdata = startNetdata(instances);
      const dbs = connectors.map(([, db]) => db);
      const before = new Map<string, number>();
      for (const db of dbs) {
        await growsOnBoth(db, jitterCount(await counts(a, db), db) + 3);
        before.set(db, jitterCount(await counts(a, db), db));
      }
      const seen = netdata.log().length;
      await relay!.kill9();
      // Netdata notices the relay is gone before it comes back: its log names each destination that failed (refused:
      // `failed to update`; through the proxy, which accepts and then closes: `closed the socket`).
      const failed = (port: number) => new RegExp(`EXPORTING: (failed to update )?'127\\.0\\.0\\.1:${port}'`).test(netdata!.log().slice(seen));
      await eventually(() => {
        const missing = connectors.filter(([, db, port]) => !failed(destination(db, port())));
        if (missing.length > 0) throw new Error(`no failure logged for ${missing.map(([c]) => c).join(', ')}:\n${netdata!.log().slice(seen)}`);
      }, 30_000, 200);
      relay = await startRelay({ toml, dir });
      for (const db of dbs) await growsOnBoth(db, before.get(db)! + 5);
      const log = netdata.log();
      await netdata.stop();
      netdata = undefined;
      await sameOnBoth(dbs);
      const acked = [...recorder.acked].sort();
      assert.ok(acked.length >= 10, `only ${acked.length} acknowledged`);
      for (const s of [a, b]) {
        const res = await s.query('SELECT value FROM "netdata.system.idlejitter.min"', { db: 'nd_http', epoch: 's' });
        const stored = new Set(((res.results?.[0]?.series?.[0]?.values ?? []) as [number, unknown][]).map(([t]) => t));
        const lost = acked.filter((t) => !stored.has(t));
        const exporting = log.split('\n').filter((l) => l.includes('EXPORTING') && !l.includes('INFO')).join('\n');
        assert.deepEqual(lost, [], `acknowledged but not on ${s.url}; netdata's log:\n${exporting}`);
      }
    } finally {
      await recorder.close();
    }
  });
});

/** The same agent through the HA stack (make up's topology): HAProxy's OpenTSDB, HTTP (/api/put) and Graphite ports. */
const noHaproxy = existsSync(HAPROXY_BIN) ? undefined : `${HAPROXY_BIN} is not installed (Debian package haproxy)`;

describe('real Netdata → HAProxy → two relays → two influxd', { skip: missing ?? noHaproxy, timeout: 180_000 }, () => {
  let stack: HaStack;
  let netdata: Netdata | undefined;

  before(async () => {
    stack = await startHaStack();
  });
  after(async () => {
    await netdata?.stop();
    await stack?.destroy();
  });

  test('each connector through HAProxy: both influxd end up with the same points', async () => {
    // One agent, three instances, told apart by their metric prefix; all land in database netdata.
    const connectors: [string, string, number, RegExp][] = [
      ['opentsdb', 'telnet', stack.opentsdbPort, /^telnet\.system\.idlejitter\.min$/],
      ['opentsdb:http', 'http', stack.port, /^http\.system\.idlejitter\.min$/],
      ['graphite', 'graphite', stack.graphitePort, /^graphite\.netdata-test\.system\.idlejitter\.min(;|$)/],
    ];
    netdata = startNetdata(connectors.map(([connector, prefix, port]) => ({ connector, name: `to_${prefix}`, prefix, destination: `127.0.0.1:${port}` })));
    const [a, b] = stack.databases.map((d) => d.influxd) as [Influxd, Influxd];
    const db = stack.netdataDatabase;
    const jitter = (c: Map<string, number>, re: RegExp) => [...c].filter(([name]) => re.test(name)).reduce((n, [, v]) => n + v, 0);
    await eventually(async () => {
      const [ca, cb] = await Promise.all([counts(a, db), counts(b, db)]);
      const short = connectors.filter(([, , , re]) => jitter(ca, re) < 5 || jitter(cb, re) < 5).map(([c, , , re]) => `${c}: ${jitter(ca, re)}/${jitter(cb, re)}`);
      if (short.length > 0) throw new Error(`too few points yet: ${short.join(', ')}; measurements: ${[...ca.keys()].slice(0, 5).join(' ')}\n${netdata?.log().split('\n').filter((l) => l.includes('EXPORTING')).slice(-8).join('\n')}`);
    }, 60_000, 250);
    await netdata.stop();
    netdata = undefined;
    await eventually(async () => {
      const [ca, cb] = await Promise.all([counts(a, db), counts(b, db)]);
      assert.deepEqual([...cb].sort(), [...ca].sort(), 'the two influxd differ');
      for (const [, prefix] of connectors) {
        const n = [...ca.keys()].filter((m) => m.startsWith(`${prefix}.`)).length;
        assert.ok(n > 50, `${prefix}: only ${n} measurements`);
      }
    }, 60_000, 250);
    const rows = await stack.stats();
    for (const backend of ['writes_opentsdb', 'writes_api_put', 'writes_graphite']) {
      const total = rows.filter((r) => r['pxname'] === backend && r['svname'] !== 'BACKEND').reduce((n, r) => n + Number(r['stot'] ?? 0), 0);
      assert.ok(total > 0, `HAProxy's ${backend} carried nothing`);
    }
  });
});
