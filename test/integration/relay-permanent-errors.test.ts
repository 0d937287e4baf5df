/**
 * InfluxDB's permanent 500s are not retried (issue 8, item 3): a `rp` naming no retention policy is answered by
 * influxd 1.6 with 500 `retention policy not found`; the client gets that answer, not a 204, and the batch does not
 * sit at the head of every queue: the next valid write lands on both backends.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';

let c: Cluster;

before(async () => {
  c = await startCluster({ databases: ['d'], output: { 'initial-delay-interval': '50ms', 'max-delay-interval': '200ms' } });
});
after(async () => {
  await c?.destroy();
});

test("a retention-policy typo gets InfluxDB's 500 and JSON error, and blocks nothing behind it", async () => {
  const typo = await post(`${c.relay.url}/write?db=d&rp=typo`, 'typo v=1 1700000000000000000\n');
  assert.equal(typo.status, 500, typo.body);
  assert.deepEqual(typo.json, { error: 'retention policy not found: typo' });

  const ok = await post(`${c.relay.url}/write?db=d`, 'after v=1 1700000000000000000\n');
  assert.equal(ok.status, 204, ok.body);
  for (const backend of c.backends) {
    const rows = await eventually(async () => {
      const r = await backend.points('d', 'after');
      assert.equal(r.length, 1);
      return r;
    });
    assert.deepEqual(rows, [{ time: '1700000000000000000', v: 1 }]);
  }
  // Nothing left queued for retry: the typo was refused, not kept.
  const health = await get(`${c.relay.url}/health`);
  assert.equal(health.status, 200, health.body);
});
