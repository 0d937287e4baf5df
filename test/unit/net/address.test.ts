// The one host:port parser (relay.toml, sockets, the HAProxy cluster file) and when two listening sockets collide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindsCollide, parseDialAddress, parseHostPort, parseListenAddress } from '../../../src/net/address.js';

test('host:port forms Go accepts', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9096'), { host: '127.0.0.1', port: 9096 });
  assert.deepEqual(parseHostPort('localhost:8089'), { host: 'localhost', port: 8089 });
  assert.deepEqual(parseHostPort('influx_db.local:8086'), { host: 'influx_db.local', port: 8086 });
  assert.deepEqual(parseHostPort('[::1]:9096'), { host: '::1', port: 9096 });
  assert.deepEqual(parseHostPort(':9096'), { host: '', port: 9096 });
  assert.deepEqual(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
});

test('malformed addresses are rejected', () => {
  for (const addr of ['', '9096', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:x', '::1:9096', '[::1]9096', 'http://a:1', 'a b:1',
    '256.0.0.1:80', '1.2.3:80', '-a:80', '[1::2::3]:80', '[]:80', 'host:80 ']) {
    assert.equal(parseHostPort(addr), undefined, addr);
  }
});

test('a dial address needs a host and a non-zero port; a listen address maps an empty host to every interface', () => {
  assert.equal(parseDialAddress(':8086'), undefined);
  assert.equal(parseDialAddress('h:0'), undefined);
  assert.deepEqual(parseListenAddress(':9096'), { host: undefined, port: 9096 });
  assert.throws(() => parseListenAddress('nope'), /expected host:port/);
});

test('listening sockets collide on one port: wildcard, the same address, localhost and loopback', () => {
  const c = (a: string, b: string) => bindsCollide(parseHostPort(a) ?? assert.fail(a), parseHostPort(b) ?? assert.fail(b));
  assert.equal(c('127.0.0.1:9096', '127.0.0.1:9096'), true);
  assert.equal(c('localhost:9096', '127.0.0.1:9096'), true);
  assert.equal(c('LOCALHOST:9096', '[::1]:9096'), true);
  assert.equal(c('0.0.0.0:9096', '127.0.0.1:9096'), true);
  assert.equal(c(':9096', '10.0.0.1:9096'), true);
  assert.equal(c('[::]:9096', '127.0.0.1:9096'), true);
  assert.equal(c('[::1]:9096', '[0:0:0:0:0:0:0:1]:9096'), true);
  assert.equal(c('127.0.0.1:9096', '127.0.0.2:9096'), false);
  assert.equal(c('localhost:9096', '10.0.0.1:9096'), false);
  assert.equal(c('127.0.0.1:9096', '127.0.0.1:9097'), false);
  assert.equal(c(':0', ':0'), false);
});
