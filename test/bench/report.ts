/**
 * The generated part of docs/benchmarks.md: machine, method, result tables, checks against the targets.
 * Only the text between the markers is replaced, so the intro above and the analysis below stay as people wrote them.
 */
import type { MachineInfo } from './proc.js';
import type { InfluxScenarioResult } from './scenario-influxd.js';
import type { SinkScenarioResult } from './scenario-sinks.js';
import { fmt, max, median } from './stats.js';

export const START = '<!-- bench:start -->';
export const END = '<!-- bench:end -->';

/** Targets from the issue; reported, never adjusted. */
export const TARGET_POINTS_PER_SEC = 1.4e6;
export const TARGET_US_PER_POINT = 1;

export interface BenchReport {
  machine: MachineInfo;
  versions: Record<string, string>;
  mode: string;
  engine: string;
  sinks?: SinkScenarioResult;
  influx?: InfluxScenarioResult;
  micro: Array<{ name: string; output: string }>;
  /** Scenarios that could not run, with why. */
  failures: string[];
  profile?: string;
  /** How busy the box was with other work just before the run. */
  background: { busy: number; waitedS: number; quiet: boolean };
}

const med = <T>(xs: readonly T[], f: (x: T) => number): number => median(xs.map(f));
const mpts = (x: number): string => (Number.isNaN(x) ? '—' : (x / 1e6).toFixed(3));
const mem = (r: ReadonlyArray<{ relayRssPeakMiB: number; relayHeapMiB: number; relayExternalMiB: number }>): string =>
  `${fmt(max(r.map((x) => x.relayRssPeakMiB)))} (${fmt(median(r.map((x) => x.relayHeapMiB)))} / ${fmt(median(r.map((x) => x.relayExternalMiB)))})`;
const lineBytes = (bodyBytes: number, lines: number): string => fmt(bodyBytes / lines, 0);

function sinkTable(s: SinkScenarioResult): string[] {
  const rows = [
    '| Body | Conns | **Points/s (M)** | Runs (M points/s) | MB/s in | p50 ms | p99 ms | Relay cores | **Relay µs/point** | Relay RSS peak MiB (heap / Buffers at load end) | Load gen cores | nginx cores | Box busy cores | Other procs cores | Verified |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|',
  ];
  for (const c of s.results) {
    const r = c.runs;
    rows.push(
      `| ${c.lines} lines (${lineBytes(c.bodyBytes, c.lines)} B/line) | ${c.connections} | **${mpts(med(r, (x) => x.pointsPerSec))}** | ` +
        `${r.map((x) => mpts(x.pointsPerSec)).join(', ')} | ${fmt(med(r, (x) => x.mbPerSec))} | ` +
        `${fmt(med(r, (x) => x.load.latencyP50Ms), 1)} | ${fmt(med(r, (x) => x.load.latencyP99Ms), 1)} | ` +
        `${fmt(med(r, (x) => x.relayCores), 2)} | **${fmt(med(r, (x) => x.relayUsPerPoint), 2)}** | ${mem(r)} | ` +
        `${fmt(med(r, (x) => x.loadCores), 2)} | ${fmt(med(r, (x) => x.sinkCores), 2)} | ${fmt(med(r, (x) => x.boxCores), 2)} | ${fmt(med(r, (x) => x.otherCores), 2)} | ` +
        `${verified(c)} |`,
    );
  }
  return rows;
}

function influxTable(s: InfluxScenarioResult): string[] {
  const rows = [
    '| Body | Conns | **Accepted points/s (M)** | Drain s | End-to-end points/s (M) | p50 ms | p99 ms | Relay cores | Relay µs/point | Relay RSS peak MiB (heap / Buffers at load end) | influxd cores (both) | Load gen cores | Other procs cores | Landed (A / B) of accepted, last run | Verified |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|:-:|',
  ];
  for (const c of s.results) {
    const r = c.runs;
    const last = r[r.length - 1];
    const e2e = (x: (typeof r)[number]): number => x.accepted / (x.load.durationS + x.drainS);
    rows.push(
      `| ${c.lines} lines | ${c.connections} | **${mpts(med(r, (x) => x.pointsPerSec))}** | ${fmt(med(r, (x) => x.drainS), 1)} | ` +
        `${mpts(med(r, e2e))} | ${fmt(med(r, (x) => x.load.latencyP50Ms), 1)} | ${fmt(med(r, (x) => x.load.latencyP99Ms), 1)} | ` +
        `${fmt(med(r, (x) => x.relayCores), 2)} | ${fmt(med(r, (x) => x.relayUsPerPoint), 2)} | ${mem(r)} | ` +
        `${fmt(med(r, (x) => x.sinkCores), 2)} | ${fmt(med(r, (x) => x.loadCores), 2)} | ${fmt(med(r, (x) => x.otherCores), 2)} | ` +
        `${last ? `${last.landed.map((n) => fmt(n)).join(' / ')} of ${fmt(last.accepted)}` : '—'} | ` +
        `${verified(c)} |`,
    );
  }
  if (s.direct.length > 0) {
    rows.push(
      '',
      'The same load straight to **one** influxd, without the relay (the other influxd and the relay idle), for scale:',
      '',
      '| Body | Conns | Points/s (M) | p50 ms | p99 ms | influxd cores | Landed (≥ 2xx points) |',
      '|---|---:|---:|---:|---:|---:|---|',
    );
    for (const d of s.direct) {
      rows.push(
        `| ${d.lines} lines | ${d.connections} | ${mpts(d.pointsPerSec)} | ${fmt(d.latencyP50Ms, 1)} | ${fmt(d.latencyP99Ms, 1)} | ` +
          `${fmt(d.influxdCores, 2)} | ${fmt(d.landed)} (${fmt(d.sent)}) |`,
      );
    }
  }
  return rows;
}

