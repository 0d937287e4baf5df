/**
 * The client's u/p reach an auth-enforcing InfluxDB 1.6 as `Authorization: Basic`, never in the URL (issue 8,
 * item 6): the request path carries no credentials, yet the write lands; a wrong password is InfluxDB's 401.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Writer } from '../../src/backends/writer.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';

let influxd: Influxd;
let writer: Writer;
const admin = { user: 'admin', pass: 'pa55-w0rd' };

before(async () => {
  influxd = await startInfluxd({ auth: true, adminUser: admin.user, adminPass: admin.pass });
  await influxd.createDatabase('d');
  writer = new Writer({ location: `${influxd.url}/write`, timeoutMs: 5_000, connections: 1, skipTlsVerification: false });
});
after(async () => {
  await writer?.destroy();
  await influxd?.destroy();
});

test("the client's u/p land through the header, with none in the URL", async () => {
  const target = { db: 'd', rp: '', precision: 'n' as const, credentials: { u: admin.user, p: admin.pass } };
  const path = writer.pathFor(target);
  assert.equal(path, '/write?db=d');
  const answer = await writer.send(target, Buffer.from('auth v=1 1700000000000000000\n'));
  assert.equal(answer.status, 204, answer.body);
  assert.deepEqual(await influxd.points('d', 'auth'), [{ time: '1700000000000000000', v: 1 }]);
});

test("a wrong password is InfluxDB's 401, and nothing lands", async () => {
  const target = { db: 'd', rp: '', precision: 'n' as const, credentials: { u: admin.user, p: 'wrong' } };
  const answer = await writer.send(target, Buffer.from('denied v=1 1700000000000000000\n'));
  assert.equal(answer.status, 401);
  assert.deepEqual(JSON.parse(answer.body), { error: 'authorization failed' });
  assert.deepEqual(await influxd.points('d', 'denied'), []);
});
