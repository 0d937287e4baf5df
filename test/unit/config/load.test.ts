import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig, type HttpOutputConfig } from '../../../src/config/index.js';
import { REPO_ROOT } from './helpers.js';

/** Every default of an HTTP output, as the loaded config carries it. */
function defaultOutput(location: string, name = location): HttpOutputConfig {
  return {
    kind: 'http',
    name,
    location,
    type: 'v1',
    org: undefined,
    bucket: undefined,
    token: undefined,
    timeoutMs: 10_000,
    bufferSizeMb: 64,
    spoolMemoryMb: 64,
    maxBatchKb: 512,
    maxDelayIntervalMs: 10_000,
    skipTlsVerification: false,
    caFile: undefined,
    httpUser: undefined,
    httpPass: undefined,
    deadLetterAfterMs: 3_600_000,
    deadLetterFile: undefined,
    maxInFlight: 1,
    connections: 8,
    initialDelayIntervalMs: 100,
  };
}

describe("influxdb-relay's own sample", () => {
  const config = loadConfigFile(join(REPO_ROOT, 'docs/examples/influxdb-relay-sample.toml'));

  test('loads unchanged, with our defaults filled in', () => {
    assert.deepEqual(config, {
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      scanThreads: -1,
      spoolDir: undefined,
      ledgerDir: undefined,
      spoolMaxMb: 1024,
      fsync: 'interval',
      fsyncIntervalMs: 20,
      whenFull: 'drop-oldest',
      antiEntropyIntervalMs: 0,
      antiEntropyLookbackMs: 3600000,
      reloadEndpoint: false,
      answerTimeoutMs: 2000,
      maxBodiesInFlightMb: 256,
      bodyPoolMb: 32,
      http: [
        {
          name: 'example-http',
          bindAddr: '127.0.0.1:9096',
          sslCombinedPem: undefined,
          defaultRetentionPolicy: '',
          defaultPingResponse: 204,
          output: [
            defaultOutput('http://127.0.0.1:8086/write', 'local1'),
            { ...defaultOutput('http://127.0.0.1:7086/write', 'local2'), httpUser: 'test', httpPass: 'secretpassword' },
          ],
          ack: 'any',
          maxBodyBytes: 25_000_000, // InfluxDB's default max-body-size, not 25 MiB
          headerTimeoutMs: 10_000,
          requestTimeoutMs: 30_000,
          idleTimeoutMs: 60_000,
        },
      ],
      udp: [
        {
          name: 'example-udp',
          bindAddr: '127.0.0.1:9096', // same host:port as the HTTP listener: a different socket type
          readBuffer: 0,
          precision: 'n',
          database: '',
          retentionPolicy: '',
          output: [
            { kind: 'udp', name: 'local1', location: '127.0.0.1:8089', mtu: 512 },
            { kind: 'udp', name: 'local2', location: '127.0.0.1:7089', mtu: 1024 },
          ],
        },
      ],
      tcp: [],
      opentsdb: [],
      graphite: [],
    });
  });
});

test('the README-style config with two [[http]] listeners, [[http.output]] tables and Go zero values', () => {
  const config = parseConfig(`
[[http]]
name = "a"
bind-addr = "127.0.0.1:9096"
default-ping-response = 200
output = [
    { name="local1", location="http://127.0.0.1:8086/write", timeout="10s" },
    { name="local2", location="http://127.0.0.1:7086/write", timeout="10s" },
]

[[http]]
bind-addr = ":9097"
ssl-combined-pem = "/etc/ssl/relay.pem"
default-retention-policy = "autogen"
[[http.output]]
location = "http://127.0.0.1:8086/write"
timeout = ""
max-delay-interval = ""
max-batch-kb = 0
buffer-size-mb = 0

[[udp]]
bind-addr = "127.0.0.1:9096"
precision = "ms"
output = [ { location = "127.0.0.1:8089", mtu = 0 } ]
`);
  assert.equal(config.http.length, 2);
  assert.equal(config.http[0]?.defaultPingResponse, 200);
  assert.deepEqual(config.http[0]?.output.map((o) => o.name), ['local1', 'local2']);
  const second = config.http[1];
  assert.equal(second?.name, 'https://:9097');
  assert.equal(second?.sslCombinedPem, '/etc/ssl/relay.pem');
  assert.equal(second?.defaultRetentionPolicy, 'autogen');
  // Go reads "" and 0 as "use the default" for these keys; an explicit buffer-size-mb = 0 disables the queue.
  // With a spool, 0 still keeps the default in-memory part of the backlog.
  assert.deepEqual(second?.output, [{ ...defaultOutput('http://127.0.0.1:8086/write'), bufferSizeMb: 0, spoolMemoryMb: 64 }]);
  assert.equal(config.udp[0]?.name, 'udp://127.0.0.1:9096');
  assert.equal(config.udp[0]?.precision, 'ms');
  assert.deepEqual(config.udp[0]?.output, [{ kind: 'udp', name: '127.0.0.1:8089', location: '127.0.0.1:8089', mtu: 1024 }]);
});

