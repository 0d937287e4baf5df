import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../src/config/index.js';

/** The ConfigError that parsing `toml` throws. */
function errorOf(toml: string, source?: string): ConfigError {
  try {
    parseConfig(toml, source);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    return err;
  }
  assert.fail('parsed without error');
}

const OUT = 'output = [ { location = "http://127.0.0.1:8086/write" } ]';

/** One [[http]] listener whose single output has `keys` added. */
function withOutputKeys(keys: string): string {
  return `[[http]]\nbind-addr = ":9096"\n[[http.output]]\nlocation = "http://127.0.0.1:8086/write"\n${keys}\n`;
}

test('bad backend URL', () => {
  const err = errorOf(`[[http]]\nbind-addr = ":9096"\noutput = [ { location = "http://a/write" }, { location = "127.0.0.1:8086" } ]`);
  assert.equal(err.path, 'http[0].output[1].location');
  assert.equal(err.message, 'http[0].output[1].location: not an http:// or https:// URL: "127.0.0.1:8086"');
  assert.equal(err.code, 'ERR_RELAY_CONFIG');
});

test('bad durations: not Go syntax, negative, zero where not allowed', () => {
  assert.equal(
    errorOf(withOutputKeys('timeout = "10"')).message,
    'http[0].output[0].timeout: not a Go duration (like "300ms", "1.5s", "1m30s", "2h"): "10"',
  );
  assert.equal(errorOf(withOutputKeys('timeout = "-1s"')).message, 'http[0].output[0].timeout: must be positive: "-1s"');
  assert.equal(errorOf(withOutputKeys('max-delay-interval = "0"')).path, 'http[0].output[0].max-delay-interval');
  assert.equal(
    errorOf(`shutdown-timeout = 10\n[[http]]\nbind-addr = ":1"\n${OUT}`).message,
    'shutdown-timeout: expected a string, got 10',
  );
});

test('bad sizes: floats, negatives, below minimum', () => {
  assert.equal(errorOf(withOutputKeys('buffer-size-mb = 1.5')).message, 'http[0].output[0].buffer-size-mb: expected an integer, got 1.5');
  assert.equal(errorOf(withOutputKeys('buffer-size-mb = -1')).message, 'http[0].output[0].buffer-size-mb: must be at least 0');
  assert.equal(errorOf(withOutputKeys('connections = 0')).message, 'http[0].output[0].connections: must be at least 1');
  assert.equal(errorOf(withOutputKeys('max-batch-kb = "512"')).message, 'http[0].output[0].max-batch-kb: expected an integer, got "512"');
});

test('bad enums and addresses', () => {
  assert.equal(
    errorOf(`[[http]]\nbind-addr = ":1"\nack = "majority"\n${OUT}`).message,
    'http[0].ack: must be one of any, one, quorum, all: "majority"',
  );
  assert.equal(errorOf(`log-level = "verbose"\n[[http]]\nbind-addr = ":1"\n${OUT}`).path, 'log-level');
  assert.equal(errorOf(`[[http]]\nbind-addr = "9096"\n${OUT}`).message, 'http[0].bind-addr: not a host:port address: "9096"');
  assert.equal(
    errorOf(`[[udp]]\nbind-addr = ":1"\nprecision = "ns2"\noutput = [ { location = "h:1" } ]`).message,
    'udp[0].precision: must be one of n, u, ms, s, m, h: "ns2"',
  );
  assert.equal(
    errorOf(`[[udp]]\nbind-addr = ":1"\noutput = [ { location = "h:0" } ]`).message,
    'udp[0].output[0].location: needs a host and a non-zero port: "h:0"',
  );
});

