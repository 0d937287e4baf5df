/**
 * `influx-relay verify` and `influx-relay repair`, run as the built CLI against real influxd 1.6: two replicas made
 * to differ in every way that matters (points only on one side, a measurement / an rp / a database only on one,
 * equal counts with different values; every field type, escapes everywhere, nanosecond timestamps, several rps).
 * verify reports exactly those; repair --both makes full dumps identical; a fresh replica filled by repair equals
 * the source, rps and all; a repair killed with SIGKILL and restarted does not redo its finished windows; --from-ledger
 * repairs exactly a ledger window.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { headerLine, windowLine } from '../../src/integrity/ledger-file.js';
import { LEDGER_FILE_NAME } from '../../src/integrity/ledger.js';
import { eventually } from '../helpers/eventually.js';
import { exited, track, trackDir, untrackDir } from '../helpers/children.js';
import { quoteIdent, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { RELAY_MAIN } from '../helpers/relay.js';

const S = 1_000_000_000n;
const H = 3600n * S;
const M = 60n * S;
// Recent enough for a 168h retention policy; whole hours so that windows are predictable.
const T0 = ((BigInt(Date.now()) * 1_000_000n - 12n * H) / H) * H;

let a: Influxd;
let b: Influxd;
let dir: string;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [RELAY_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  opts.onSpawn?.(child.pid!);
  return exited(child).then((info) => ({ code: info.code, stdout, stderr }));
}

const DB = 'db one';
const CPU = 'cpu load,x';
const cpuLp = 'cpu\\ load\\,x';
const STR = 'q "quoted" b \\ back\nnew line ✓ ünï';
const strLp = '"' + STR.replace(/[\\"]/g, (c) => '\\' + c) + '"';

/** Ten points an hour: two series at minutes 0, 12, 24, 36, 48 (plus odd nanoseconds). */
function cpuLines(hour: bigint, opts: { skipMinute?: bigint; changeMinute?: bigint } = {}): string {
  const lines: string[] = [];
  for (const minute of [0n, 12n, 24n, 36n, 48n]) {
    if (minute === opts.skipMinute) continue;
    const t = T0 + hour * H + minute * M + 123_456_789n;
    const f = minute === opts.changeMinute ? 2.5 : 1.5;
    lines.push(`${cpuLp},host=host\\ name,re\\ gion=a\\,b f=${f},i=-42i,s=${strLp},b=true ${t}`);
    lines.push(`${cpuLp},host=k\\=v f=0.1,i=9223372036854775807i,s="",b=false ${t + 1n}`);
  }
  return lines.join('\n');
}

async function seed(x: Influxd, side: 'a' | 'b'): Promise<void> {
  await x.query(`CREATE DATABASE ${quoteIdent(DB)}`);
  await x.query(`CREATE RETENTION POLICY "week" ON ${quoteIdent(DB)} DURATION 168h REPLICATION 1 SHARD DURATION 1h`);
  for (let h = 0n; h < 6n; h++) {
    if (side === 'b' && h === 1n) continue; // points only on a: the whole hour
    const opts = side === 'b' && h === 3n ? { skipMinute: 36n } : side === 'b' && h === 4n ? { changeMinute: 24n } : {};
    await x.write(DB, cpuLines(h, opts));
  }
  await x.write(DB, `mem,host=x used=12i,free=3.25,ok=true,note=${strLp} ${T0 + 30n * M + 7n}\nmem,host=y used=-1i ${T0 + 90n * M}`, { rp: 'week' });
  if (side === 'b') {
    await x.write(DB, [1n, 2n, 3n].map((n) => `only_on_b v=${n}i ${T0 + 2n * H + n * M}`).join('\n'));
  } else {
    await x.query(`CREATE RETENTION POLICY "only_a" ON ${quoteIdent(DB)} DURATION INF REPLICATION 1`);
    await x.write(DB, `disk,dev=sda free=1i ${T0 + 5n * H + 1n}\ndisk,dev=sdb free=2i ${T0 + 5n * H + 2n}`, { rp: 'only_a' });
    await x.query('CREATE DATABASE "second" WITH DURATION 100h SHARD DURATION 2h NAME "main"');
    await x.query('CREATE RETENTION POLICY "r2" ON "second" DURATION INF REPLICATION 1');
    await x.write('second', [0n, 1n, 2n, 3n].map((n) => `m2 v=${n}.5 ${T0 + n * M}`).join('\n'));
    await x.write('second', `m3,t=1 s="x" ${T0 + H + 5n}`, { rp: 'r2' });
  }
}