/** ✗ when data was wrong or lost; ✓ otherwise, noting the share of requests refused with 503 (load shed). */
function verified(c: { problems: string[]; runs: ReadonlyArray<{ load: { ok: number; non2xx: number } }>; shed: string[] }): string {
  if (c.problems.length > 0 || c.runs.length === 0) return '✗';
  if (c.shed.length === 0) return '✓';
  const refused = c.runs.reduce((a, r) => a + r.load.non2xx, 0);
  const all = c.runs.reduce((a, r) => a + r.load.ok + r.load.non2xx, 0);
  return `✓, 503 for ${((100 * refused) / Math.max(1, all)).toFixed(0)} % of requests`;
}

interface Judged {
  lines: number;
  connections: number;
  problems: string[];
  shed: string[];
  runs: ReadonlyArray<{ load: { ok: number; non2xx: number }; droppedQueueFull: number[] }>;
}

function findings(title: string, results: readonly Judged[]): string[] {
  const out: string[] = [];
  const bad = results.flatMap((c) => c.problems.map((p) => `- ${c.lines} lines × ${c.connections} conns, ${p}`));
  if (bad.length > 0) out.push('', `**${title}: checks that failed (data wrong or missing)**`, '', ...bad);
  const shed = results.filter((c) => c.shed.length > 0);
  if (shed.length > 0) {
    out.push(
      '',
      `**${title}: load shed.** The relay answered 503 when a backend queue was full; the refused points are counted ` +
        'as dropped for that backend (clients are expected to retry). Points/s counts only 2xx answers.',
      '',
    );
    for (const c of shed) {
      const pct = c.runs.map((r) => (100 * r.load.non2xx) / Math.max(1, r.load.ok + r.load.non2xx));
      const perBackend = (c.runs[0]?.droppedQueueFull ?? []).map((_, i) => c.runs.reduce((a, r) => a + (r.droppedQueueFull[i] ?? 0), 0));
      out.push(
        `- ${c.lines} lines × ${c.connections} conns: 503 for ${fmt(Math.min(...pct))}–${fmt(Math.max(...pct))} % of the requests of a run; ` +
          `points refused with a full queue over the measured runs: ${perBackend.map((n, i) => `backend ${i + 1}: ${fmt(n)}`).join(', ')}`,
      );
    }
  }
  return out;
}

function details(summary: string, lang: string, body: string): string[] {
  return ['', `<details><summary>${summary}</summary>`, '', '```' + lang, body.trimEnd(), '```', '', '</details>'];
}

function targets(r: BenchReport): string[] {
  const sink = r.sinks?.results ?? [];
  const best = max(sink.map((c) => median(c.runs.map((x) => x.pointsPerSec))));
  const bestUs = Math.min(...sink.map((c) => median(c.runs.map((x) => x.relayUsPerPoint))).filter((x) => !Number.isNaN(x)));
  const us = Number.isFinite(bestUs) ? bestUs : NaN;
  const met = (ok: boolean, x: number): string => (Number.isNaN(x) ? 'not measured' : ok ? 'yes' : '**no**');
  return [
    '| Target (from the issue) | Best median measured | Met |',
    '|---|---:|:-:|',
    `| ≥ ${TARGET_POINTS_PER_SEC / 1e6} M points/s through the relay to two sinks | ${mpts(best)} M | ${met(best >= TARGET_POINTS_PER_SEC, best)} |`,
    `| < ${TARGET_US_PER_POINT} µs relay CPU per point | ${fmt(us, 2)} µs | ${met(us < TARGET_US_PER_POINT, us)} |`,
    '',
    'Reference from the issue, not measured by this harness: the Go influxdb-relay does about 0.65 M points/s on this ' +
      'machine at 1.6 cores (≈ 2.5 µs per point).',
  ];
}

