/** SIGHUP must not kill the relay (Node's default action would, losing what memory queues hold): it logs and runs on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay } from '../helpers/relay.js';

test('SIGHUP is logged as "reload not supported" and the relay keeps serving', async () => {
  const port = await freePort();
  const relay = await startRelay({ toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'a', location: 'http://127.0.0.1:1/write' }] }) });
  try {
    process.kill(relay.pid, 'SIGHUP');
    // The warn line is written by the handler, so once it is there the signal was handled, not fatal.
    await eventually(async () => {
      const line = relay.logRecords().find((r) => r['signal'] === 'SIGHUP');
      assert.ok(line, `no SIGHUP log line yet:\n${relay.logs()}`);
      assert.equal(line['level'], 40);
      assert.match(String(line['msg']), /reload is not supported.*restart/);
    }, 10_000);
    assert.equal((await get(`${relay.url}/ping`)).status, 204);
    assert.equal(await relay.stop(), 0);
  } finally {
    await relay.destroy();
  }
});
