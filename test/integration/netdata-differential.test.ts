// "Converted exactly as InfluxDB does": the same OpenTSDB (telnet and /api/put) and Graphite (TCP, and UDP with
// templates, separator and tags) input goes to a real influxd 1.6's own [[opentsdb]]/[[graphite]] services and,
// through the relay's [[opentsdb]]/[[graphite]] listeners, into a second influxd; every point must match
// (`SELECT * FROM /.*/ GROUP BY *`, epoch=ns), and every /api/put answer too. Input: Netdata's captured lines, many
// more like them, and edge cases (odd characters, huge values, NaN/Inf, missing tags, ms timestamps, bad lines).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePorts } from '../helpers/ports.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { startRelay, type Relay } from '../helpers/relay.js';
import { allSeries, apiPut, sendTcp, sendUdp, waitFor } from './netdata-compare.js';
import {
  GRAPHITE_TAGS,
  GRAPHITE_TEMPLATES,
  graphiteEdges,
  graphiteLine,
  jsonEdges,
  jsonPoint,
  netdataSamples,
  telnet,
  telnetEdges,
} from './netdata-input.js';

const T = 1796040444;
const toml = (v: unknown) => JSON.stringify(v);

/**
 * Points influxd 1.6 stores that no line of line protocol can express, so the relay drops them (and says why in its
 * log): a name ending in a backslash, a measurement starting with '#', a newline in a name, an empty tag key,
 * an empty measurement. Listed so that any other difference fails the test.
 */
const NO_LINE_PROTOCOL_FORM = new Set<string>([
  '#edge.hash', // a line starting with '#' is a comment
  '#gedge.hash',
  '#gedge_hash',
  'edge.tagback', // tag value `v\`: the backslash escapes the separator after it
  'gedge.trailing\\', // measurement `...\` with no tags: same
  'jedge.emptykey', // tag key ""
  'jedge\nnewline', // a newline ends the line
  '', // metric "" (absent)
]);