test('unknown keys are named by their path, with the allowed keys and a suggestion', () => {
  const err = errorOf(withOutputKeys('tmeout = "1s"'));
  assert.equal(err.path, 'http[0].output[0].tmeout');
  assert.match(err.message, /^http\[0\]\.output\[0\]\.tmeout: unknown key; did you mean "timeout"\? \(allowed here: name, location, timeout, /);
  assert.equal(errorOf(`[[htp]]\nbind-addr = ":1"`).issues[0]?.path, 'htp');
  assert.match(errorOf(`[[http]]\nbind_addr = ":1"\n${OUT}`).message, /http\[0\]\.bind_addr: unknown key; did you mean "bind-addr"\?/);
  // inside an HTTP output of a [[udp]] listener, too
  const udp = errorOf(`[[udp]]\nbind-addr = ":1"\ndatabase = "d"\noutput = [ { location = "http://h:8086/write", mut = 1 } ]`);
  assert.equal(udp.path, 'udp[0].output[0].mut');
});

test('duplicate output names within a listener (names default to the location)', () => {
  const named = errorOf(`[[http]]\nbind-addr = ":1"\noutput = [ { name = "a", location = "http://h1/write" }, { name = "a", location = "http://h2/write" } ]`);
  assert.equal(named.message, 'http[0].output[1].name: duplicate output name "a" (also output[0]); names default to the location');
  const unnamed = errorOf(`[[tcp]]\nbind-addr = ":1"\ndatabase = "d"\noutput = [ { location = "http://h/write" }, { location = "http://h/write" } ]`);
  assert.equal(unnamed.path, 'tcp[0].output[1].name');
  // the same name on two listeners is fine
  parseConfig(`[[http]]\nbind-addr = ":1"\n${OUT}\n[[http]]\nbind-addr = ":2"\n${OUT}`);
});

test('duplicate bind addresses among TCP sockets and among UDP sockets; port 0 never clashes', () => {
  const err = errorOf(`[[http]]\nbind-addr = ":1"\n${OUT}\n[[tcp]]\nbind-addr = ":1"\ndatabase = "d"\n${OUT}`);
  assert.equal(err.message, 'tcp[0].bind-addr: ":1" is already used by http[0]');
  const udp = `output = [ { location = "h:1" } ]`;
  assert.equal(errorOf(`[[udp]]\nbind-addr = ":1"\n${udp}\n[[udp]]\nbind-addr = ":1"\n${udp}`).path, 'udp[1].bind-addr');
  parseConfig(`[[http]]\nname = "a"\nbind-addr = "127.0.0.1:0"\n${OUT}\n[[http]]\nname = "b"\nbind-addr = "127.0.0.1:0"\n${OUT}`);
});

test('no listeners', () => {
  for (const toml of ['', 'log-level = "info"', 'http = []']) {
    const err = errorOf(toml);
    assert.equal(err.path, '');
    assert.equal(err.message, 'no listeners: add at least one [[http]], [[udp]], [[tcp]], [[opentsdb]] or [[graphite]] table');
  }
});

test('missing or empty outputs', () => {
  assert.equal(errorOf(`[[http]]\nbind-addr = ":1"`).message, 'http[0].output: required');
  assert.equal(errorOf(`[[http]]\nbind-addr = ":1"\noutput = []`).message, 'http[0].output: at least one output is required');
  assert.equal(errorOf(`[[udp]]\nbind-addr = ":1"\noutput = []`).path, 'udp[0].output');
  assert.equal(
    errorOf(`[[http]]\nbind-addr = ":1"\noutput = { location = "http://h/write" }`).message,
    'http[0].output: expected an array of tables, got a table',
  );
});

test('required keys', () => {
  assert.equal(errorOf(`[[http]]\n${OUT}`).message, 'http[0].bind-addr: required');
  assert.equal(errorOf(`[[http]]\nbind-addr = ":1"\noutput = [ { name = "x" } ]`).message, 'http[0].output[0].location: required');
  assert.equal(errorOf(`[[tcp]]\nbind-addr = ":1"\n${OUT}`).message, 'tcp[0].database: required');
  assert.equal(errorOf(`[[tcp]]\nbind-addr = ":1"\ndatabase = ""\n${OUT}`).message, 'tcp[0].database: must not be empty');
  assert.equal(
    errorOf(`[[udp]]\nbind-addr = ":1"\noutput = [ { location = "h:1" }, { location = "http://h/write" } ]`).message,
    'udp[0].database: required when an output is an http(s) URL',
  );
});

test('cross-key checks inside an output', () => {
  assert.equal(
    errorOf(withOutputKeys('http-user = "u"')).message,
    'http[0].output[0].http-pass: http-user and http-pass must be set together',
  );
  assert.equal(
    errorOf(withOutputKeys('initial-delay-interval = "20s"')).message,
    'http[0].output[0].initial-delay-interval: must not exceed max-delay-interval',
  );
});

test('TOML syntax errors carry line and column', () => {
  const err = errorOf('[[http]]\nbind-addr = ":1"\noutput = [\n  { location = "http://h/write" \n', 'relay.toml');
  assert.equal(err.path, '');
  assert.ok(err.line !== undefined && err.line >= 4, `line ${err.line}`);
  assert.ok(err.column !== undefined && err.column >= 1);
  assert.match(err.message, new RegExp(`^relay\\.toml:${err.line}:${err.column}: TOML syntax error: `));
  const dup = errorOf('log-level = "info"\nlog-level = "debug"\n');
  assert.match(dup.message, /^line 2:1: TOML syntax error: /);
});

test('every problem is reported, one per line, each with the source and its path', () => {
  const err = errorOf(
    `[[http]]\nbind-addr = "x"\nfoo = 1\noutput = [ { location = "ftp://a", timeout = "5" } ]`,
    'relay.toml',
  );
  assert.deepEqual(err.message.split('\n'), [
    'relay.toml: http[0].foo: unknown key (allowed here: name, bind-addr, ssl-combined-pem, default-retention-policy, default-ping-response, output, ack, max-body-size, max-body-size-mb, header-timeout, request-timeout, idle-timeout)',
    'relay.toml: http[0].bind-addr: not a host:port address: "x"',
    'relay.toml: http[0].output[0].location: not an http:// or https:// URL: "ftp://a"',
    'relay.toml: http[0].output[0].timeout: not a Go duration (like "300ms", "1.5s", "1m30s", "2h"): "5"',
  ]);
  assert.deepEqual(
    err.issues.map((i) => i.path),
    ['http[0].foo', 'http[0].bind-addr', 'http[0].output[0].location', 'http[0].output[0].timeout'],
  );
});
