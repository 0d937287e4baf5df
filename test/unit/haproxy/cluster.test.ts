// The cluster file: defaults, and the exact error text for every kind of bad cluster.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, parseCluster, validateCluster } from '../../../src/haproxy/load.js';

const RELAYS = `
[[relays]]
name = "relay-1"
address = "127.0.0.1:9096"

[[relays]]
name = "relay-2"
address = "127.0.0.1:9097"
`;
const DATABASES = `
[[databases]]
name = "influxdb-a"
address = "127.0.0.1:8086"

[[databases]]
name = "influxdb-b"
address = "127.0.0.1:8087"
`;
const OK = `${RELAYS}${DATABASES}
[http]
bind = "*:9086"

[stats]
password = "pw"
`;

function errorOf(text: string): string {
  try {
    parseCluster(text, 'cluster.toml');
  } catch (err) {
    assert.ok(err instanceof ClusterError, String(err));
    assert.equal(err.code, 'ERR_CLUSTER_INVALID');
    return err.message;
  }
  assert.fail('the cluster was accepted');
}

describe('cluster defaults', () => {
  test('everything but relays, databases and the stats password has a default', () => {
    const c = parseCluster(OK);
    assert.deepEqual(c.relays[0], {
      name: 'relay-1', address: { host: '127.0.0.1', port: 9096 }, tcpAddress: undefined, opentsdbAddress: undefined, graphiteAddress: undefined,
    });
    assert.deepEqual(c.http, { bind: { host: '*', port: 9086 }, tlsCert: undefined, pingVersion: '1.8.10', routeStatements: true });
    assert.deepEqual(c.tcp, { bind: undefined, idleTimeout: '10m' });
    assert.deepEqual(c.opentsdb, { bind: undefined, idleTimeout: '10m' });
    assert.deepEqual(c.graphite, { bind: undefined, idleTimeout: '10m' });
    assert.deepEqual(c.stats, { enabled: true, bind: { host: '127.0.0.1', port: 8404 }, uri: '/stats', user: 'admin', password: 'pw', prometheus: true });
    assert.deepEqual(c.freshness, { enabled: true, port: 8405 });
    assert.deepEqual(c.balance, { writes: 'roundrobin', reads: 'leastconn' });
    assert.deepEqual(c.health, { inter: '2s', fall: 3, rise: 2 });
    assert.deepEqual(c.timeouts, { connect: '5s', client: '60s', server: '60s', httpRequest: '10s', httpKeepAlive: '10s', check: '1s', writeServer: '5s' });
    assert.equal(c.maxconn, 4096);
    assert.equal(c['server-maxconn'], 512);
  });

  test('the raw-TCP port defaults to *:8094 when the relays have TCP listeners', () => {
    const c = parseCluster(OK.replace('address = "127.0.0.1:9096"', 'address = "127.0.0.1:9096"\ntcp-address = "127.0.0.1:9196"')
      .replace('address = "127.0.0.1:9097"', 'address = "127.0.0.1:9097"\ntcp-address = "127.0.0.1:9197"'));
    assert.deepEqual(c.tcp.bind, { host: '*', port: 8094 });
    assert.deepEqual(c.relays[1]?.tcpAddress, { host: '127.0.0.1', port: 9197 });
  });

  test('the OpenTSDB and Graphite ports default to InfluxDB\'s *:4242 and *:2003 when the relays have those listeners', () => {
    const c = parseCluster(OK.replace('address = "127.0.0.1:9096"', 'address = "127.0.0.1:9096"\nopentsdb-address = "127.0.0.1:9296"\ngraphite-address = "127.0.0.1:9396"')
      .replace('address = "127.0.0.1:9097"', 'address = "127.0.0.1:9097"\nopentsdb-address = "127.0.0.1:9297"\ngraphite-address = "127.0.0.1:9397"'));
    assert.deepEqual(c.opentsdb.bind, { host: '*', port: 4242 });
    assert.deepEqual(c.graphite.bind, { host: '*', port: 2003 });
    assert.equal(c.tcp.bind, undefined);
    assert.deepEqual(c.relays[1]?.opentsdbAddress, { host: '127.0.0.1', port: 9297 });
    assert.deepEqual(c.relays[1]?.graphiteAddress, { host: '127.0.0.1', port: 9397 });
  });

  test('a disabled stats page needs no password; validateCluster takes an object', () => {
    const c = validateCluster({
      relays: [{ name: 'r', address: 'relay.example:9096' }],
      databases: [{ name: 'd', address: '[::1]:18086', weight: 0 }, { name: 'e', address: '10.1.2.3:8086', weight: 256 }],
      stats: { enabled: false },
    });
    assert.equal(c.stats.password, undefined);
    assert.deepEqual(c.databases.map((d) => d.address.host), ['::1', '10.1.2.3']);
  });
});

