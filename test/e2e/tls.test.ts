/**
 * TLS on both sides of the built relay, with certificates made by openssl at test time:
 * - to backends: an https backend signed by a private CA is trusted with `ca-file`, and refused without it;
 * - from clients: an [[http]] listener with `ssl-combined-pem` serves writes over https to a real influxd,
 *   and its /health answers in InfluxDB 1.8's shape when asked.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startFakeBackend, type FakeBackend } from '../helpers/fake-backend.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePorts } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';
import { tomlValue } from '../helpers/relay-toml.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls.js';

/** POST or GET over https, trusting only `ca`. */
function httpsRequest(method: string, url: string, ca: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS', () => {
  let certs: TestCerts;
  let backend: FakeBackend;
  let influxd: Influxd;
  let relay: Relay;
  let untrustedUrl: string;
  let httpsUrl: string;

  before(async () => {
    certs = makeTestCerts();
    backend = await startFakeBackend({ tls: { cert: certs.cert, key: certs.key } });
    influxd = await startInfluxd();
    await influxd.createDatabase('test');
    const [trustedPort, untrustedPort, httpsPort] = await freePorts(3);
    untrustedUrl = `http://127.0.0.1:${untrustedPort}`;
    httpsUrl = `https://127.0.0.1:${httpsPort}`;
    // Buffering off: a backend that cannot be reached is a 503 at once, not a queued write.
    const toBackend = { name: 'private-ca', location: `${backend.url}/write`, 'buffer-size-mb': 0, timeout: '3s' };
    const toml = relayToml({
      bindAddr: `127.0.0.1:${trustedPort}`,
      name: 'trusted',
      outputs: [{ ...toBackend, 'ca-file': certs.caFile }],
      extra: [
        '[[http]]',
        'name = "untrusted"',
        `bind-addr = "127.0.0.1:${untrustedPort}"`,
        `output = [ { name = "private-ca", location = ${tomlValue(toBackend.location)}, buffer-size-mb = 0, timeout = "3s" } ]`,
        '',
        '[[http]]',
        'name = "https"',
        `bind-addr = "127.0.0.1:${httpsPort}"`,
        `ssl-combined-pem = ${tomlValue(certs.combinedFile)}`,
        `output = [ { name = "influxdb", location = ${tomlValue(`${influxd.url}/write`)} } ]`,
      ].join('\n'),
    });
    relay = await startRelay({ toml });
  });

  after(async () => {
    await relay?.destroy();
    await backend?.close();
    await influxd?.destroy();
    certs?.remove();
  });

  test('ca-file: the backend signed by the private CA is trusted, and gets the write', async () => {
    const res = await post(`${relay.url}/write?db=test`, 'tls v=1 1700000000000000000');
    assert.equal(res.status, 204, res.body);
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.requests[0]!.body.toString(), 'tls v=1 1700000000000000000\n');
  });

  test('without ca-file the same backend fails verification: 503, nothing sent, the error in /health', async () => {
    const before = backend.requests.length;
    const res = await post(`${untrustedUrl}/write?db=test`, 'tls v=2 1700000000000000001');
    assert.equal(res.status, 503, res.body);
    assert.match(res.body, /private-ca/);
    assert.equal(backend.requests.length, before, 'the TLS handshake failed: no request reached the backend');
    const health = await get(`${untrustedUrl}/health`);
    const b = (health.json as { backends: Array<{ lastError?: { message: string } }> }).backends[0]!;
    assert.match(b.lastError?.message ?? '', /certificate/i);
  });

  test('an [[http]] listener with ssl-combined-pem takes writes over https; they land on influxd', async () => {
    const res = await httpsRequest('POST', `${httpsUrl}/write?db=test`, certs.selfSigned, 'secure v=42i 1700000000000000042');
    assert.equal(res.status, 204, res.body);
    assert.deepEqual(await influxd.points('test', 'secure'), [{ time: '1700000000000000042', v: 42 }]);
    // Plain http to the https listener gets nothing written.
    await assert.rejects(post(`${httpsUrl.replace('https:', 'http:')}/write?db=test`, 'plain v=1 1', { timeoutMs: 2000 }));
  });

  test('/health?format=influxdb answers in InfluxDB 1.8\'s shape', async () => {
    const res = await httpsRequest('GET', `${httpsUrl}/health?format=influxdb`, certs.selfSigned);
    assert.equal(res.status, 200);
    assert.match(res.body, /^\{"checks":\[\],"message":"ready for queries and writes","name":"influxdb","status":"pass","version":"relay-[^"]+"\}$/);
    const full = await httpsRequest('GET', `${httpsUrl}/health`, certs.selfSigned);
    assert.equal((JSON.parse(full.body) as { name: string }).name, 'https', 'without format: the relay\'s own report');
  });
});
