/**
 * What `-check` must reject because the relay would fail or misbehave at start: names that share a file under
 * spool-dir, listeners that cannot all listen (EADDRINUSE), credentials in a URL that cannot be decoded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/config/index.js';

const OUT = 'output = [ { location = "http://127.0.0.1:8086/write" } ]';

function issues(toml: string): { path: string; message: string }[] {
  try {
    parseConfig(toml);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail('parsed without error');
}

function http(bind: string, more = ''): string {
  return `[[http]]\nbind-addr = ${JSON.stringify(bind)}\n${more}\n${OUT}\n`;
}

function tcp(bind: string, more = ''): string {
  return `[[tcp]]\nbind-addr = ${JSON.stringify(bind)}\ndatabase = "d"\n${more}\n${OUT}\n`;
}

function udp(bind: string, more = ''): string {
  return `[[udp]]\nbind-addr = ${JSON.stringify(bind)}\n${more}\noutput = [ { location = "127.0.0.1:8089" } ]\n`;
}

test('two listeners with the same name are rejected, whatever their kind', () => {
  assert.deepEqual(issues(http(':1', 'name = "web"') + http(':2', 'name = "web"')), [
    { path: 'http[1].name', message: 'duplicate listener name "web" (also http[0]); names default to "<scheme>://<bind-addr>"' },
  ]);
  assert.equal(issues(http(':1', 'name = "web"') + tcp(':2', 'name = "web"'))[0]?.path, 'tcp[0].name');
  assert.equal(issues(udp(':1', 'name = "web"') + tcp(':2', 'name = "web"'))[0]?.path, 'tcp[0].name');
});

test('listener names that map to the same spool directory are rejected', () => {
  assert.deepEqual(issues(http(':1', 'name = "web 1"') + http(':2', 'name = "web_1"')), [
    {
      path: 'http[1].name',
      message: 'listener name "web_1" and http[0]\'s "web 1" become the same file name "web_1" under spool-dir: make them differ in a letter, digit, ".", "_" or "-"',
    },
  ]);
  // Default names follow the bind address and scheme, so they differ whenever the addresses do; with port 0 they do not.
  parseConfig(http(':1') + http(':2') + tcp(':3') + udp(':1'));
  assert.equal(issues(http('127.0.0.1:0') + http('127.0.0.1:0'))[0]?.path, 'http[1].name');
});

test('output names within a listener: the same, or the same file name (dead letters)', () => {
  const twoOutputs = (a: string, b: string) =>
    `[[http]]\nbind-addr = ":1"\noutput = [ { name = ${JSON.stringify(a)}, location = "http://h1/write" }, { name = ${JSON.stringify(b)}, location = "http://h2/write" } ]`;
  assert.equal(issues(twoOutputs('a', 'a'))[0]?.message, 'duplicate output name "a" (also output[0]); names default to the location');
  assert.equal(issues(twoOutputs('a b', 'a_b'))[0]?.path, 'http[0].output[1].name');
  parseConfig(twoOutputs('a', 'b'));
});

test('dead-letter files of two listeners must not coincide (listener "a.b" + output "c" vs "a" + "b.c")', () => {
  const one = (listener: string, output: string, bind: string) =>
    `[[http]]\nname = "${listener}"\nbind-addr = "${bind}"\noutput = [ { name = "${output}", location = "http://h/write" } ]\n`;
  assert.deepEqual(issues(one('a.b', 'c', ':1') + one('a', 'b.c', ':2')), [
    { path: 'http[1].output[0].name', message: 'its dead-letter file "a.b.c.lp" would also be http[0].output[0]\'s: rename the output or its listener' },
  ]);
});

test('TCP-port listeners that could not all listen: localhost vs 127.0.0.1, wildcard vs any, the same address, http vs tcp', () => {
  const overlap = (a: string, b: string, found: { path: string; message: string }[]) => {
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]?.path, b);
    assert.match(found[0]?.message ?? '', new RegExp(`overlaps ${a.replace(/[[\]]/g, '\\$&')}'s`));
  };
  overlap('http[0]', 'http[1].bind-addr', issues(http('127.0.0.1:9096') + http('localhost:9096')));
  overlap('http[0]', 'http[1].bind-addr', issues(http('0.0.0.0:9096') + http('127.0.0.1:9096')));
  overlap('http[0]', 'tcp[0].bind-addr', issues(http('127.0.0.1:9096') + tcp(':9096')));
  overlap('http[0]', 'tcp[0].bind-addr', issues(http('[::1]:9096') + tcp('localhost:9096')));
  assert.deepEqual(issues(http('127.0.0.1:9096') + tcp('127.0.0.1:9096')), [
    { path: 'tcp[0].bind-addr', message: '"127.0.0.1:9096" is already used by http[0]' },
  ]);
  // different ports, different specific addresses, port 0, and UDP (its own port namespace) are fine
  parseConfig(http('127.0.0.1:9096') + http('127.0.0.1:9097') + http('127.0.0.2:9096') + tcp('127.0.0.1:0', 'name = "t1"') + tcp('127.0.0.1:0', 'name = "t2"') + udp('127.0.0.1:9096'));
});

test('UDP listeners collide among themselves', () => {
  const found = issues(udp('localhost:8089') + udp(':8089'));
  assert.equal(found[0]?.path, 'udp[1].bind-addr');
});

test('bad percent-encoding of URL credentials is a load error that does not echo the value', () => {
  const toml = (location: string) => `[[http]]\nbind-addr = ":1"\noutput = [ { location = ${JSON.stringify(location)} } ]`;
  assert.deepEqual(issues(toml('http://u:%ZZ@host:8086/write')), [
    { path: 'http[0].output[0].location', message: 'the password in the URL is not valid percent-encoding (write a literal "%" as %25)' },
  ]);
  assert.equal(issues(toml('http://%E0%A4%A@host:8086/write'))[0]?.message, 'the user in the URL is not valid percent-encoding (write a literal "%" as %25)');
  parseConfig(toml('http://u:p%25w%20d@host:8086/write'));
});
