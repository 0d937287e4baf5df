/**
 * Micro-benchmark of the line-protocol scanner on Telegraf-like bodies (3-6 tags, 5-10 fields, timestamps).
 * Plain script (not a node:test test): `node dist/test/bench/scanner.bench.js [seconds per case]`.
 * Prints lines/s and MB/s per case: the median of several timed rounds after a warm-up, by wall clock and by CPU
 * time of this process (the latter is steadier on a shared machine). A baseline line (a plain byte-sum loop) says
 * how fast this machine runs the simplest possible JS loop over a Buffer, to put the other numbers in proportion.
 */
import { scanLines } from '../../src/lineprotocol/scanner.js';
import type { ScanOptions } from '../../src/lineprotocol/scanner.js';

const LINES_PER_BODY = 5000; // about what Telegraf sends per flush (metric_batch_size 5000)
const ROUNDS = 7;
const secondsPerCase = Number(process.argv[2] ?? 1);

// Deterministic PRNG so runs are comparable.
let seed = 42;
function rnd(n: number): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed % n;
}

const MEASUREMENTS: ReadonlyArray<{ name: string; fields: readonly string[] }> = [
  { name: 'cpu', fields: ['usage_user', 'usage_system', 'usage_idle', 'usage_iowait', 'usage_steal', 'usage_nice', 'usage_irq'] },
  { name: 'mem', fields: ['used', 'free', 'cached', 'buffered', 'available', 'used_percent', 'total', 'active'] },
  { name: 'disk', fields: ['free', 'used', 'total', 'inodes_free', 'inodes_used', 'used_percent'] },
  { name: 'net', fields: ['bytes_sent', 'bytes_recv', 'packets_sent', 'packets_recv', 'err_in', 'err_out', 'drop_in', 'drop_out', 'speed', 'up'] },
];
const TAGS = ['host=server01', 'region=us-west', 'cpu=cpu0', 'dc=dc1', 'env=prod', 'rack=r12', 'os=linux'];

function fieldValue(k: number): string {
  switch (rnd(5)) {
    case 0:
      return `${rnd(100000)}i`;
    case 1:
      return k % 7 === 0 ? 'true' : `${rnd(1000)}.${rnd(100)}`;
    default:
      return `${rnd(100)}.${rnd(1000)}`;
  }
}

function telegrafLine(ts: boolean): string {
  const m = MEASUREMENTS[rnd(MEASUREMENTS.length)]!;
  const nTags = 3 + rnd(4);
  const tags = TAGS.slice(0, nTags).join(',');
  const nFields = Math.min(m.fields.length, 5 + rnd(6));
  const fields = m.fields.slice(0, nFields).map((f, k) => `${f}=${fieldValue(k)}`).join(',');
  return `${m.name},${tags} ${fields}${ts ? ` ${1700000000000000000 + rnd(1e9)}` : ''}`;
}

function body(lines: number, opts: { ts?: boolean; eol?: string; badEvery?: number } = {}): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(opts.badEvery !== undefined && i % opts.badEvery === 0 ? 'cpu,host=a usage=' : telegrafLine(opts.ts ?? true));
  }
  return Buffer.from(out.join(opts.eol ?? '\n') + (opts.eol ?? '\n'));
}

interface Case {
  name: string;
  input: Buffer;
  opts: ScanOptions;
}

const EXAMPLE =
  'cpu,host=server01,region=us-west,cpu=cpu0,dc=dc1 usage_user=12.5,usage_system=3.25,usage_idle=84.0,usage_iowait=0.25,usage_steal=0i 1700000000000000000\n';

const cases: Case[] = [
  { name: 'example line x5000 (zero copy)', input: Buffer.from(EXAMPLE.repeat(LINES_PER_BODY)), opts: { precision: 'n' } },
  { name: 'telegraf mix, timestamped', input: body(LINES_PER_BODY), opts: { precision: 'n' } },
  { name: 'no timestamps (stamped)', input: body(LINES_PER_BODY, { ts: false }), opts: { precision: 'n', stamp: '1700000000000000000' } },
  { name: 'CRLF line ends', input: body(LINES_PER_BODY, { eol: '\r\n' }), opts: { precision: 'n' } },
  { name: '1% invalid lines', input: body(LINES_PER_BODY, { badEvery: 100 }), opts: { precision: 'n' } },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `fn` repeatedly for `ms`; returns calls per second by wall clock and by this process's CPU time. */
function round(fn: () => number, ms: number): { wall: number; cpu: number } {
  let n = 0;
  let sink = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(ms * 1e6));
  let t = t0;
  while (t < deadline) {
    for (let k = 0; k < 10; k++) sink += fn();
    n += 10;
    t = process.hrtime.bigint();
  }
  const c = process.cpuUsage(c0);
  if (sink === 0) throw new Error('nothing scanned'); // keeps the result observable
  return { wall: n / (Number(t - t0) / 1e9), cpu: n / ((c.user + c.system) / 1e6) };
}

function measure(fn: () => number): { wall: number; cpu: number } {
  round(fn, 300); // warm-up (JIT)
  const rs: Array<{ wall: number; cpu: number }> = [];
  for (let r = 0; r < ROUNDS; r++) rs.push(round(fn, (secondsPerCase * 1000) / ROUNDS));
  return { wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) };
}

function byteSum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b[i]!;
  return s + 1;
}

console.log(`scanner bench: ${LINES_PER_BODY} lines per body, median of ${ROUNDS} rounds, node ${process.version}`);
const calibration = cases[0]!.input;
const base = measure(() => byteSum(calibration));
console.log(
  `${'baseline: byte-sum loop'.padEnd(34)} ${((base.wall * calibration.length) / 1e6).toFixed(0).padStart(5)} MB/s wall ${((base.cpu * calibration.length) / 1e6).toFixed(0).padStart(5)} MB/s cpu`,
);
for (const c of cases) {
  const bytesPerLine = c.input.length / LINES_PER_BODY;
  const r = measure(() => scanLines(c.input, c.opts).points);
  const m = (x: number): string => ((x * LINES_PER_BODY) / 1e6).toFixed(2).padStart(5);
  const mb = (x: number): string => ((x * c.input.length) / 1e6).toFixed(0).padStart(4);
  console.log(
    `${c.name.padEnd(34)} ${m(r.wall)} M lines/s ${mb(r.wall)} MB/s wall | ${m(r.cpu)} M lines/s ${mb(r.cpu)} MB/s cpu  (${bytesPerLine.toFixed(0)} B/line)`,
  );
}
