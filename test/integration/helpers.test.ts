// Tests of the test helpers themselves: real influxd processes (start, write, read back
// exact ns timestamps, auth, restart, stop, nothing left behind), the relay spawner
// (against a stub script, so it does not depend on the relay being built), the fake
// backend and the HTTP client.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pidAlive } from '../helpers/children.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeBackend } from '../helpers/fake-backend.js';
import { get, post } from '../helpers/http.js';
import { startInfluxd } from '../helpers/influxd.js';
import { parseJsonLossless } from '../helpers/json.js';
import { freePort, freePorts, portInUse } from '../helpers/ports.js';
import { RELAY_MAIN, relayToml, runRelayToExit, startRelay } from '../helpers/relay.js';

const NS = '1700000000123456789';

const waitGone = (pid: number, ms = 5000): Promise<boolean> =>
  eventually(() => !pidAlive(pid), ms, 50).then(() => true, () => false);

describe('influxd helper', () => {
  test('two servers: write directly, read back exact ns timestamps and int64, stop leaves nothing', async () => {
    const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    try {
      assert.notEqual(a.port, b.port);
      assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const s of [a, b]) {
        await s.createDatabase('db1');
        const res = await post(`${s.url}/write?db=db1`, `cpu,host=h1 value=1.5,big=9007199254740993i ${NS}\n`);
        assert.equal(res.status, 204, res.body);
        const rows = await s.points('db1', 'cpu');
        assert.deepEqual(rows, [{ time: NS, big: 9007199254740993n, host: 'h1', value: 1.5 }]);
      }
      assert.deepEqual(await a.points('db1', 'nothing_here'), []);
    } finally {
      const pids = [a.pid, b.pid];
      const dirs = [a.dataDir, b.dataDir];
      await Promise.all([a.destroy(), b.destroy()]);
      for (const pid of pids) assert.equal(pidAlive(pid), false, `influxd ${pid} still running`);
      for (const d of dirs) assert.equal(existsSync(d), false, `${d} not removed`);
    }
  });

  test('retention policy, restart keeps data on the same port, kill() is SIGKILL', async () => {
    const s = await startInfluxd();
    try {
      await s.createDatabase('db2', { name: 'short', duration: '1h', default: false });
      const rps = await s.query('SHOW RETENTION POLICIES ON "db2"');
      const names = (rps.results[0].series[0].values as unknown[][]).map((v) => v[0]);
      assert.deepEqual(names.sort(), ['autogen', 'short']);
      const now = BigInt(Date.now()) * 1_000_000n + 7n;
      await s.write('db2', `m v=1i ${now}`, { rp: 'short' });
      const port = s.port;
      const pid1 = s.pid;
      await s.restart();
      assert.equal(s.port, port);
      assert.notEqual(s.pid, pid1);
      assert.equal(pidAlive(pid1), false);
      assert.deepEqual(await s.points('db2', 'm', { rp: 'short' }), [{ time: String(now), v: 1 }]);
      const pid2 = s.pid;
      await s.kill();
      assert.equal(pidAlive(pid2), false);
    } finally {
      await s.destroy();
    }
  });

  test('auth: admin created; wrong password and no credentials are 401', async () => {
    const s = await startInfluxd({ auth: true, adminUser: 'root', adminPass: "p'w" });
    try {
      assert.deepEqual(s.admin, { user: 'root', pass: "p'w" });
      await s.createDatabase('secure'); // uses the admin credentials by default
      const wrong = await post(`${s.url}/write?db=secure`, `m v=1 ${NS}`, { auth: { user: 'root', pass: 'nope' } });
      assert.equal(wrong.status, 401);
      const none = await post(`${s.url}/write?db=secure`, `m v=1 ${NS}`);
      assert.equal(none.status, 401);
      await assert.rejects(s.query('SHOW DATABASES', { auth: { user: 'root', pass: 'nope' } }), /HTTP 401/);
      const ok = await post(`${s.url}/write?db=secure`, `m v=1 ${NS}`, { auth: { user: 'root', pass: "p'w" } });
      assert.equal(ok.status, 204, ok.body);
      assert.deepEqual(await s.points('secure', 'm'), [{ time: NS, v: 1 }]);
    } finally {
      await s.destroy();
    }
  });

  test('a taken port is refused; a start failure reports influxd output', async () => {
    const blocker = await startInfluxd();
    try {
      await assert.rejects(startInfluxd({ port: blocker.port }), /127\.0\.0\.1:\d+ is already in use/);
      // influxd itself fails at open: HTTPS with a certificate that does not exist.
      const bad = { http: { 'https-enabled': true, 'https-certificate': '/nonexistent/cert.pem' } };
      await assert.rejects(startInfluxd({ overrides: bad }), /exited early \(code 1[\s\S]*nonexistent\/cert\.pem/);
    } finally {
      await blocker.destroy();
    }
  });

  test('children are SIGKILLed when the test process exits abnormally', async () => {
    const helper = new URL('../helpers/influxd.js', import.meta.url).href;
    const endings = ['process.exit(3)', 'process.kill(process.pid, "SIGTERM")', 'throw new Error("boom")'];
    await Promise.all(
      endings.map(async (ending) => {
        const script = `import { startInfluxd } from ${JSON.stringify(helper)};
          const s = await startInfluxd(); console.log('PID ' + s.pid + ' ' + s.dataDir);
          setTimeout(() => { ${ending} }, 10); setInterval(() => {}, 1000);`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', () => undefined);
        await new Promise((r) => child.once('exit', r));
        const m = /PID (\d+) (\S+)/.exec(out);
        assert.ok(m, `no PID printed for ${ending}: ${out}`);
        assert.ok(await waitGone(Number(m[1])), `influxd survived ${ending}`);
        assert.equal(existsSync(m[2] as string), false, `temp dir survived ${ending}`);
      }),
    );
  });
});

