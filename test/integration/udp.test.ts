// The [[udp]] listener against two real influxd backends: datagrams (hand-made and from collectd's
// write_influxdb_udp plugin) land as identical points on both; a host:port output gets the same lines re-split to
// its mtu; bad lines are counted; tiny datagrams are coalesced into few backend requests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { UdpListenerConfig, UdpOutputConfig } from '../../src/config/types.js';
import { UdpSource } from '../../src/sources/udp.js';
import { intakeMetrics } from '../../src/telemetry/intake-metrics.js';
import { terminate, track } from '../helpers/children.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { counterValue, httpOutput, rig } from './source-fixtures.js';
import { eventually } from '../helpers/eventually.js';

const COLLECTD = '/usr/sbin/collectd';

function listener(db: string, output: UdpOutputConfig[], o: Partial<UdpListenerConfig> = {}): UdpListenerConfig {
  return { name: 'udp-test', bindAddr: '127.0.0.1:0', readBuffer: 0, precision: 'n', database: db, retentionPolicy: '', output, ...o };
}

function sorted(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort();
}

async function send(port: number, datagrams: string[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  try {
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) => s.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    s.close();
  }
}

describe('UDP listener with two influxd backends', () => {
  let a: Influxd;
  let b: Influxd;
  before(async () => {
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    for (const s of [a, b]) {
      await s.createDatabase('udpdb');
      await s.createDatabase('collectd');
    }
  });
  after(async () => {
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  test('datagrams land identically on both; the udp output gets the same lines within its mtu', async () => {
    const forwarded: Buffer[] = [];
    const receiver = dgram.createSocket('udp4');
    receiver.on('message', (m) => forwarded.push(m));
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', () => r()));
    const mtu = 120;
    const r = rig([httpOutput(`${a.url}/write`), httpOutput(`${b.url}/write`)]);
    const src = new UdpSource(
      listener('udpdb', [
        ...r.backends.map((x) => httpOutput(x.name)),
        { kind: 'udp', name: 'fwd', location: `127.0.0.1:${receiver.address().port}`, mtu },
      ], { readBuffer: 65536 }),
      r.fanout,
      r.metrics,
      r.logger,
    );
    try {
      await src.start();
      // Linux doubles SO_RCVBUF; the default (212992) would show that read-buffer was ignored.
      assert.equal(src.receiveBufferSize, 131072);
      const port = src.address!.port;
      const base = 1_700_000_000_000_000_000n;
      const datagrams: string[] = [];
      for (let i = 0; i < 150; i++) datagrams.push(`udp_m,i=${i % 7} v=${i}i ${base + BigInt(i)}\n`);
      // One datagram of several lines (bigger than the mtu), one bad line among good ones, one without a timestamp.
      let multi = '';
      for (let i = 150; i < 160; i++) multi += `udp_m,i=${i % 7} v=${i}i ${base + BigInt(i)}\n`;
      datagrams.push(multi, `udp_m,i=x v=160i ${base + 160n}\nudp_m,i=y v=\nudp_m,i=z v=161i ${base + 161n}`, 'udp_m,i=stamped v=162i');
      await send(port, datagrams);

      let rowsA: Array<Record<string, unknown>> = [];
      await eventually(async () => {
        rowsA = await a.points('udpdb', 'udp_m');
        const rowsB = await b.points('udpdb', 'udp_m');
        assert.equal(rowsA.length, 163);
        assert.deepEqual(sorted(rowsB), sorted(rowsA));
      });
      assert.deepEqual(rowsA.filter((x) => x.v === 161), [{ time: String(base + 161n), i: 'z', v: 161 }]);

      const m = intakeMetrics(r.metrics);
      assert.equal(await counterValue(r.metrics.linesRejected, { listener: 'udp-test' }), 1);
      assert.equal(await counterValue(r.metrics.pointsReceived, { listener: 'udp-test' }), 163);
      assert.equal(await counterValue(m.udpDatagrams, { listener: 'udp-test' }), 153);
      // 153 datagrams in a burst: coalesced into a handful of requests per backend, not one each.
      const requests = await counterValue(r.metrics.backendRequests, { outcome: 'ok' });
      assert.ok(requests <= 2 * 10, `${requests} backend requests for 153 datagrams`);

      // The forward: every valid line, stamped like the stored point, in datagrams within the mtu.
      await eventually(() => assert.equal(Buffer.concat(forwarded).toString().split('\n').filter(Boolean).length, 163));
      for (const d of forwarded) assert.ok(d.length <= mtu, `forwarded datagram of ${d.length} bytes`);
      const stored = rowsA.find((x) => x.i === 'stamped')!;
      assert.ok(Buffer.concat(forwarded).toString().includes(`udp_m,i=stamped v=162i ${stored.time as string}\n`));
    } finally {
      await src.close();
      await r.close();
      receiver.close();
    }
  });

  test("collectd's write_influxdb_udp plugin: the same points on both backends", async () => {
    const r = rig([httpOutput(`${a.url}/write`), httpOutput(`${b.url}/write`)]);
    // write_influxdb_udp stamps in milliseconds.
    const src = new UdpSource(listener('collectd', r.backends.map((x) => httpOutput(x.name)), { precision: 'ms' }), r.fanout, r.metrics, r.logger);
    const dir = await mkdtemp(path.join(tmpdir(), 'collectd-test-'));
    try {
      await src.start();
      const conf = path.join(dir, 'collectd.conf');
      await writeFile(
        conf,
        `Interval 1
FQDNLookup false
Hostname "relay-test"
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "${dir}/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin write_influxdb_udp
<Plugin write_influxdb_udp>
  <Server "127.0.0.1" "${src.address!.port}">
  </Server>
</Plugin>
`,
      );
      const child = spawn(COLLECTD, ['-f', '-C', conf], { stdio: 'ignore' });
      track(child);
      try {
        await eventually(async () => {
          assert.ok((await a.points('collectd', 'cpu')).length >= 8);
          for (const m of ['load', 'memory']) assert.ok((await a.points('collectd', m)).length > 0, `no ${m} points yet`);
        }, 10_000, 200);
      } finally {
        await terminate(child, 5000);
      }
      const log = await readFile(path.join(dir, 'collectd.log'), 'utf8').catch(() => '');
      for (const measurement of ['cpu', 'load', 'memory']) {
        await eventually(async () => {
          const rowsA = await a.points('collectd', measurement);
          const rowsB = await b.points('collectd', measurement);
          assert.ok(rowsA.length > 0, `no ${measurement} points; collectd log:\n${log}`);
          assert.deepEqual(sorted(rowsB), sorted(rowsA));
        });
      }
      const load = await a.points('collectd', 'load');
      assert.equal(load[0]!.host, 'relay-test');
      assert.equal(typeof load[0]!.shortterm, 'number');
      assert.equal(await counterValue(r.metrics.linesRejected, { listener: 'udp-test' }), 0);
    } finally {
      await src.close();
      await r.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
