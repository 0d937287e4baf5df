/**
 * The generated part of docs/benchmarks.md: machine, method, result tables, checks against the targets.
 * Only the text between the markers is replaced, so the intro above and the analysis below stay as people wrote them.
 */
import type { RunSample } from './measure.js';
import type { MachineInfo } from './proc.js';
import type { IntakeScenarioResult } from './scenario-intake.js';
import type { InfluxScenarioResult } from './scenario-influxd.js';
import type { CaseResult, SinkScenarioResult } from './scenario-sinks.js';
import type { SpoolScenarioResult } from './scenario-spool.js';
import { fmt, max, median } from './stats.js';

export const START = '<!-- bench:start -->';
export const END = '<!-- bench:end -->';

/** Targets from the issue (12: performance and footprint); reported, never adjusted. */
export const TARGET_US_PER_POINT_1000 = 1.2;
/** Points/s against the Go relay's in the same run (GO_RELAY_BIN). */
export const TARGET_TIMES_GO = 2;
/** Peak RSS under the 1000-line load, MB (10^6 bytes; the tables show MiB). */
export const TARGET_RSS_MB_1000 = 110;
/**
 * "Bounded" under 5000-line bodies and 64 connections, read as: within what the configuration allows to be held
 * (max-bodies-in-flight-mb 256 + two 64 MB queues of shared batches) plus the idle process, ~100 MiB.
 */
export const BOUND_MIB_5000X64 = 256 + 64 + 100;

