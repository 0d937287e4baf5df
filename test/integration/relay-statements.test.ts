/**
 * Statements that change state, sent to the relay's /query, reach every replica in order with the writes: a replica
 * that was down gets the CREATE DATABASE before the writes that need it (with the spool, across a relay crash too).
 * Reads that reach the relay are answered from a database. Real influxd on both sides.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';
import type { Influxd } from '../helpers/influxd.js';
import { startRelay } from '../helpers/relay.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

async function cluster(top: Record<string, string> = {}): Promise<Cluster> {
  const c = await startCluster({ top, output: { timeout: '2s', 'max-delay-interval': '300ms' } });
  cleanup.push(() => c.destroy());
  return c;
}

const databases = (db: Influxd): Promise<string[]> => db.databases();
const count = (db: Influxd, database: string, m: string): Promise<number> => db.count(database, m);

const form = (params: Record<string, string>) => ({ body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

async function bothHave(c: Cluster, db: string): Promise<void> {
  await eventually(async () => {
    assert.ok((await databases(c.a)).includes(db), `${db} on a`);
    assert.ok((await databases(c.b)).includes(db), `${db} on b`);
  });
}

describe('statements through the relay', () => {
  test('CREATE DATABASE (POST form, GET with a comment, multipart, several statements) reaches both; the answer is influxd\'s', async () => {
    const c = await cluster();
    const created = await post(`${c.relay.url}/query`, form({ q: 'CREATE DATABASE one' }).body, { headers: form({}).headers });
    assert.equal(created.status, 200, created.body);
    assert.deepEqual(created.json, { results: [{ statement_id: 0 }] });
    await bothHave(c, 'one');

    const commented = await get(`${c.relay.url}/query?q=${encodeURIComponent('-- make it\nCREATE DATABASE two')}`);
    assert.equal(commented.status, 200, commented.body);
    await bothHave(c, 'two');

    const multipart = new FormData();
    multipart.set('q', 'CREATE DATABASE three; CREATE DATABASE "four"');
    const res = await fetch(`${c.relay.url}/query`, { method: 'POST', body: multipart });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { results: [{ statement_id: 0 }, { statement_id: 1 }] });
    await bothHave(c, 'three');
    await bothHave(c, 'four');
  });

  test('a statement influxd refuses: its answer, as influxd gives it (200 with the error in the results; 400 for a parse error)', async () => {
    const c = await cluster();
    const rp = await post(`${c.relay.url}/query`, form({ q: 'CREATE RETENTION POLICY r ON nope DURATION 1h REPLICATION 1' }).body, { headers: form({}).headers });
    assert.equal(rp.status, 200, rp.body);
    assert.deepEqual(rp.json, { results: [{ statement_id: 0, error: 'database not found: nope' }] });
    const parse = await post(`${c.relay.url}/query`, form({ q: 'CREATE DATABASE' }).body, { headers: form({}).headers });
    assert.equal(parse.status, 400, parse.body);
    assert.match((parse.json as { error: string }).error, /error parsing query/);
  });

  test('a read that reaches the relay is answered from a database (a keyword in quotes is data)', async () => {
    const c = await cluster();
    assert.equal((await post(`${c.relay.url}/write?db=test`, 'cpu,host=into v=1 1700000000000000000\n')).status, 204);
    await eventually(async () => assert.equal(await count(c.a, 'test', 'cpu'), 1));
    await eventually(async () => assert.equal(await count(c.b, 'test', 'cpu'), 1));
    const res = await get(`${c.relay.url}/query?db=test&epoch=ns&q=${encodeURIComponent("SELECT v FROM cpu WHERE host = 'into'")}`);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'v'], values: [[1700000000000000000n, 1]] }] }] });
    const shown = await get(`${c.relay.url}/query?q=SHOW+DATABASES`);
    assert.equal(shown.status, 200);
    assert.match(shown.body, /"test"/);
  });

  test('with b down: CREATE DATABASE is answered (queued for b), writes follow, and b gets the database before the points', async () => {
    const c = await cluster();
    await c.b.kill();
    const created = await post(`${c.relay.url}/query`, form({ q: 'CREATE DATABASE late' }).body, { headers: form({}).headers });
    assert.equal(created.status, 200, created.body);
    assert.deepEqual(created.json, { results: [{ statement_id: 0 }] }, 'a delivered it: its answer');
    const write = await post(`${c.relay.url}/write?db=late`, 'm v=1 1700000000000000000\nm v=2 1700000000000000001\n');
    assert.equal(write.status, 204, write.body);
    await c.b.restart();
    await eventually(async () => assert.equal(await count(c.b, 'late', 'm'), 2), 30_000);
    assert.equal(await count(c.a, 'late', 'm'), 2);
  });

  test('with the spool: b down, CREATE DATABASE and writes, the relay killed -9 and restarted: b gets both', async () => {
    const c = await cluster({ 'spool-dir': 'spool', fsync: 'always' });
    await c.b.kill();
    const created = await post(`${c.relay.url}/query`, form({ q: 'CREATE DATABASE durable' }).body, { headers: form({}).headers });
    assert.equal(created.status, 200, created.body);
    assert.equal((await post(`${c.relay.url}/write?db=durable`, 'm v=1 1700000000000000000\n')).status, 204);
    await c.relay.kill9();
    const again = await startRelay({ toml: await readFile(c.relay.configPath, 'utf8'), dir: c.relay.dir });
    cleanup.push(() => again.destroy());
    await c.b.restart();
    await eventually(async () => assert.equal(await count(c.b, 'durable', 'm'), 1), 30_000);
    assert.equal(await count(c.a, 'durable', 'm'), 1);
  });
});
