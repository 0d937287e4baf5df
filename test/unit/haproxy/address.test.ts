// host:port parsing and the collision rules behind "duplicate ports" errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindTakesUpstream, bindsCollide, formatHostPort, parseBind, parseDialAddress as parseHostPort } from '../../../src/haproxy/address.js';

test('upstream addresses: IPv4, DNS names and bracketed IPv6 with a port in 1..65535', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:8086'), { host: '127.0.0.1', port: 8086 });
  assert.deepEqual(parseHostPort('influxdb-a.example.com:8086'), { host: 'influxdb-a.example.com', port: 8086 });
  assert.deepEqual(parseHostPort('[2001:db8::1]:8086'), { host: '2001:db8::1', port: 8086 });
  assert.deepEqual(parseHostPort('localhost:65535'), { host: 'localhost', port: 65535 });
  for (const bad of ['127.0.0.1', ':8086', '127.0.0.1:0', '127.0.0.1:65536', '256.0.0.1:80', '1.2.3:80', '-a:80',
    '2001:db8::1:8086', '[2001:db8::1]', '[1::2::3]:80', 'host:80 ', 'http://host:80', '']) {
    assert.equal(parseHostPort(bad), undefined, bad);
  }
});

test('bind addresses: wildcard or IP, never a name', () => {
  assert.deepEqual(parseBind('*:8086'), { host: '*', port: 8086 });
  assert.deepEqual(parseBind(':8086'), { host: '*', port: 8086 });
  assert.deepEqual(parseBind('0.0.0.0:8086'), { host: '0.0.0.0', port: 8086 });
  assert.deepEqual(parseBind('[::]:8086'), { host: '::', port: 8086 });
  for (const bad of ['localhost:8086', '*:0', '*', '*:99999', 'example.com:80']) assert.equal(parseBind(bad), undefined, bad);
});

test('formatHostPort brackets IPv6 the way HAProxy reads it', () => {
  assert.equal(formatHostPort({ host: '::1', port: 8086 }), '[::1]:8086');
  assert.equal(formatHostPort({ host: '*', port: 8086 }), '*:8086');
});

test('binds collide on one port when one is a wildcard or both name the same host', () => {
  const b = (s: string) => parseBind(s) ?? assert.fail(s);
  assert.equal(bindsCollide(b('*:8086'), b('127.0.0.1:8086')), true);
  assert.equal(bindsCollide(b('127.0.0.1:8086'), b('127.0.0.1:8086')), true);
  assert.equal(bindsCollide(b('[::]:8086'), b('10.0.0.1:8086')), true);
  assert.equal(bindsCollide(b('127.0.0.1:8086'), b('10.0.0.1:8086')), false);
  assert.equal(bindsCollide(b('*:8086'), b('*:8087')), false);
});

test('a bind takes an upstream port only when the upstream is on this host', () => {
  const b = (s: string) => parseBind(s) ?? assert.fail(s);
  const u = (s: string) => parseHostPort(s) ?? assert.fail(s);
  assert.equal(bindTakesUpstream(b('*:8086'), u('127.0.0.1:8086')), true);
  assert.equal(bindTakesUpstream(b('127.0.0.1:8086'), u('localhost:8086')), true);
  assert.equal(bindTakesUpstream(b('*:8086'), u('10.0.0.5:8086')), false);
  assert.equal(bindTakesUpstream(b('10.0.0.1:8086'), u('127.0.0.1:8086')), false);
});