describe('netdata differential: relay [[opentsdb]]/[[graphite]] vs influxd 1.6 services', { timeout: 180_000 }, () => {
  let direct: Influxd;
  let relayed: Influxd;
  let relay: Relay;
  let ports: { otsdb: number; gtcp: number; gudp: number; rOtsdb: number; rGtcp: number; rGudp: number; rHttp: number };

  before(async () => {
    const [otsdb, gtcp, gudp, rOtsdb, rGtcp, rGudp, rHttp] = await freePorts(7);
    ports = { otsdb: otsdb!, gtcp: gtcp!, gudp: gudp!, rOtsdb: rOtsdb!, rGtcp: rGtcp!, rGudp: rGudp!, rHttp: rHttp! };
    const services = `
[[opentsdb]]
  enabled = true
  bind-address = "127.0.0.1:${ports.otsdb}"
  database = "otsdb"
  batch-timeout = "50ms"

[[graphite]]
  enabled = true
  bind-address = "127.0.0.1:${ports.gtcp}"
  database = "graphite"
  protocol = "tcp"
  batch-timeout = "50ms"

[[graphite]]
  enabled = true
  bind-address = "127.0.0.1:${ports.gudp}"
  database = "graphite_udp"
  protocol = "udp"
  batch-timeout = "50ms"
  separator = "_"
  templates = ${toml(GRAPHITE_TEMPLATES)}
  tags = ${toml(GRAPHITE_TAGS)}
`;
    direct = await startInfluxd({ extraConfig: services });
    relayed = await startInfluxd();
    for (const db of ['otsdb', 'graphite', 'graphite_udp']) await relayed.createDatabase(db);
    const out = `
  [[${'$'}KIND.output]]
    name = "influxd"
    location = "${relayed.url}/write"`;
    const config = `
[[http]]
  bind-addr = "127.0.0.1:${ports.rHttp}"
  [[http.output]]
    name = "influxd"
    location = "${relayed.url}/write"

[[opentsdb]]
  name = "otsdb"
  bind-addr = "127.0.0.1:${ports.rOtsdb}"
  database = "otsdb"
  batch-timeout = "50ms"
${out.replace('$KIND', 'opentsdb')}

[[graphite]]
  name = "graphite"
  bind-addr = "127.0.0.1:${ports.rGtcp}"
  database = "graphite"
  batch-timeout = "50ms"
${out.replace('$KIND', 'graphite')}

[[graphite]]
  name = "graphite-udp"
  bind-addr = "127.0.0.1:${ports.rGudp}"
  protocol = "udp"
  database = "graphite_udp"
  separator = "_"
  templates = ${toml(GRAPHITE_TEMPLATES)}
  tags = ${toml(GRAPHITE_TAGS)}
${out.replace('$KIND', 'graphite')}
`;
    relay = await startRelay({ toml: config });
  });

  after(async () => {
    await relay?.destroy();
    await Promise.all([direct?.destroy(), relayed?.destroy()]);
  });

  async function compare(db: string): Promise<void> {
    const [a, b] = await Promise.all([allSeries(direct, db), allSeries(relayed, db)]);
    const known = (s: { name?: string }) => !NO_LINE_PROTOCOL_FORM.has(s.name ?? '');
    assert.ok(a.length > 0, `influxd wrote nothing to ${db}`);
    const show = (xs: typeof a) => new Map(xs.filter(known).map((x) => [JSON.stringify([x.name, x.tags]), JSON.stringify(x.values, (_k, v) => (typeof v === 'bigint' ? String(v) : v))]));
    const [sa, sb] = [show(a), show(b)];
    const diff = [...new Set([...sa.keys(), ...sb.keys()])].filter((k) => sa.get(k) !== sb.get(k)).map((k) => `${k}: influxd ${sa.get(k)} relay ${sb.get(k)}`);
    assert.deepEqual(diff, [], `${db}: the relay's points differ from influxd's own service`);
    assert.deepEqual(b.filter(known), a.filter(known));
  }

  test('OpenTSDB telnet: Netdata lines, many more like them, edge cases', async () => {
    const samples = netdataSamples(T, 40);
    const stream = [...telnetEdges(T).map((l) => l + '\n'), ...samples.map((s) => telnet(s)), `put zz.sentinel ${T} 1\n`].join('');
    await Promise.all([sendTcp(ports.otsdb, stream), sendTcp(ports.rOtsdb, stream)]);
    await Promise.all([waitFor(direct, 'otsdb', 'zz.sentinel'), waitFor(relayed, 'otsdb', 'zz.sentinel')]);
    await compare('otsdb');
  });

  test('OpenTSDB HTTP /api/put: same answers and same points (JSON array and object, gzip, bad bodies)', async () => {
    const bodies = [...jsonEdges(T), JSON.stringify(netdataSamples(T + 100, 20).map((s) => jsonPoint(s)))];
    for (const [i, body] of bodies.entries()) {
      const gzip = i % 3 === 1;
      const [a, b] = [await apiPut(ports.otsdb, body, gzip), await apiPut(ports.rOtsdb, body, gzip)];
      assert.deepEqual(b, a, `answer to ${body.slice(0, 120)} (gzip: ${gzip})`);
    }
    for (const port of [ports.otsdb, ports.rOtsdb]) {
      assert.equal((await apiPut(port, JSON.stringify([{ metric: 'zz.httpsentinel', timestamp: T, value: 1 }]))).status, 204);
    }
    await Promise.all([waitFor(direct, 'otsdb', 'zz.httpsentinel'), waitFor(relayed, 'otsdb', 'zz.httpsentinel')]);
    await compare('otsdb');
  });

  test('Graphite TCP: Netdata lines (Graphite 1.1 tags stay in the measurement), edge cases', async () => {
    const samples = netdataSamples(T, 40);
    const stream = [...graphiteEdges(T).map((l) => l + '\n'), ...samples.map((s) => graphiteLine(s)), `zz.sentinel 1 ${T}\n`].join('');
    await Promise.all([sendTcp(ports.gtcp, stream), sendTcp(ports.rGtcp, stream)]);
    await Promise.all([waitFor(direct, 'graphite', 'zz.sentinel'), waitFor(relayed, 'graphite', 'zz.sentinel')]);
    await compare('graphite');
  });

  test('Graphite UDP with templates, separator and tags', async () => {
    const samples = netdataSamples(T, 5);
    const lines = [...graphiteEdges(T).map((l) => l + '\n'), ...samples.map((s) => graphiteLine(s))];
    await Promise.all([sendUdp(ports.gudp, lines), sendUdp(ports.rGudp, lines)]);
    // The sentinel goes alone, after the rest: a datagram is not ordered, so it is waited for and then sent.
    await new Promise((r) => setTimeout(r, 300));
    for (const port of [ports.gudp, ports.rGudp]) await sendUdp(port, [`zz.sentinel 1 ${T}\n`]);
    await Promise.all([waitFor(direct, 'graphite_udp', 'zz_sentinel'), waitFor(relayed, 'graphite_udp', 'zz_sentinel')]);
    await compare('graphite_udp');
  });
});
