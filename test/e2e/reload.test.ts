/**
 * Reload without a restart (SIGHUP, POST /-/reload) under write load, against real influxd: an output added starts
 * empty and is recorded as missing what came before, an output removed drains, an output changed keeps its queue;
 * no write gets anything but 204, and nothing acknowledged is lost. An invalid file is refused and the relay runs on.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay, type RelayOutput } from '../helpers/relay.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function influxd(): Promise<Influxd> {
  const d = await startInfluxd();
  cleanup.push(() => d.destroy());
  await d.createDatabase('test');
  return d;
}

const count = (d: Influxd, m: string): Promise<number> => d.count('test', m);

function config(port: number, top: string, outputs: RelayOutput[]): string {
  return `${top}\n` + relayToml({ bindAddr: `127.0.0.1:${port}`, name: 'reload', outputs });
}

/** Writes one point per request, one after another, until stopped; every answer is kept. */
function writeLoop(relay: Relay, m: string): { stop(): Promise<{ acked: number[]; statuses: number[] }>; sent(): number } {
  const acked: number[] = [];
  const statuses: number[] = [];
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running) {
      const n = i++;
      const res = await post(`${relay.url}/write?db=test`, `${m} v=${n} ${1700000000000000000n + BigInt(n)}\n`, { timeoutMs: 10_000 });
      statuses.push(res.status);
      if (res.status === 204) acked.push(n);
    }
  })();
  return {
    sent: () => i,
    async stop() {
      running = false;
      await done;
      return { acked, statuses };
    },
  };
}

const reloaded = (relay: Relay, after: number) => () =>
  assert.ok(relay.logRecords().filter((r) => String(r['msg']).startsWith('config reloaded')).length > after, 'not reloaded yet');

for (const mode of ['memory', 'spool'] as const) {
  describe(`reload under write load (${mode} queues)`, () => {
    test('add an output, remove one, change one: only 204s, and every backend has what it should', async () => {
      const [a, b, c] = await Promise.all([influxd(), influxd(), influxd()]);
      const port = await freePort();
      const top = mode === 'spool' ? 'spool-dir = "spool"\nshutdown-timeout = "5s"' : 'ledger-dir = "ledger"\nshutdown-timeout = "5s"';
      const out = (name: string, d: Influxd, extra: Partial<RelayOutput> = {}): RelayOutput => ({ name, location: `${d.url}/write`, timeout: '2s', ...extra });
      const relay = await startRelay({ toml: config(port, top, [out('a', a), out('b', b)]) });
      cleanup.push(() => relay.destroy());
      const m = `load_${mode}`;
      const load = writeLoop(relay, m);
      await eventually(() => assert.ok(load.sent() > 50));
      const beforeReload = load.sent();
      // b goes, c comes, a gets a new timeout and batch size.
      await writeFile(relay.configPath, config(port, top, [out('a', a, { timeout: '3s', 'max-batch-kb': 256 }), out('c', c)]));
      process.kill(relay.pid, 'SIGHUP');
      await eventually(reloaded(relay, 0), 10_000);
      const afterReload = load.sent();
      await eventually(() => assert.ok(load.sent() > afterReload + 50));
      const { acked, statuses } = await load.stop();
      assert.deepEqual([...new Set(statuses)], [204], 'no write got anything but 204 during the reload');
      await eventually(async () => assert.equal(await count(a, m), acked.length), 20_000);
      // b had everything acknowledged before the reload began; c everything acknowledged after it was done.
      await eventually(async () => assert.ok((await count(b, m)) >= beforeReload), 20_000);
      const onC = await c.query(`SELECT v FROM "${m}"`, { db: 'test' });
      const vs = new Set((onC?.results?.[0]?.series?.[0]?.values ?? []).map((row: unknown[]) => Number(row[1])));
      for (const n of acked.filter((x) => x >= afterReload)) assert.ok(vs.has(n), `point ${n} acknowledged after the reload is not on c`);
      const health = (await get(`${relay.url}/health`)).json as { backends: Array<{ name: string; missedWindows?: number }> };
      assert.deepEqual(health.backends.map((x) => x.name), ['a', 'c']);
      assert.ok((health.backends.find((x) => x.name === 'c')?.missedWindows ?? 0) > 0, 'c is recorded as missing what came before it');
      assert.equal((await get(`${relay.url}/health/backends/c`)).status, 503, 'so reads stay off c until it is repaired');
    });
  });
}

describe('reload refusals and the endpoint', () => {
  test('an invalid file is refused with the error logged, and the relay keeps its config', async () => {
    const a = await influxd();
    const port = await freePort();
    const relay = await startRelay({ toml: config(port, '', [{ name: 'a', location: `${a.url}/write` }]) });
    cleanup.push(() => relay.destroy());
    await writeFile(relay.configPath, '[[http]]\nbind-addr = "127.0.0.1:1"\noutput = [ { location = "not a url" } ]\n');
    process.kill(relay.pid, 'SIGHUP');
    await eventually(() => {
      const line = relay.logRecords().find((r) => String(r['msg']).startsWith('reload refused'));
      assert.ok(line, 'no refusal logged yet');
      assert.match(String(line['error']), /location/);
    }, 10_000);
    assert.equal((await post(`${relay.url}/write?db=test`, 'still v=1 1\n')).status, 204);
    await eventually(async () => assert.equal(await count(a, 'still'), 1));
  });

  test('POST /-/reload: 404 while off; with reload-endpoint = true, 200 with what changed, 400 for a bad file', async () => {
    const a = await influxd();
    const b = await influxd();
    const port = await freePort();
    const off = await startRelay({ toml: config(port, '', [{ name: 'a', location: `${a.url}/write` }]) });
    cleanup.push(() => off.destroy());
    assert.equal((await post(`${off.url}/-/reload`, '')).status, 404);
    await off.destroy();

    const port2 = await freePort();
    // a without a queue (buffer-size-mb = 0): a reload must keep its window for writes in flight.
    const unqueued: RelayOutput = { name: 'a', location: `${a.url}/write`, 'buffer-size-mb': 0 };
    const on = await startRelay({ toml: config(port2, 'reload-endpoint = true', [unqueued]) });
    cleanup.push(() => on.destroy());
    await writeFile(on.configPath, config(port2, 'reload-endpoint = true', [unqueued, { name: 'b', location: `${b.url}/write` }]));
    const ok = await post(`${on.url}/-/reload`, '');
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual((ok.json as { outputs: { added: string[] } }).outputs.added, ['b']);
    await writeFile(on.configPath, 'not toml at all [[');
    const bad = await post(`${on.url}/-/reload`, '');
    assert.equal(bad.status, 400);
    assert.match((bad.json as { error: string }).error, /reload refused/);
    assert.equal((await post(`${on.url}/write?db=test`, 'both v=1 1\n')).status, 204);
    await eventually(async () => assert.equal((await count(a, 'both')) + (await count(b, 'both')), 2));
  });
});
