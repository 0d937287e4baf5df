import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort } from '../../../src/config/hostport.js';

test('host:port forms Go accepts', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9096'), { host: '127.0.0.1', port: 9096 });
  assert.deepEqual(parseHostPort('localhost:8089'), { host: 'localhost', port: 8089 });
  assert.deepEqual(parseHostPort('[::1]:9096'), { host: '::1', port: 9096 });
  assert.deepEqual(parseHostPort(':9096'), { host: '', port: 9096 });
  assert.deepEqual(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
});

test('malformed addresses are rejected', () => {
  for (const addr of ['', '9096', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:x', '::1:9096', '[::1]9096', 'http://a:1', 'a b:1']) {
    assert.equal(parseHostPort(addr), undefined, addr);
  }
});