test('every key of ours, set explicitly, is loaded camelCase with durations in ms', () => {
  const config = parseConfig(`
log-level = "debug"
shutdown-timeout = "0"
[[http]]
bind-addr = "127.0.0.1:0"
ack = "quorum"
max-body-size-mb = 5
header-timeout = "1s"
request-timeout = "2s"
idle-timeout = "3s"
[[http.output]]
location = "https://h:8086/write"
timeout = "1.5s"
buffer-size-mb = 1
max-batch-kb = 64
max-delay-interval = "1m30s"
skip-tls-verification = true
http-user = "u"
http-pass = "p"
dead-letter-after = "2h"
dead-letter-file = "/tmp/dead.lp"
max-in-flight = 4
connections = 16
initial-delay-interval = "250ms"
`);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.shutdownTimeoutMs, 0);
  const l = config.http[0]!;
  assert.equal(l.name, 'http://127.0.0.1:0');
  assert.deepEqual(
    [l.ack, l.maxBodyBytes, l.headerTimeoutMs, l.requestTimeoutMs, l.idleTimeoutMs],
    ['quorum', 5 * 1024 * 1024, 1000, 2000, 3000],
  );
  assert.deepEqual(l.output[0], {
    kind: 'http',
    name: 'https://h:8086/write',
    location: 'https://h:8086/write',
    type: 'v1',
    org: undefined,
    bucket: undefined,
    token: undefined,
    caFile: undefined,
    timeoutMs: 1500,
    bufferSizeMb: 1,
    spoolMemoryMb: 1,
    maxBatchKb: 64,
    maxDelayIntervalMs: 90_000,
    skipTlsVerification: true,
    httpUser: 'u',
    httpPass: 'p',
    deadLetterAfterMs: 7_200_000,
    deadLetterFile: '/tmp/dead.lp',
    maxInFlight: 4,
    connections: 16,
    initialDelayIntervalMs: 250,
  });
});

test('[[udp]] outputs located by an http(s) URL are HTTP backends with HTTP defaults', () => {
  const config = parseConfig(`
[[udp]]
bind-addr = ":8089"
database = "telegraf"
retention-policy = "short"
read-buffer = 8388608
output = [
  { name = "fwd", location = "127.0.0.1:8090" },
  { name = "http", location = "http://127.0.0.1:8086/write", max-in-flight = 2 },
]
`);
  const udp = config.udp[0]!;
  assert.deepEqual([udp.database, udp.retentionPolicy, udp.readBuffer], ['telegraf', 'short', 8_388_608]);
  assert.deepEqual(udp.output[0], { kind: 'udp', name: 'fwd', location: '127.0.0.1:8090', mtu: 1024 });
  assert.deepEqual(udp.output[1], { ...defaultOutput('http://127.0.0.1:8086/write', 'http'), maxInFlight: 2 });
});

test('[[tcp]] defaults', () => {
  const config = parseConfig(`
[[tcp]]
bind-addr = "127.0.0.1:9097"
database = "db"
output = [ { location = "http://127.0.0.1:8086/write" } ]
`);
  assert.deepEqual(config.tcp, [
    {
      name: 'tcp://127.0.0.1:9097',
      bindAddr: '127.0.0.1:9097',
      database: 'db',
      retentionPolicy: '',
      precision: 'n',
      maxLineKb: 64,
      idleTimeoutMs: 300_000,
      batchSizeKb: 512,
      batchDelayMs: 100,
      sslCombinedPem: undefined,
      output: [defaultOutput('http://127.0.0.1:8086/write')],
    },
  ]);
});

test('the annotated example loads', () => {
  const config = loadConfigFile(join(REPO_ROOT, 'docs/examples/relay.toml'));
  assert.deepEqual(
    [config.http.length, config.udp.length, config.tcp.length, config.http[0]?.output.length],
    [1, 1, 1, 2],
  );
  assert.equal(config.udp[0]?.output[1]?.kind, 'http');
});

test('loadConfigFile: an unreadable file is a ConfigError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
  try {
    const missing = join(dir, 'missing.toml');
    assert.throws(
      () => loadConfigFile(missing),
      (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith(`${missing}: cannot read config file: ENOENT`),
    );
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[[http]]\nbind-addr = 9096\n');
    assert.throws(
      () => loadConfigFile(bad),
      (err: unknown) => err instanceof ConfigError && err.message.includes(`${bad}: http[0].bind-addr: expected a string, got 9096`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("body limit: InfluxDB's max-body-size (bytes, default 25,000,000, 0 = none); max-body-size-mb (MiB) wins when set", () => {
  const limit = (keys: string) =>
    parseConfig(`[[http]]\nbind-addr = ":1"\n${keys}\noutput = [ { location = "http://h/write" } ]`).http[0]!.maxBodyBytes;
  assert.equal(limit(''), 25_000_000);
  assert.equal(limit('max-body-size = 1000'), 1000);
  assert.ok(limit('max-body-size = 0') >= 2 ** 31 - 1, 'no limit: as large as a Buffer can be');
  assert.equal(limit('max-body-size-mb = 25'), 26_214_400);
  assert.equal(limit('max-body-size = 1000\nmax-body-size-mb = 2'), 2 * 1024 * 1024);
  assert.throws(() => limit('max-body-size-mb = 0'), /max-body-size-mb: must be at least 1/);
  assert.throws(() => limit('max-body-size = -1'), /max-body-size: must be at least 0/);
});