export function renderResults(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    START,
    `_Generated by \`make bench\` (test/bench/run.sh); everything between the bench markers is rewritten on each run._`,
    '',
    '### Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpuModel}, ${m.cores} cores (nproc) |`,
    `| Memory | ${m.memGiB.toFixed(1)} GiB |`,
    `| Kernel | Linux ${m.kernel} |`,
    `| Software | Node.js ${m.node}; ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join('; ')} |`,
    `| Date | ${m.date} |`,
    `| Mode | ${r.mode} |`,
    `| Other load at start | ${r.background.busy.toFixed(2)} cores busy${r.background.quiet ? '' : ` — **the box was not quiet (waited ${r.background.waitedS.toFixed(0)} s); numbers are skewed**`} |`,
    '',
    '### Method',
    '',
    '- Bodies: seeded Telegraf-like line protocol (`test/bench/bodies.ts`): cpu, mem, disk, diskio, net and system ' +
      'points with 3–6 tags, 5–10 fields (floats, `i` integers, one string, one bool) and ns timestamps, over 256 hosts.',
    `- Load: \`test/bench/load.ts\` in its own process (${r.engine} for the sink scenario, autocannon for the end-to-end one, ` +
      'which needs fresh timestamps per request); keep-alive connections, no pipelining. ' +
      `**It shares the ${m.cores} cores with the relay and the sinks**: its CPU is in the "Load gen cores" column.`,
    '- Relay: the built relay (`node dist/src/main.js`), one `[[http]]` listener, two outputs with default settings ' +
      '(config below), `log-level = "warn"`; one relay process per scenario, one warm-up run per case before the measured runs.',
    '- Points/s = 2xx answers × lines per request ÷ load time, client-side; the table shows the median of the runs, and each run. ' +
      'Latency p50/p99 from the load generator; medians of the runs.',
    '- Relay cores = relay user+sys CPU (from /proc/<pid>/stat) during the load ÷ wall time. Relay µs/point = relay CPU from the ' +
      'start of the load until its queues are empty ÷ points it accepted. RSS = peak VmRSS sampled every 100 ms (max over runs); ' +
      'heap and Buffers (external memory) from the relay\'s /metrics when the load stopped (medians). ' +
      'Box busy cores = the whole machine, from /proc/stat; "Other procs" = box busy minus relay, sinks and load generator ' +
      '(work that is not the benchmark: it should be near 0).',
    '- Sinks: two nginx (`test/bench/nginx.ts`) that read every body in full before answering 204 (`mirror_request_body on`). ' +
      'A run is verified (✓) when, by the relay\'s own counters, each backend delivered every point the relay accepted ' +
      'except those refused with a full queue (load shed: 503 to the client, shown in the cell), each sink\'s access log ' +
      'shows exactly the body bytes of what was delivered to it, no body read short, and the client saw no errors. ' +
      'End to end, `SELECT count(*)` on each influxd must equal what the relay delivered to it (every point sent is distinct).',
  ];
  if (r.sinks) {
    out.push('', '### (a) Relay alone → two nginx sinks', '', ...sinkTable(r.sinks), ...findings('Sinks', r.sinks.results));
    out.push(...details('relay.toml used', 'toml', r.sinks.relayToml));
  }
  if (r.influx) {
    out.push('', '### (b) End to end → two influxd', '', ...influxTable(r.influx), ...findings('End to end', r.influx.results));
    out.push(
      '',
      'Accepted points/s is what clients got 204s for; the relay queues what InfluxDB has not taken yet (64 MB per backend ' +
        'by default) and the drain is how long the backends needed after the load stopped. End-to-end points/s = accepted ' +
        'points ÷ (load time + drain time).',
    );
  }
  if (r.micro.length > 0) {
    out.push('', '### (c) Micro-benchmarks');
    for (const b of r.micro) out.push(...details(b.name, 'text', b.output));
  }
  if (r.profile) out.push('', '### Relay CPU profile (sink scenario)', ...details('top self time', 'text', r.profile));
  if (r.failures.length > 0) out.push('', '### Not measured', '', ...r.failures.map((f) => `- ${f}`));
  out.push('', '### Targets', '', ...targets(r), END);
  return out.join('\n');
}

const TEMPLATE_HEAD = `# Benchmarks

How fast the relay moves line protocol, and what it costs. \`make bench\` builds the relay, runs the scenarios below on
this machine and rewrites the results section; \`BENCH_QUICK=1 make bench\` is a fast smoke run of the harness (it
prints its results and writes .bench/benchmarks.quick.md instead of this file). The harness lives in test/bench/.

`;

const TEMPLATE_TAIL = `

## Analysis

_Written by hand after a run: what limits the numbers above, and what would move them._
`;

/** The document with the generated block replaced (or, for a new document, placed between an intro and an analysis). */
export function spliceResults(doc: string | undefined, block: string): string {
  if (doc === undefined || doc.trim() === '') return TEMPLATE_HEAD + block + TEMPLATE_TAIL;
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return doc.trimEnd() + '\n\n' + block + '\n';
  return doc.slice(0, a) + block + doc.slice(b + END.length);
}
