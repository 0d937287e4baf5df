/**
 * The built relay against a real influxd: a malformed URL on any route costs that request a JSON error, never the
 * process (once, `GET /health/backends/%ZZ` threw a URIError out of the handler and the relay died, taking its memory
 * queues with it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pidAlive } from '../helpers/children.js';
import { get, post, request } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';

let influxd: Influxd;
let relay: Relay;

before(async () => {
  influxd = await startInfluxd();
  await influxd.createDatabase('test');
  relay = await startRelay({
    toml: relayToml({ bindAddr: `127.0.0.1:${await freePort()}`, outputs: [{ name: 'influxdb', location: `${influxd.url}/write` }] }),
  });
});
after(async () => {
  await relay?.destroy();
  await influxd?.destroy();
});

test('malformed percent-encoding on every route: JSON errors, and the relay keeps running and writing', async () => {
  const probes: Array<[string, string, number]> = [
    ['GET', '/health/backends/%ZZ', 400],
    ['GET', '/health/backends/%E0%A4%A', 400],
    ['POST', '/write?db=test&precision=%ZZ', 400],
    ['POST', '/api/v2/write?bucket=test&precision=%ZZ', 400],
    ['POST', '/api/v2/write?bucket=test&precision=constructor', 400],
    ['GET', '/ping?%ZZ', 204],
    ['GET', '/health?format=%ZZ', 200],
    ['GET', '/metrics?%ZZ', 200],
    ['GET', '/%ZZ', 404],
  ];
  for (const [method, path, status] of probes) {
    const res = await request(method, relay.url + path, method === 'POST' ? { body: 'm v=1\n' } : {});
    assert.equal(res.status, status, `${method} ${path}: ${res.body}`);
    if (status >= 400) assert.equal(typeof res.json, 'object', `${method} ${path}: a JSON error body`);
  }
  assert.ok(pidAlive(relay.pid), 'the relay is still running');
  assert.equal((await get(`${relay.url}/health/backends/influxdb`)).status, 200);
  const res = await post(`${relay.url}/write?db=test`, 'after_malformed v=1 1700000000000000000\n');
  assert.equal(res.status, 204, res.body);
  assert.equal((await influxd.points('test', 'after_malformed')).length, 1);
});
