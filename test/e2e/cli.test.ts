/**
 * The built binary as an operator runs it: config errors name the key path and exit 2; -check validates only;
 * SIGTERM drains a backlog to a returning backend and exits 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { post } from '../helpers/http.js';
import { startInfluxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, runRelayToExit, startRelay } from '../helpers/relay.js';

test('a bad config exits 2 naming the key path', async () => {
  const toml = relayToml({ bindAddr: '127.0.0.1:0', outputs: [{ name: 'a', location: 'http://127.0.0.1:1/write' }, { name: 'b', location: '127.0.0.1:8086' }] });
  const r = await runRelayToExit({ toml });
  assert.equal(r.code, 2);
  assert.match(r.output, /http\[0\]\.output\[1\]\.location: /);
});

test('-check validates and exits 0 without listening', async () => {
  const port = await freePort();
  const toml = relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'a', location: 'http://127.0.0.1:1/write' }] });
  const r = await runRelayToExit({ toml, args: ['-check'] });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /ok/);
});

test('a port in use is a clear startup failure, exit 1', async () => {
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await runRelayToExit({ toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'a', location: 'http://127.0.0.1:1/write' }] }) });
    assert.equal(r.code, 1);
    assert.match(r.output, /EADDRINUSE/);
  } finally {
    server.close();
  }
});

test('SIGTERM drains the queue to a backend that comes back, then exits 0', async () => {
  const db = await startInfluxd();
  try {
    await db.createDatabase('test');
    await db.kill();
    const port = await freePort();
    const relay = await startRelay({
      toml: `shutdown-timeout = "20s"\n` + relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'a', location: `${db.url}/write`, 'max-delay-interval': '200ms' }] }),
    });
    try {
      const res = await post(`${relay.url}/write?db=test`, 'drain v=1 1700000000000000000\ndrain v=2\n');
      assert.equal(res.status, 204);
      const stopping = relay.stop();
      await db.restart();
      assert.equal(await stopping, 0);
      await eventually(async () => assert.equal((await db.points('test', 'drain')).length, 2));
      assert.match(relay.logs(), /stopped/);
    } finally {
      await relay.destroy();
    }
  } finally {
    await db.destroy();
  }
});