describe('relay helper', () => {
  let dir: string;
  let stub: string;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // A stand-in for dist/src/main.js honouring the same contract: -config relay.toml,
  // listen on [[http]] bind-addr, GET /ping 204, exit 0 on SIGTERM, JSON logs on stdout.
  const STUB = `import http from 'node:http'; import { readFileSync } from 'node:fs';
    const cfg = readFileSync(process.argv[process.argv.indexOf('-config') + 1], 'utf8');
    if (cfg.includes('bad-key')) { console.error('config error: http[0].bad-key: unknown key'); process.exit(2); }
    const addr = /bind-addr = "([^"]+)"/.exec(cfg)[1]; const i = addr.lastIndexOf(':');
    const srv = http.createServer((q, r) => { r.statusCode = q.url === '/ping' ? 204 : 404; r.end(); });
    srv.listen(Number(addr.slice(i + 1)), addr.slice(0, i), () => console.log(JSON.stringify({ level: 30, msg: 'listening', addr })));
    process.on('SIGTERM', () => { console.log(JSON.stringify({ level: 30, msg: 'drained' })); srv.close(() => process.exit(0)); });`;

  test('startRelay waits for /ping, captures logs, stop() returns the exit code', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relay-stub-'));
    stub = path.join(dir, 'stub.mjs');
    await writeFile(stub, STUB);
    const port = await freePort();
    const relay = await startRelay({ main: stub, toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [{ name: 'x', location: 'http://127.0.0.1:1/write' }] }) });
    try {
      assert.equal(relay.url, `http://127.0.0.1:${port}`);
      assert.equal((await get(`${relay.url}/ping`)).status, 204);
      assert.equal(await relay.stop(), 0);
      assert.equal(pidAlive(relay.pid), false);
      assert.deepEqual(relay.logRecords().map((r) => r.msg), ['listening', 'drained']);
    } finally {
      await relay.destroy();
    }
    assert.equal(existsSync(relay.dir), false);
  });

  test('startRelay rejects with the output of a relay that exits early; runRelayToExit reports it', async () => {
    const toml = relayToml({ bindAddr: '127.0.0.1:1', outputs: [], extraHttp: 'bad-key = 1' });
    await assert.rejects(startRelay({ main: stub, toml }), /exited early \(code 2[\s\S]*http\[0\]\.bad-key/);
    const r = await runRelayToExit({ main: stub, toml });
    assert.equal(r.code, 2);
    assert.equal(r.timedOut, false);
    assert.match(r.output, /unknown key/);
  });

  test('the built relay (when present) mirrors a write to two real influxd', { skip: !existsSync(RELAY_MAIN) && 'relay not built' }, async () => {
    const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    const port = await freePort();
    const outputs = [a, b].map((s, i) => ({ name: `influx-${i}`, location: `${s.url}/write`, 'buffer-size-mb': 8 }));
    const relay = await startRelay({ toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs }) });
    try {
      await Promise.all([a.createDatabase('r'), b.createDatabase('r')]);
      const res = await post(`${relay.url}/write?db=r`, `m,k=v f=2i ${NS}\n`);
      assert.equal(res.status, 204, res.body);
      for (const s of [a, b]) {
        const rows = await eventually(async () => {
          const r = await s.points('r', 'm');
          return r.length > 0 && r;
        }, 5000);
        assert.deepEqual(rows, [{ time: NS, f: 2, k: 'v' }]);
      }
      assert.equal(await relay.stop(), 0, relay.logs());
    } finally {
      await relay.destroy();
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  test('kill9 ends the relay with SIGKILL', async () => {
    const port = await freePort();
    const relay = await startRelay({ main: stub, toml: relayToml({ bindAddr: `127.0.0.1:${port}`, outputs: [] }) });
    await relay.kill9();
    assert.deepEqual(await relay.waitExit(), { code: null, signal: 'SIGKILL' });
    await relay.destroy();
  });
});

