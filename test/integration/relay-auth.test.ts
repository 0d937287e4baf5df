/**
 * Credentials pass through the relay to auth-enforcing backends: u/p in the query and Basic auth in the header; a wrong
 * password comes back as InfluxDB's 401, and nothing lands.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { post } from '../helpers/http.js';

let c: Cluster;
const admin = { user: 'admin', pass: 's3cret' };

before(async () => {
  c = await startCluster({ influxd: { auth: true, adminUser: admin.user, adminPass: admin.pass } });
});
after(async () => {
  await c?.destroy();
});

test('u and p in the query string reach both backends', async () => {
  const res = await post(`${c.relay.url}/write?db=test&u=admin&p=s3cret`, 'authq v=1 1700000000000000000\n');
  assert.equal(res.status, 204, res.body);
  const [a, b] = await Promise.all(c.backends.map((x) => x.points('test', 'authq')));
  assert.equal(a!.length, 1);
  assert.deepEqual(a, b);
});

test('Basic auth in the Authorization header reaches both backends', async () => {
  const res = await post(`${c.relay.url}/write?db=test`, 'authh v=1 1700000000000000000\n', { auth: admin });
  assert.equal(res.status, 204, res.body);
  const [a, b] = await Promise.all(c.backends.map((x) => x.points('test', 'authh')));
  assert.equal(a!.length, 1);
  assert.deepEqual(a, b);
});

test('a wrong password is a 401 from InfluxDB, and nothing lands', async () => {
  const res = await post(`${c.relay.url}/write?db=test&u=admin&p=wrong`, 'authbad v=1 1700000000000000000\n');
  assert.equal(res.status, 401);
  assert.match((res.json as { error: string }).error, /authorization failed/);
  const noCreds = await post(`${c.relay.url}/write?db=test`, 'authbad v=1 1700000000000000000\n');
  assert.equal(noCreds.status, 401);
  const [a] = await Promise.all(c.backends.map((x) => x.points('test', 'authbad')));
  assert.equal(a!.length, 0);
});

test('credentials never appear in the relay logs', async () => {
  await post(`${c.relay.url}/write?db=test&u=admin&p=wrong`, 'authlog v=1\n');
  assert.ok(!c.relay.logs().includes('s3cret'));
});
