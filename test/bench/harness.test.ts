// Tests of the benchmark harness itself (not of the relay): bodies, report splicing, metric parsing, profile summary,
// /proc readers, a real nginx sink, and the Go relay comparison (GO_RELAY_BIN) against a stand-in.
// Run: node --test dist/test/bench/harness.test.js
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanLines } from '../../src/lineprotocol/scanner.js';
import { pidAlive } from '../helpers/children.js';
import { post } from '../helpers/http.js';
import { BASE_TIME_NS, generateBody, MEASUREMENT_NAMES, restamp } from './bodies.js';
import { NGINX_BIN, startNginxSink } from './nginx.js';
import { cpuSeconds, rssMiB, boxCpu, childPids } from './proc.js';
import { summarizeProfile } from './profile-summary.js';
import { END, renderResults, spliceResults, START } from './report.js';
import { has, parseMetrics, total, waitDrained } from './scrape.js';
import { fmt, max, median } from './stats.js';

function timestamps(body: Buffer): bigint[] {
  return body
    .toString()
    .trimEnd()
    .split('\n')
    .map((l) => BigInt(l.slice(l.lastIndexOf(' ') + 1)));
}

describe('bodies', () => {
  test('the same seed gives the same bytes; another seed other bytes', () => {
    assert.deepEqual(generateBody(500, 7).body, generateBody(500, 7).body);
    assert.notDeepEqual(generateBody(500, 7).body, generateBody(500, 8).body);
  });

  test('every line is valid line protocol with 3–6 tags, 5–10 fields of every type, and a 19-digit ns timestamp', () => {
    const g = generateBody(2000, 1);
    const r = scanLines(g.body, { precision: 'n' });
    assert.equal(r.errorCount, 0, JSON.stringify(r.errors));
    assert.equal(r.points, 2000);
    const seen = new Set<string>();
    for (const line of g.body.toString().trimEnd().split('\n')) {
      // Series keys hold no space; string fields may (Telegraf's uptime_format), so the timestamp is after the last one.
      const series = line.slice(0, line.indexOf(' '));
      const fields = line.slice(series.length + 1, line.lastIndexOf(' '));
      const ts = line.slice(line.lastIndexOf(' ') + 1);
      const [measurement, ...tags] = series.split(',');
      seen.add(measurement as string);
      assert.ok(tags.length >= 3 && tags.length <= 6, line);
      const keys = tags.map((t) => t.split('=')[0]);
      assert.deepEqual(keys, [...keys].sort(), `tag keys sorted: ${line}`);
      const values = (fields.match(/[^,=]+=("[^"]*"|[^,]*)/g) ?? []).map((f) => f.slice(f.indexOf('=') + 1));
      assert.ok(values.length >= 5 && values.length <= 10, line);
      assert.ok(values.some((v) => /^\d+i$/.test(v)), `an integer: ${line}`);
      assert.ok(values.some((v) => /^\d*\.\d+$/.test(v)), `a float: ${line}`);
      assert.ok(values.some((v) => v.startsWith('"')), `a string: ${line}`);
      assert.ok(values.some((v) => v === 'true' || v === 'false'), `a bool: ${line}`);
      assert.match(ts, /^\d{19}$/);
    }
    assert.deepEqual([...seen].sort(), [...MEASUREMENT_NAMES].sort());
  });

  test('lines of a body have distinct timestamps from BASE_TIME_NS on', () => {
    const ts = timestamps(generateBody(100, 3, 1000).body);
    assert.equal(ts[0], BASE_TIME_NS);
    assert.equal(ts[99], BASE_TIME_NS + 99_000n);
  });

  test('restamp rewrites every timestamp in place and keeps the body valid', () => {
    const g = generateBody(300, 5, 1000);
    const before = g.body.length;
    restamp(g, 987_654_321_000, 1000);
    assert.equal(g.body.length, before);
    const ts = timestamps(g.body);
    ts.forEach((t, i) => assert.equal(t, BASE_TIME_NS + 987_654_321_000n + BigInt(i) * 1000n));
    assert.equal(scanLines(g.body, { precision: 'n' }).points, 300);
    assert.throws(() => restamp(g, 1e12), /out of range/);
  });
});

describe('report', () => {
  const block = `${START}\nnew results\n${END}`;

  test('replaces only the text between the markers', () => {
    const doc = `# Title\nintro\n\n${START}\nold\n${END}\n\n## Analysis\nmine\n`;
    assert.equal(spliceResults(doc, block), `# Title\nintro\n\n${block}\n\n## Analysis\nmine\n`);
  });

  test('a new document gets an intro, the block and an analysis section', () => {
    const doc = spliceResults(undefined, block);
    assert.match(doc, /^# Benchmarks\n/);
    assert.ok(doc.indexOf(block) > 0 && doc.indexOf('## Analysis') > doc.indexOf(block));
  });

  test('a document without markers keeps its text and gets the block appended', () => {
    assert.equal(spliceResults('# Mine\n', block), `# Mine\n\n${block}\n`);
  });
});

describe('scrape', () => {
  const text = [
    '# HELP influx_relay_backend_queue_bytes Bytes waiting',
    '# TYPE influx_relay_backend_queue_bytes gauge',
    'influx_relay_backend_queue_bytes{backend="a"} 10',
    'influx_relay_backend_queue_bytes{backend="b"} 5',
    'influx_relay_points_received_total{listener="bench"} 7000',
  ].join('\n');

  test('sums a metric over its series, or over the series matching a label', () => {
    const s = parseMetrics(text);
    assert.equal(total(s, 'influx_relay_backend_queue_bytes'), 15);
    assert.equal(total(s, 'influx_relay_backend_queue_bytes', 'backend="b"'), 5);
    assert.equal(total(s, 'influx_relay_points_received_total'), 7000);
    assert.equal(has(s, 'influx_relay_backend_queue_bytes'), true);
    assert.equal(has(s, 'influx_relay_backend_queue'), false);
  });

  test('the drain ends when the relay has settled, not at the first empty queue: a request in flight at the end of the load counts', async () => {
    // Queues empty from the start, but one more body (1000 points) is received and then delivered after the load.
    const states = [
      { received: 5000, delivered: 5000 },
      { received: 6000, delivered: 5000 },
      { received: 6000, delivered: 6000 },
    ];
    let n = 0;
    const server = createServer((_req, res) => {
      const st = states[Math.min(n++, states.length - 1)]!;
      res.end(
        [
          'influx_relay_backend_queue_bytes{backend="a"} 0',
          `influx_relay_points_received_total{listener="bench"} ${st.received}`,
          `influx_relay_backend_points_delivered_total{backend="a"} ${st.delivered}`,
        ].join('\n'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { samples } = await waitDrained(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 10, 10);
      assert.equal(total(samples, 'influx_relay_points_received_total'), 6000);
      assert.equal(total(samples, 'influx_relay_backend_points_delivered_total'), 6000);
    } finally {
      server.close();
    }
  });
});

describe('stats', () => {
  test('median of odd and even counts ignores NaN; max; fmt', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([NaN, 5]), 5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(max([1, NaN, 3]), 3);
    assert.equal(fmt(1234567.891, 1), '1,234,567.9');
    assert.equal(fmt(NaN), '—');
  });
});

describe('profile summary', () => {
  test('self time per function, idle set apart, callers and inclusive time', () => {
    const frame = (functionName: string, url = 'file:///x/dist/src/a.js') => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
        { id: 2, callFrame: frame('handle'), children: [4] },
        { id: 3, callFrame: frame('(idle)', '') },
        { id: 4, callFrame: frame('scan') },
      ],
      samples: [4, 4, 4, 2, 3, 3],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
    };
    const s = summarizeProfile(profile);
    assert.equal(s.sampledMs, 6);
    assert.equal(s.idleMs, 2);
    assert.equal(s.functions[0]?.name, 'scan');
    assert.equal(s.functions[0]?.share, 0.75);
    assert.match(s.functions[0]?.callers[0]?.name ?? '', /^handle /);
    assert.equal(s.inclusive.find((h) => h.name === 'handle')?.ms, 4);
  });
});

describe('proc', () => {
  test('reads this process: CPU time, RSS, and the box counters', () => {
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i;
    assert.ok(x > 0);
    assert.ok(cpuSeconds(process.pid) > 0);
    assert.ok(rssMiB(process.pid) > 10);
    const b = boxCpu();
    assert.ok(b.total > b.busy && b.busy > 0);
    assert.ok(Number.isNaN(cpuSeconds(2 ** 22 + 12345)));
  });
});

describe('nginx sink', { skip: !existsSync(NGINX_BIN) && `${NGINX_BIN} is not installed` }, () => {
  test('answers 204 after reading the whole body, logs the bytes, and stops master and worker', async () => {
    const sink = await startNginxSink();
    const pids = [sink.pid, ...sink.workerPids];
    try {
      assert.equal(sink.workerPids.length, 1);
      assert.deepEqual(childPids(sink.pid), [...sink.workerPids]);
      const body = generateBody(5000, 2).body;
      for (let i = 0; i < 3; i++) {
        const res = await post(`${sink.url}/write?db=x`, body);
        assert.equal(res.status, 204);
      }
      await new Promise((r) => setTimeout(r, 100));
      const st = sink.takeStats();
      assert.deepEqual(st, { requests: 3, bodyBytes: 3 * body.length, shortReads: 0, non204: 0 });
      assert.deepEqual(sink.takeStats(), { requests: 0, bodyBytes: 0, shortReads: 0, non204: 0 });
    } finally {
      await sink.stop();
    }
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still running`);
  });
});

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRK_BIN = process.env.WRK_BIN ?? '/usr/bin/wrk';

describe('Go relay comparison', { skip: (!existsSync(NGINX_BIN) || !existsSync(WRK_BIN)) && 'needs nginx and wrk' }, () => {
  test('with GO_RELAY_BIN, the sink scenario runs each case against that binary too and reports its verified rows beside ours', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-go-'));
    try {
      // The Go binary is not on this machine: a wrapper runs the stand-in that speaks its config and behaviour.
      const bin = path.join(dir, 'influxdb-relay');
      await writeFile(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(HERE, 'go-relay-stub.js'))} "$@"\n`);
      await chmod(bin, 0o755);
      const out = path.join(dir, 'bench.md');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        GO_RELAY_BIN: bin,
        BENCH_QUICK: '1',
        BENCH_SCENARIOS: 'sinks',
        BENCH_SINK_CASES: '1000x4',
        BENCH_SECONDS: '1',
        BENCH_WARMUP: '0',
        BENCH_IDLE_WAIT: '0',
        BENCH_OUT: out,
      };
      delete env.BENCH_TMP;
      delete env.BENCH_PIDFILE;
      delete env.BENCH_MICRO_DIR;
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.join(HERE, 'bench.js')], { env, timeout: 60_000 }, (err, _stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
        );
      });
      assert.equal(run.code, 0, run.stderr);
      const md = await readFile(out, 'utf8');
      const row = (who: string): string[] | undefined =>
        md.split('\n').find((l) => l.startsWith(`| 1000 lines | 4 | ${who} |`))?.split('|').map((c) => c.trim());
      // | Body | Conns | Relay | Points/s | Runs | p50 | p99 | cores | µs/point | RSS peak | RSS idle | Verified |
      for (const who of ['this relay', 'Go influxdb-relay']) {
        const cells = row(who);
        assert.ok(cells, `no ${who} row in:\n${md}`);
        assert.equal(cells[12], '✓', `${who} run not verified:\n${md}`);
        for (const i of [4, 6, 7, 8, 9, 10, 11]) assert.match(cells[i] ?? '', /^\**\d[\d,.]*\**$/, `${who}, column ${i}: ${cells[i]}`);
      }
      assert.match(md, /Go influxdb-relay config used/);
      assert.doesNotMatch(md, /not run \(set `GO_RELAY_BIN`/);
      // The Targets table compares p99 case by case.
      assert.match(md, /\| p99 latency no worse than the Go relay's at equal load [^|]*\| \d[\d.]* \(1000 × 4\) \| (yes|\*\*no\*\*) \|/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('without GO_RELAY_BIN the report says, in one line, that the comparison was not run', () => {
    const sinks = { results: [], relayToml: '' };
    const md = renderResults({
      machine: { cores: 2, cpuModel: 'x', memGiB: 1, node: 'v20', kernel: 'k', date: 'd' },
      versions: {},
      mode: 'm',
      engine: 'wrk',
      sinks,
      micro: [],
      failures: [],
      background: { busy: 0, waitedS: 0, quiet: true },
    });
    const lines = md.split('\n').filter((l) => l.includes('Go influxdb-relay'));
    assert.equal(lines.filter((l) => l.includes('not run')).length, 1, md);
    assert.doesNotMatch(md, /\| Go influxdb-relay \|/);
  });
});
