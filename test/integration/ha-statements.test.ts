/**
 * Statements that change state through the whole HA stack (real HAProxy with the generated config, two built relays
 * with their spools, two real influxd): HAProxy routes them to a relay, which runs them on every database in order
 * with the writes. One database down: created on both once it is back. Reads with a keyword in quotes are answered.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { InfluxDB } from 'influx';
import { eventually } from '../helpers/eventually.js';
import { HAPROXY_BIN, startHaStack, type HaStack, type StackDatabase } from '../helpers/ha-stack.js';
import { get, post } from '../helpers/http.js';
import type { Influxd } from '../helpers/influxd.js';

const SKIP = !existsSync(HAPROXY_BIN) && `skipped: ${HAPROXY_BIN} is not installed (Debian package haproxy)`;
let stack: HaStack;

const databases = (db: Influxd): Promise<string[]> => db.databases();
const count = (db: Influxd, database: string, m: string): Promise<number> => db.count(database, m);

async function onBoth(name: string): Promise<void> {
  await eventually(async () => {
    for (const d of stack.databases) assert.ok((await databases(d.influxd)).includes(name), `${name} on ${d.name}`);
  }, 15_000);
}

const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

describe('statements through HAProxy', { skip: SKIP }, () => {
  before(async () => {
    stack = await startHaStack({ output: { 'max-delay-interval': '1s' } });
  });
  after(async () => {
    await stack?.destroy();
  });

  test('a client\'s CREATE DATABASE (node-influx, as Telegraf does at start-up) reaches both databases', async () => {
    const influx = new InfluxDB({ host: '127.0.0.1', port: stack.port, pool: { maxRetries: 0, requestTimeout: 5000 } });
    await influx.createDatabase('from_client');
    await onBoth('from_client');
  });

  test('a commented and a multipart CREATE DATABASE reach both', async () => {
    const commented = await get(`${stack.url}/query?q=${encodeURIComponent('-- at start-up\nCREATE DATABASE commented')}`);
    assert.equal(commented.status, 200, commented.body);
    const form = new FormData();
    form.set('q', 'CREATE DATABASE multipart');
    const res = await fetch(`${stack.url}/query`, { method: 'POST', body: form });
    assert.equal(res.status, 200, await res.text());
    await onBoth('commented');
    await onBoth('multipart');
  });

  test('CREATE DATABASE with one database down: answered, and created on both once it is back', async () => {
    // The order of a statement and later writes holds within one relay (relay-statements.test.ts); HAProxy may send
    // a write to the other relay, so here the write follows once the database is there.
    const [, b] = stack.databases as [StackDatabase, StackDatabase];
    await b.influxd.kill();
    const created = await post(`${stack.url}/query`, 'q=CREATE+DATABASE+while_down', { headers: formHeaders });
    assert.equal(created.status, 200, created.body);
    assert.deepEqual(created.json, { results: [{ statement_id: 0 }] });
    await b.influxd.restart();
    await eventually(async () => assert.ok((await databases(b.influxd)).includes('while_down'), 'created on b'), 30_000);
    const write = await post(`${stack.url}/write?db=while_down`, 'm v=1 1700000000000000000\nm v=2 1700000000000000001\n');
    assert.equal(write.status, 204, write.body);
    for (const d of stack.databases) await eventually(async () => assert.equal(await count(d.influxd, 'while_down', 'm'), 2), 30_000);
  });

  test('SELECT ... WHERE host = \'into\' is answered from a database', async () => {
    assert.equal((await post(`${stack.url}/write?db=${stack.database}`, 'cpu,host=into v=5 1700000000000000000\n')).status, 204);
    for (const d of stack.databases) await eventually(async () => assert.equal(await count(d.influxd, stack.database, 'cpu'), 1), 15_000);
    const q = encodeURIComponent("SELECT v FROM cpu WHERE host = 'into'");
    const res = await get(`${stack.url}/query?db=${stack.database}&q=${q}&epoch=s`);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json, { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'v'], values: [[1700000000, 5]] }] }] });
  });
});