const key = (d: Record<string, unknown>): string =>
  [d['kind'], d['db'], d['rp'] ?? '', d['measurement'] ?? '', d['startNs'] !== undefined ? BigInt(d['startNs'] as string) - T0 : '', d['endNs'] !== undefined ? BigInt(d['endNs'] as string) - T0 : ''].join('|');

const win = (db: string, rp: string, m: string, from: bigint, to: bigint) => ['window', db, rp, m, from, to].join('|');

const EXPECTED_COUNT_DIFFS = [
  'database|second||||',
  `retention-policy|${DB}|only_a|||`,
  `measurement|${DB}||disk||`,
  `measurement|${DB}||only_on_b||`,
  win(DB, 'autogen', CPU, H, 2n * H),
  win(DB, 'autogen', CPU, 3n * H + 36n * M, 3n * H + 42n * M),
  win(DB, 'autogen', 'only_on_b', 2n * H, 3n * H),
  win(DB, 'only_a', 'disk', 5n * H, 6n * H),
  win('second', 'main', 'm2', 0n, H),
  win('second', 'r2', 'm3', H, 2n * H),
].sort();
const VALUE_DIFF = win(DB, 'autogen', CPU, 4n * H + 24n * M, 4n * H + 25n * M);

/** Everything a replica holds: databases, rps with their settings, and every point of every rp. */
async function dump(x: Influxd): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const dbs = (await x.query('SHOW DATABASES')).results[0].series[0].values.map((r: string[]) => r[0]).filter((d: string) => d !== '_internal');
  for (const db of dbs.sort()) {
    const rps = (await x.query(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`)).results[0].series[0].values as unknown[][];
    const points: Record<string, unknown> = {};
    for (const rp of rps) {
      const res = await x.query(`SELECT * FROM ${quoteIdent(rp[0] as string)}./.*/ GROUP BY *`, { db, epoch: 'ns' });
      points[rp[0] as string] = res.results[0].series ?? [];
    }
    out[db] = { rps: rps.sort(), points };
  }
  return out;
}

async function fieldTypesOf(x: Influxd): Promise<unknown> {
  return (await x.query(`SHOW FIELD KEYS ON ${quoteIdent(DB)} FROM ${quoteIdent(CPU)}`)).results[0].series;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'verify-repair-'));
  trackDir(dir);
  [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
  await Promise.all([seed(a, 'a'), seed(b, 'b')]);
});
after(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
  await rm(dir, { recursive: true, force: true });
  untrackDir(dir);
});

describe('verify and repair', () => {
  test('verify reports exactly the differing windows and objects, and exits 1', async () => {
    const shallow = await cli(['verify', '--backend', a.url, '--backend', b.url, '--json']);
    assert.equal(shallow.code, 1, shallow.stderr);
    const found = (JSON.parse(shallow.stdout) as { differences: Record<string, unknown>[] }).differences.map(key).sort();
    assert.deepEqual(found, EXPECTED_COUNT_DIFFS);

    const deep = await cli(['verify', '--backend', a.url, '--backend', b.url, '--json', '--deep']);
    assert.equal(deep.code, 1, deep.stderr);
    const deepFound = (JSON.parse(deep.stdout) as { differences: Record<string, unknown>[] }).differences.map(key).sort();
    assert.deepEqual(deepFound, [...EXPECTED_COUNT_DIFFS, VALUE_DIFF].sort());

    // The table names the window and the counts per replica.
    const table = await cli(['verify', '--backend', a.url, '--backend', b.url, '--db', 'second']);
    assert.equal(table.code, 1);
    assert.match(table.stdout, /^DB\s+RP\s+MEASUREMENT\s+WINDOW/m);
    assert.match(table.stdout, /second\s+main\s+m2\s+\S+ \.\. \S+\s+4\s+0/);
  });

  test('repair --both makes full dumps identical; verify --deep then exits 0', async () => {
    const dry = await cli(['repair', '--source', a.url, '--target', b.url, '--dry-run', '--json', '--deep']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /would run on .*CREATE DATABASE "second"/);
    assert.notDeepEqual(await dump(a), await dump(b), 'a dry run writes nothing');

    const res = await cli(['repair', '--source', a.url, '--target', b.url, '--both', '--deep', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as { directions: Array<{ copied: number; failed: number; points: number }> };
    assert.equal(report.directions.length, 2);
    assert.ok(report.directions.every((d) => d.failed === 0));
    assert.deepEqual(await dump(a), await dump(b));
    assert.deepEqual(await fieldTypesOf(a), await fieldTypesOf(b));
    // Exact values survived the trip: the int64 maximum, the escaped string.
    const pts = await b.points(DB, CPU);
    assert.ok(pts.some((p) => p['i'] === 9223372036854775807n && p['host'] === 'k=v'));
    assert.ok(pts.some((p) => p['s'] === STR && p['re gion'] === 'a,b' && p['host'] === 'host name'));

    const again = await cli(['verify', '--backend', a.url, '--backend', b.url, '--deep']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^identical/);
  });

  test('a fresh empty replica filled by repair equals the source, rps and all', async () => {
    const c = await startInfluxd();
    try {
      const res = await cli(['repair', '--source', a.url, '--target', c.url]);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await dump(c), await dump(a));
      assert.deepEqual(await fieldTypesOf(c), await fieldTypesOf(a));
    } finally {
      await c.destroy();
    }
  });

  test('a repair killed with SIGKILL and restarted does not redo its finished windows', async () => {
    const d = await startInfluxd();
    const checkpoint = path.join(dir, 'kill.checkpoint');
    try {
      const common = ['repair', '--source', a.url, '--target', d.url, '--window', '10m', '--unit-points', '1', '--checkpoint', checkpoint, '--json'];
      const planned = await cli([...common, '--dry-run']);
      assert.equal(planned.code, 0, planned.stderr);
      const total = (JSON.parse(planned.stdout) as { directions: Array<{ windows: number }> }).directions[0]!.windows;
      assert.ok(total >= 20, `windows planned: ${total}`);

      let pid = -1;
      const first = cli([...common, '--max-points-per-second', '15'], { onSpawn: (p) => (pid = p) });
      const lines = async () => (await readFile(checkpoint, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
      await eventually(async () => assert.ok((await lines()).length >= 5), 30_000, 20);
      process.kill(pid, 'SIGKILL');
      const killed = await first;
      assert.equal(killed.code, null, 'killed, not finished');
      const done = (await lines()).length;
      assert.ok(done < total, `${done} of ${total} done before the kill`);

      const second = await cli(common);
      assert.equal(second.code, 0, second.stderr);
      const copied = (JSON.parse(second.stdout) as { directions: Array<{ copied: number }> }).directions[0]!.copied;
      // Finished windows are not redone: at most the one in flight at the kill is, if unfinished.
      assert.ok(copied <= total - done + 1, `copied ${copied} after ${done} of ${total}`);
      assert.deepEqual(await dump(d), await dump(a));
      await assert.rejects(stat(checkpoint), 'the checkpoint is removed once the repair completes');
    } finally {
      await d.destroy();
    }
  });

  test('repair --from-ledger repairs exactly the ledger window and names its id', async () => {
    // A backend that missed one hour of one database's default rp, as the relay's ledger records it.
    const e = await startInfluxd();
    const ledgerDir = await mkdtemp(path.join(dir, 'ledger-'));
    try {
      await e.query(`CREATE DATABASE ${quoteIdent(DB)}`);
      await e.write(DB, cpuLines(0n));
      const now = new Date().toISOString();
      const window = {
        id: 'w-1',
        backend: 'e',
        db: DB,
        rp: '',
        fromNs: String(T0 + 3n * H),
        toNs: String(T0 + 4n * H - 1n),
        points: 10,
        batches: 1,
        reason: 'drop-oldest',
        firstAt: now,
        lastAt: now,
      };
      await writeFile(path.join(ledgerDir, LEDGER_FILE_NAME), headerLine() + windowLine(window));
      const toml = path.join(dir, 'relay.toml');
      await writeFile(
        toml,
        `ledger-dir = ${JSON.stringify(ledgerDir)}\n[[http]]\nname = "h"\nbind-addr = "127.0.0.1:1"\n` +
          `output = [ { name = "a", location = "${a.url}/write" }, { name = "e", location = "${e.url}/write" } ]\n`,
      );
      const res = await cli(['repair', '--from-ledger', '-config', toml]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /repaired ledger windows: w-1 .*does not write its ledger/);
      const times = (await e.points(DB, CPU)).map((p) => BigInt(p['time'] as string));
      assert.equal(times.length, 20);
      assert.equal(times.filter((t) => t >= T0 + 3n * H).length, 10, 'exactly the ledger hour was copied');
      const ledgerText = await readFile(path.join(ledgerDir, LEDGER_FILE_NAME), 'utf8');
      assert.ok(!ledgerText.includes('repairedAt'), 'the ledger file is left to the relay');
    } finally {
      await e.destroy();
    }
  });
});