describe('fake backend, http client, ports, json', () => {
  test('scripted answers, recorded bodies, gzip, hang and destroy', async () => {
    const fb = await startFakeBackend({ steps: [{ status: 500, body: '{"error":"boom"}', headers: { 'retry-after': '1' } }] });
    try {
      const r1 = await post(`${fb.writeUrl}?db=x`, 'm v=1');
      assert.equal(r1.status, 500);
      assert.equal(r1.headers['retry-after'], '1');
      assert.deepEqual(r1.json, { error: 'boom' });
      const r2 = await post(fb.writeUrl, 'm v=2', { gzip: true });
      assert.equal(r2.status, 204);
      assert.equal(fb.requests[0]?.url, '/write?db=x');
      assert.equal(fb.requests[1]?.headers['content-encoding'], 'gzip');
      assert.equal(gunzipSync(fb.requests[1]?.body as Buffer).toString(), 'm v=2');

      fb.enqueue({ destroy: true });
      await assert.rejects(post(fb.writeUrl, 'm v=3'), /socket hang up|ECONNRESET/);

      fb.setScript({ status: 200, body: 'slow', delayMs: 100 });
      assert.equal((await get(`${fb.url}/x`)).body, 'slow');

      fb.enqueue({ hang: true });
      const hanging = post(fb.writeUrl, 'm v=4', { timeoutMs: 10_000 });
      await fb.waitForRequests(5);
      await fb.close();
      await assert.rejects(hanging);
      assert.equal(fb.requests.length, 5);
    } finally {
      await fb.close();
    }
  });

  test('freePorts are distinct and bindable; portInUse sees a listener', async () => {
    const ports = await freePorts(5);
    assert.equal(new Set(ports).size, 5);
    const fb = await startFakeBackend();
    assert.equal(await portInUse(fb.port), true);
    await fb.close();
    assert.equal(await portInUse(fb.port), false);
  });

  test('parseJsonLossless keeps int64 and parses like JSON.parse otherwise', () => {
    const text = '{"a":[1700000000123456789,-9223372036854775808,1.5e3,-0.25,9007199254740991],"s":"x\\"\\u00e9","t":true,"n":null,"o":{}}';
    assert.deepEqual(parseJsonLossless(text), {
      a: [1700000000123456789n, -9223372036854775808n, 1500, -0.25, 9007199254740991],
      s: 'x"é',
      t: true,
      n: null,
      o: {},
    });
    assert.throws(() => parseJsonLossless('{"a":1,}'), SyntaxError);
  });
});