export interface BenchReport {
  machine: MachineInfo;
  versions: Record<string, string>;
  mode: string;
  engine: string;
  sinks?: SinkScenarioResult;
  influx?: InfluxScenarioResult;
  spool?: SpoolScenarioResult;
  udp?: IntakeScenarioResult;
  tcp?: IntakeScenarioResult;
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

const GO = 'Go influxdb-relay';

/** Our relay's rows beside the Go influxdb-relay's (GO_RELAY_BIN), case by case; one line when it was not run. */
function goComparison(s: SinkScenarioResult): string[] {
  if (!s.go && !s.goFailure) {
    return ['', `**Beside the ${GO}:** not run (set \`GO_RELAY_BIN\` to its executable to run every case against it too).`];
  }
  const out = [
    '',
    `**Beside the ${GO}** (\`GO_RELAY_BIN\`): every case again, same sinks and load, against the Go binary, started after this ` +
      'relay stopped. It has no /metrics, so its µs/point = its CPU from the start of the load until the sinks stopped receiving ÷ ' +
      'the points the client got 2xx for, and a run is verified when each sink\'s access log shows at least the body bytes the client ' +
      'got 2xx for and at most one more body per connection (requests in flight when the load stopped), no body read short, no client errors. ' +
      'RSS idle = VmRSS before any load, a few seconds after the relay answered /ping.',
  ];
  if (s.goFailure) out.push('', `- ${GO} not measured: ${s.goFailure}`);
  if (!s.go) return out;
  out.push(
    '',
    '| Body | Conns | Relay | **Points/s (M)** | Runs (M points/s) | p50 ms | p99 ms | Relay cores | **Relay µs/point** | RSS peak MiB | RSS idle MiB | Verified |',
    '|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|:-:|',
  );
  const row = (c: CaseResult, who: string, idle: number | undefined): string => {
    const r = c.runs;
    return (
      `| ${c.lines} lines | ${c.connections} | ${who} | **${mpts(med(r, (x) => x.pointsPerSec))}** | ${r.map((x) => mpts(x.pointsPerSec)).join(', ')} | ` +
      `${fmt(med(r, (x) => x.load.latencyP50Ms), 1)} | ${fmt(med(r, (x) => x.load.latencyP99Ms), 1)} | ${fmt(med(r, (x) => x.relayCores), 2)} | ` +
      `**${fmt(med(r, (x) => x.relayUsPerPoint), 2)}** | ${fmt(max(r.map((x) => x.relayRssPeakMiB)))} | ${fmt(idle ?? NaN)} | ${verified(c)} |`
    );
  };
  for (const c of s.results) {
    out.push(row(c, 'this relay', s.idleRssMiB));
    const g = s.go.results.find((x) => x.lines === c.lines && x.connections === c.connections);
    if (g) out.push(row(g, GO, s.go.idleRssMiB));
  }
  out.push(...findings(GO, s.go.results), ...details(`${GO} config used`, 'toml', s.go.toml));
  return out;
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

function spoolSection(s: SpoolScenarioResult): string[] {
  const out: string[] = [
    `Relay alone → two nginx sinks, memory queues vs \`${s.head.split('\n').join('`, `')}\` (spool on the same disk as /tmp), ` +
      'one relay per mode, same cases and runs; ratio = spool ÷ memory median points/s (the issue asks for ≥ 0.8).',
    '',
    '| Body | Conns | Memory points/s (M) | **Spool points/s (M)** | **Ratio** | Memory runs | Spool runs | Memory / spool relay cores | Memory / spool µs/point | Spool p99 ms | Spool RSS peak MiB | Verified (memory / spool) |',
    '|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|:-:|',
  ];
  for (const c of s.spool?.results ?? []) {
    const m = s.memory?.results.find((x) => x.lines === c.lines && x.connections === c.connections);
    const sp = med(c.runs, (x) => x.pointsPerSec);
    const mp = m ? med(m.runs, (x) => x.pointsPerSec) : NaN;
    out.push(
      `| ${c.lines} lines | ${c.connections} | ${mpts(mp)} | **${mpts(sp)}** | **${fmt(sp / mp, 2)}** | ` +
        `${m ? m.runs.map((x) => mpts(x.pointsPerSec)).join(', ') : '—'} | ${c.runs.map((x) => mpts(x.pointsPerSec)).join(', ')} | ` +
        `${m ? fmt(med(m.runs, (x) => x.relayCores), 2) : '—'} / ${fmt(med(c.runs, (x) => x.relayCores), 2)} | ` +
        `${m ? fmt(med(m.runs, (x) => x.relayUsPerPoint), 2) : '—'} / ${fmt(med(c.runs, (x) => x.relayUsPerPoint), 2)} | ` +
        `${fmt(med(c.runs, (x) => x.load.latencyP99Ms), 1)} | ${fmt(max(c.runs.map((x) => x.relayRssPeakMiB)))} | ` +
        `${m ? verified(m) : '—'} / ${verified(c)} |`,
    );
  }
  if (s.spool) out.push(...findings('Spool', s.spool.results));
  if (s.memory) out.push(...findings('Spool scenario, memory mode', s.memory.results));
  const r = s.replay;
  if (r) {
    out.push(
      '',
      `**Backlog replay.** A spooled relay with sink-b's port closed took ${r.lines}-line bodies over ${r.connections} connections for ` +
        `${fmt(r.outageS, 1)} s (${mpts(r.pointsPerSecIn)} M points/s in); after sink-a caught up, an nginx sink was started on sink-b's port ` +
        '(outputs with `max-delay-interval = "250ms"`, so the next retry comes quickly) and the backlog was read back from the spool until ' +
        'sink-b had every accepted point.',
      '',
      '| Backlog points | Backlog MB | First delivery after s | Drained after s | **Replay points/s (M)** | **Replay MB/s** | Relay cores | Relay RSS peak MiB | Verified |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|:-:|',
      `| ${fmt(r.accepted)} | ${fmt(r.backlogBytes / 1e6, 1)} | ${fmt(r.firstDeliveryS, 2)} | ${fmt(r.drainS, 2)} | **${mpts(r.pointsPerSec)}** | ` +
        `**${fmt(r.mbPerSec, 1)}** | ${fmt(r.relayCores, 2)} | ${fmt(r.relayRssPeakMiB)} | ${r.problems.length === 0 && r.replayed >= r.accepted ? '✓' : '✗'} |`,
      '',
      'Replay rate = points delivered to sink-b ÷ (drained − first delivery); MB/s = body bytes sink-b\'s access log recorded over the same time.',
    );
    if (r.problems.length > 0) out.push('', ...r.problems.map((p) => `- ✗ ${p}`));
  }
  if (s.failures.length > 0) out.push('', ...s.failures.map((f) => `- not measured: ${f}`));
  return out;
}

function dropsText(d: Record<string, number>): string {
  const e = Object.entries(d);
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${fmt(v)}`).join('; ');
}

function intakeSection(s: IntakeScenarioResult): string[] {
  const udp = s.results[0]?.proto === 'udp';
  const out: string[] = udp
    ? [
        '| Datagrams/s sent | Points/s sent (M) | Lines/datagram | **Datagrams/s received** | **Points/s received (M)** | Received of sent | Delivered A / B of received | Relay cores | Load gen cores | Relay RSS peak MiB | Drops (all runs, by where and reason) |',
        '|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|',
      ]
    : [
        '| Conns | **Points/s accepted (M)** | Runs (M points/s) | MB/s | Drain s | Delivered A / B of accepted, last run | Relay cores | Load gen cores | Relay RSS peak MiB | Drops | Verified |',
        '|---:|---:|---|---:|---:|---|---:|---:|---:|---|:-:|',
      ];
  for (const c of s.results) {
    const r = c.runs;
    const last = r[r.length - 1];
    const allDrops: Record<string, number> = {};
    for (const x of r) for (const [k, v] of Object.entries(x.drops)) allDrops[k] = (allDrops[k] ?? 0) + v;
    const deliv = last ? `${last.delivered.map((n) => fmt(n)).join(' / ')} of ${fmt(last.received)}` : '—';
    if (udp) {
      out.push(
        `| ${fmt(med(r, (x) => x.load.messages / x.load.durationS))} | ${mpts(med(r, (x) => x.load.points / x.load.durationS))} | ` +
          `${fmt(med(r, (x) => x.load.linesPerMessage), 1)} | **${fmt(med(r, (x) => x.datagrams / x.load.durationS))}** | ` +
          `**${mpts(med(r, (x) => x.received / x.load.durationS))}** | ${fmt(med(r, (x) => (100 * x.received) / Math.max(1, x.load.points)), 1)} % | ${deliv} | ` +
          `${fmt(med(r, (x) => x.relayCores), 2)} | ${fmt(med(r, (x) => x.loadCores), 2)} | ${fmt(max(r.map((x) => x.relayRssPeakMiB)))} | ${dropsText(allDrops)} |`,
      );
    } else {
      out.push(
        `| ${c.connections} | **${mpts(med(r, (x) => x.received / x.load.durationS))}** | ${r.map((x) => mpts(x.received / x.load.durationS)).join(', ')} | ` +
          `${fmt(med(r, (x) => x.load.bytes / x.load.durationS / 1e6))} | ${fmt(med(r, (x) => x.drainS), 1)} | ${deliv} | ` +
          `${fmt(med(r, (x) => x.relayCores), 2)} | ${fmt(med(r, (x) => x.loadCores), 2)} | ${fmt(max(r.map((x) => x.relayRssPeakMiB)))} | ` +
          `${dropsText(allDrops)} | ${c.problems.length === 0 && r.length > 0 ? '✓' : '✗'} |`,
      );
    }
  }
  const bad = s.results.flatMap((c) => c.problems.map((p) => `- ${c.proto} × ${c.connections}, ${p}`));
  if (bad.length > 0) out.push('', '**Checks that failed**', '', ...bad);
  return out;
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
  const caseMedian = (c: CaseResult, f: (x: RunSample) => number): number => median(c.runs.map(f));
  const of = (lines: number, conns?: number) => sink.filter((c) => c.lines === lines && (conns === undefined || c.connections === conns));
  const best = (cs: CaseResult[], f: (x: RunSample) => number, pick: (xs: number[]) => number): number => {
    const xs = cs.map((c) => caseMedian(c, f)).filter((x) => !Number.isNaN(x));
    return xs.length ? pick(xs) : NaN;
  };
  const us1000 = best(of(1000), (x) => x.relayUsPerPoint, (xs) => Math.min(...xs));
  const rss1000 = max(of(1000).flatMap((c) => c.runs.map((x) => x.relayRssPeakMiB)));
  const rss5000 = max(of(5000, 64).flatMap((c) => c.runs.map((x) => x.relayRssPeakMiB)));
  const met = (ok: boolean, x: number): string => (Number.isNaN(x) || !Number.isFinite(x) ? 'not measured' : ok ? 'yes' : '**no**');
  const go = r.sinks?.go?.results;
  const pts = (cs: CaseResult[]): number => best(cs, (x) => x.pointsPerSec, (xs) => Math.max(...xs));
  const ratio = go ? pts(sink) / pts(go) : NaN;
  const mib = (mb: number): number => (mb * 1e6) / 2 ** 20;
  const idle = r.sinks?.idleRssMiB ?? NaN;
  // p99 at equal load: the same body size and connections (each connection sends its next body once answered).
  const p99 = (c: CaseResult): number => caseMedian(c, (x) => x.load.latencyP99Ms);
  const p99Ratios = go
    ? sink.flatMap((c) => {
        const g = go.find((x) => x.lines === c.lines && x.connections === c.connections);
        return g ? [{ c, ratio: p99(c) / p99(g) }] : [];
      })
    : [];
  const worstP99 = p99Ratios.reduce<{ c: CaseResult; ratio: number } | undefined>((w, x) => (!w || x.ratio > w.ratio ? x : w), undefined);
  return [
    '| Target (from the issue) | Measured | Met |',
    '|---|---:|:-:|',
    `| ≤ ${TARGET_US_PER_POINT_1000} µs relay CPU per point with 1000-line bodies (best case median) | ${fmt(us1000, 2)} µs | ${met(us1000 <= TARGET_US_PER_POINT_1000, us1000)} |`,
    `| ≥ ${TARGET_TIMES_GO}× the Go relay's points/s in the same run (best case medians) | ${go ? `${fmt(ratio, 2)}×` : 'no GO_RELAY_BIN'} | ${met(ratio >= TARGET_TIMES_GO, ratio)} |`,
    `| p99 latency no worse than the Go relay's at equal load (every case: ours ÷ Go's, the highest) | ${worstP99 ? `${fmt(worstP99.ratio, 2)} (${worstP99.c.lines} × ${worstP99.c.connections})` : 'no GO_RELAY_BIN'} | ${met((worstP99?.ratio ?? NaN) <= 1, worstP99?.ratio ?? NaN)} |`,
    `| RSS under the 1000-line load ≤ ${TARGET_RSS_MB_1000} MB (${fmt(mib(TARGET_RSS_MB_1000), 0)} MiB; peak over runs) | ${fmt(rss1000, 0)} MiB | ${met(rss1000 <= mib(TARGET_RSS_MB_1000), rss1000)} |`,
    `| RSS bounded under 5000-line bodies × 64 connections (≤ ${BOUND_MIB_5000X64} MiB: what the configuration lets the relay hold, plus the idle process) | ${fmt(rss5000, 0)} MiB | ${met(rss5000 <= BOUND_MIB_5000X64, rss5000)} |`,
    `| Idle RSS ≤ 45 MB (${fmt(mib(45), 0)} MiB; 4 s after start, before any load; the steady value 15 s after start: \`node dist/test/bench/footprint.js\`) | ${fmt(idle, 1)} MiB | ${met(idle <= mib(45), idle)} |`,
    '',
    r.sinks?.go
      ? `The ${GO} was measured in this run: see "Beside the ${GO}" under (a).`
      : `Reference from the issue, not measured in this run (see GO_RELAY_BIN): the ${GO} does 0.19–0.36 M points/s on this ` +
        'machine at 5.2–6.4 µs per point (1000- and 5000-line bodies), 6 MB idle.',
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
    out.push(...details('relay.toml used', 'toml', r.sinks.relayToml), ...goComparison(r.sinks));
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
  if (r.spool) {
    out.push('', '### (a2) Spool (fsync = "interval") vs memory queues → two nginx sinks', '', ...spoolSection(r.spool));
  }
  if (r.udp) {
    out.push(
      '',
      '### (d) UDP intake → two nginx sinks',
      '',
      '`[[udp]]` with `database = "bench"` and the two sinks as HTTP outputs (default keys; `read-buffer = 0`, the OS default). ' +
        '`test/bench/intake-load.ts` (one node process, `dgram`) sends datagrams of whole Telegraf-like lines (≤ 1400 bytes) as fast as ' +
        'its socket takes them. Received = the relay\'s `influx_relay_udp_datagrams_received_total` and `points_received_total`; kernel ' +
        'drops = the `drops` column of /proc/net/udp for the listener\'s socket (receive buffer full). Medians of the runs.',
      '',
      ...intakeSection(r.udp),
    );
    out.push(...details('relay.toml used', 'toml', r.udp.relayToml));
  }
  if (r.tcp) {
    out.push(
      '',
      '### (e) TCP intake → two nginx sinks',
      '',
      '`[[tcp]]` with `database = "bench"` and the two sinks as outputs (default `batch-size-kb` / `batch-delay`). Each client connection ' +
        '(node `net`) streams a 1 MB chunk of 5000 newline-delimited lines over and over, honouring backpressure, then closes. ' +
        'Points/s accepted = points the relay counted ÷ load time; verified (✓) when the relay received every point written, ' +
        'each sink\'s backend delivered all of them after the drain and nothing was dropped.',
      '',
      ...intakeSection(r.tcp),
    );
    out.push(...details('relay.toml used', 'toml', r.tcp.relayToml));
  }
  if (r.micro.length > 0) {
    out.push('', '### (c) Micro-benchmarks');
    for (const b of r.micro) out.push(...details(b.name, 'text', b.output));
  }
  if (r.profile) out.push('', '### Relay CPU profile (sink scenario)', ...details('top self time', 'text', r.profile));
  if (r.failures.length > 0) out.push('', '### Not measured', '', ...r.failures.map((f) => `- ${f}`));
  if (r.sinks) out.push('', '### Targets', '', ...targets(r));
  out.push(END);
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

/** Where each `### ` section goes in the block, by the start of its heading. */
const SECTION_ORDER = ['Machine', 'Method', '(a) ', '(a2) ', '(b) ', '(d) ', '(e) ', '(c) ', 'Relay CPU profile', 'Not measured', 'Targets'];
const rank = (heading: string): number => {
  const i = SECTION_ORDER.findIndex((p) => heading.startsWith(p));
  return i < 0 ? SECTION_ORDER.length : i;
};

/** A block's preamble (before the first `### `) and its sections, by heading. */
function sections(block: string): { pre: string; list: Array<{ heading: string; text: string }> } {
  const inner = block.replace(START, '').replace(END, '');
  const parts = inner.split(/\n(?=### )/);
  const pre = parts[0]?.startsWith('### ') ? '' : (parts.shift() ?? '');
  return { pre, list: parts.map((p) => ({ heading: p.slice(4, p.indexOf('\n') < 0 ? undefined : p.indexOf('\n')).trim(), text: p.trimEnd() })) };
}

/**
 * The new block, keeping the result sections of an older block that this run did not produce (a run of some
 * scenarios only, BENCH_SCENARIOS): each kept section says which run it came from. "Not measured" is never kept.
 */
export function mergeBlocks(old: string, block: string): string {
  const o = sections(old);
  const n = sections(block);
  const date = /\| Date \| ([^|]+) \|/.exec(old)?.[1]?.trim() ?? 'an earlier run';
  const have = new Set(n.list.map((x) => rank(x.heading)));
  const kept = o.list
    .filter((x) => !have.has(rank(x.heading)) && rank(x.heading) >= 2 && !x.heading.startsWith('Not measured'))
    .map((x) => {
      const note = `_(kept from the run of ${date}; not re-run this time)_`;
      const text = x.text.includes('_(kept from the run of') ? x.text : x.text.replace(/\n/, `\n\n${note}\n`);
      return { heading: x.heading, text };
    });
  const all = [...n.list, ...kept].sort((a, b) => rank(a.heading) - rank(b.heading));
  const parts = [n.pre, ...all.map((x) => x.text)].map((t) => t.trim()).filter((t) => t !== '');
  return START + '\n' + parts.join('\n\n') + '\n' + END;
}

/** The document with the generated block replaced (or, for a new document, placed between an intro and an analysis). */
export function spliceResults(doc: string | undefined, block: string): string {
  if (doc === undefined || doc.trim() === '') return TEMPLATE_HEAD + block + TEMPLATE_TAIL;
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return doc.trimEnd() + '\n\n' + block + '\n';
  return doc.slice(0, a) + mergeBlocks(doc.slice(a, b + END.length), block) + doc.slice(b + END.length);
}