describe('bad clusters are rejected with the key path', () => {
  const cases: [string, string, string][] = [
    ['no relays at all', `${DATABASES}[stats]\npassword = "pw"\n`, 'cluster.toml: relays: required'],
    ['an empty relay list', `relays = []\n${DATABASES}[stats]\npassword = "pw"\n`, 'cluster.toml: relays: expected at least one relay ([[relays]])'],
    ['no databases', `${RELAYS}[stats]\npassword = "pw"\n`, 'cluster.toml: databases: required'],
    ['a bad database address', OK.replace('127.0.0.1:8087', '127.0.0.1'), 'cluster.toml: databases[1].address: expected host:port'],
    ['a port out of range', OK.replace('127.0.0.1:8087', '127.0.0.1:70000'), 'cluster.toml: databases[1].address: expected host:port'],
    ['an octet out of range', OK.replace('127.0.0.1:9097', '127.0.0.256:9097'), 'cluster.toml: relays[1].address: expected host:port'],
    ['a duplicate database name', OK.replace('"influxdb-b"', '"influxdb-a"'), 'cluster.toml: databases[1].name: duplicate name "influxdb-a", already databases[0].name'],
    ['a duplicate relay name', OK.replace('"relay-2"', '"relay-1"'), 'cluster.toml: relays[1].name: duplicate name "relay-1", already relays[0].name'],
    ['a name HAProxy cannot take', OK.replace('"relay-2"', '"relay 2"'), 'cluster.toml: relays[1].name: expected a name of letters, digits, _ . - (at most 63, starting with a letter or digit)'],
    ['a duplicate address', OK.replace('127.0.0.1:8087', '127.0.0.1:9096'), 'cluster.toml: databases[1].address: 127.0.0.1:9096 is already relays[0].address'],
    ['two binds on one port', OK.replace('password = "pw"', 'password = "pw"\nbind = "127.0.0.1:9086"'), 'cluster.toml: stats.bind: port 9086 is already taken by http.bind'],
    ['a bind on a local database port', OK.replace('bind = "*:9086"', 'bind = "*:8086"'), 'cluster.toml: http.bind: port 8086 is databases[0].address (127.0.0.1:8086) on HAProxy\'s own host'],
    ['the default public port taken by a local database', OK.replace('[http]\nbind = "*:9086"\n', ''), 'cluster.toml: http.bind: port 8086 is databases[0].address (127.0.0.1:8086) on HAProxy\'s own host'],
    ['freshness on a taken port', `${OK}[freshness]\nport = 8404\n`, 'cluster.toml: freshness.port: port 8404 is already taken by stats.bind'],
    ['a bind with a host name', OK.replace('bind = "*:9086"', 'bind = "example.com:9086"'), 'cluster.toml: http.bind: expected [ip]:port, like *:8086 or 127.0.0.1:8404'],
    ['stats without a password', OK.replace('password = "pw"', ''), 'cluster.toml: stats.password: required when stats are enabled'],
    ['a password and a password variable', OK.replace('password = "pw"', 'password = "pw"\npassword-env = "X"'), 'cluster.toml: stats.password-env: set together with stats.password: keep one'],
    ['a password variable that is no name', OK.replace('password = "pw"', 'password-env = "A-B"'), 'cluster.toml: stats.password-env: expected an environment variable name like HAPROXY_STATS_PASSWORD'],
    ['a password HAProxy cannot quote', OK.replace('password = "pw"', 'password = "it\'s"'), 'cluster.toml: stats.password: password must not contain \' or control characters'],
    ['stats on the exporter\'s path', OK.replace('password = "pw"', 'password = "pw"\nuri = "/metrics"'), 'cluster.toml: stats.uri: /metrics is the Prometheus exporter\'s path'],
    ['a weight over 256', OK.replace('address = "127.0.0.1:8087"', 'address = "127.0.0.1:8087"\nweight = 257'), 'cluster.toml: databases[1].weight: expected 0..256'],
    ['a negative weight', OK.replace('address = "127.0.0.1:8087"', 'address = "127.0.0.1:8087"\nweight = -1'), 'cluster.toml: databases[1].weight: expected 0..256'],
    ['every weight 0', OK.replace('address = "127.0.0.1:8086"', 'address = "127.0.0.1:8086"\nweight = 0').replace('address = "127.0.0.1:8087"', 'address = "127.0.0.1:8087"\nweight = 0'), 'cluster.toml: databases: every weight is 0, so no database would serve reads'],
    ['an unknown key', OK.replace('name = "influxdb-b"', 'name = "influxdb-b"\nwieght = 2'), 'cluster.toml: databases[1].wieght: unknown key'],
    ['an unknown section', `${OK}[haproxy]\nnbthread = 4\n`, 'cluster.toml: haproxy: unknown key'],
    ['a duration without a unit', `${OK}[health]\ninter = "2000"\n`, 'cluster.toml: health.inter: expected a duration with a unit, like 500ms, 2s, 1m'],
    ['an unknown balance algorithm', `${OK}[balance]\nreads = "fastest"\n`, 'cluster.toml: balance.reads: expected one of roundrobin, static-rr, leastconn, first, source, random'],
    ['a fall of 0', `${OK}[health]\nfall = 0\n`, 'cluster.toml: health.fall: expected 1..100'],
    ['a wrong type', `maxconn = "many"\n${OK}`, 'cluster.toml: maxconn: expected number, got string'],
    ['a TCP listener on some relays only', OK.replace('address = "127.0.0.1:9096"', 'address = "127.0.0.1:9096"\ntcp-address = "127.0.0.1:9196"'),
      'cluster.toml: relays[1].tcp-address: required because relays[0] has one (the raw-TCP pool must hold every relay)'],
    ['a TCP port with no relay TCP listener', `${OK}[tcp]\nbind = "*:8094"\n`, 'cluster.toml: tcp.bind: set, but no relay has a tcp-address to send the stream to'],
    ['an OpenTSDB listener on some relays only', OK.replace('address = "127.0.0.1:9097"', 'address = "127.0.0.1:9097"\nopentsdb-address = "127.0.0.1:9297"'),
      'cluster.toml: relays[0].opentsdb-address: required because relays[1] has one (the OpenTSDB pool must hold every relay)'],
    ['a Graphite port with no relay Graphite listener', `${OK}[graphite]\nbind = "*:2003"\n`, 'cluster.toml: graphite.bind: set, but no relay has a graphite-address to send the stream to'],
    ['the OpenTSDB port on the HTTP port', OK.replace('address = "127.0.0.1:9096"', 'address = "127.0.0.1:9096"\nopentsdb-address = "127.0.0.1:9296"')
      .replace('address = "127.0.0.1:9097"', 'address = "127.0.0.1:9097"\nopentsdb-address = "127.0.0.1:9297"') + '[opentsdb]\nbind = "*:9086"\n',
      'cluster.toml: opentsdb.bind: port 9086 is already taken by http.bind'],
    ['a Graphite address that is a relay\'s HTTP address', OK.replace('name = "relay-2"\naddress = "127.0.0.1:9097"', 'name = "relay-2"\naddress = "127.0.0.1:9097"\ngraphite-address = "127.0.0.1:9397"')
      .replace('address = "127.0.0.1:9096"', 'address = "127.0.0.1:9096"\ngraphite-address = "127.0.0.1:9097"'),
      'cluster.toml: relays[1].address: 127.0.0.1:9097 is already relays[0].graphite-address'],
    ['a TOML syntax error', `${OK}maxconn = \n`, 'cluster.toml: TOML syntax error at line 23, column 11: invalid value'],
  ];
  for (const [what, text, expected] of cases) {
    test(what, () => assert.equal(errorOf(text), expected));
  }

  test('several problems are all reported, one line each', () => {
    const text = OK.replace('127.0.0.1:8087', 'nope').replace('password = "pw"', 'password = "pw"\nport = 1');
    assert.equal(errorOf(text), 'cluster.toml: databases[1].address: expected host:port\ncluster.toml: stats.port: unknown key');
  });
});
