/**
 * The default body limit is InfluxDB's (max-body-size = 25,000,000 bytes), not 25 MiB: a body the relay would
 * acknowledge and queue must be one InfluxDB accepts, or every backend answers 413 later and the write is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { post } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay } from '../helpers/relay.js';

test('by default a body one byte over 25,000,000 (under 25 MiB) (decoded) gets 413 from the relay itself', async () => {
  const port = await freePort();
  const relay = await startRelay({ toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'a', location: 'http://127.0.0.1:1/write' }] }) });
  try {
    const res = await post(`${relay.url}/write?db=test`, Buffer.alloc(25_000_001, 'a'), { gzip: true });
    assert.equal(res.status, 413);
    assert.match((res.json as { error: string }).error, /the limit is 25000000 bytes/);
  } finally {
    await relay.destroy();
  }
});
