/**
 * Scenario (a): the relay alone. Load → relay → two nginx sinks that read every body and answer 204, so the relay
 * (and the box's two cores) is the only limit. Every run is checked (see verify()).
 */
import type { TomlValue } from '../helpers/relay-toml.js';
import { startBenchRelay } from './bench-relay.js';
import type { LoadEngine } from './loadgen.js';
import type { RunSample, Target, Verdict } from './measure.js';
import { judgeClient, measureRun, quietest } from './measure.js';
import type { NginxSink, SinkStats } from './nginx.js';
import { startNginxSink } from './nginx.js';

export interface Case {
  lines: number;
  connections: number;
}

export interface CaseResult extends Case, Verdict {
  bodyBytes: number;
  runs: RunSample[];
}

export interface SinkScenarioOptions {
  cases: readonly Case[];
  runs: number;
  /** Tries per run when other processes are busy during it (the quietest is kept). */
  attempts: number;
  seconds: number;
  warmupS: number;
  engine: LoadEngine;
  /** Extra keys for both outputs (e.g. { 'max-in-flight': 4 }); none = the relay's defaults. */
  outputExtra: Record<string, TomlValue>;
  profileDir?: string;
  /** Top-level relay.toml lines (e.g. a spool); none = memory queues. */
  relayHead?: string;
  /** Prefix of the progress lines (default "sinks"). */
  label?: string;
  log: (msg: string) => void;
}

export interface SinkScenarioResult {
  results: CaseResult[];
  relayToml: string;
}

const BACKENDS = ['sink-a', 'sink-b'] as const;

/** Sink stats since the last call, waiting briefly for log lines nginx writes after its answer. */
async function sinkStatsFor(sink: NginxSink, expectedBytes: number): Promise<SinkStats> {
  const acc: SinkStats = { requests: 0, bodyBytes: 0, shortReads: 0, non204: 0 };
  const deadline = Date.now() + 2000;
  for (;;) {
    const s = sink.takeStats();
    acc.requests += s.requests;
    acc.bodyBytes += s.bodyBytes;
    acc.shortReads += s.shortReads;
    acc.non204 += s.non204;
    if (acc.bodyBytes >= expectedBytes || Date.now() > deadline) return acc;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What a run must show: every point the relay accepted was delivered to or counted as dropped by each backend
 * (nothing vanishes), drops only for a full queue (load shed), and each sink received exactly the body bytes of what
 * its backend acknowledged, every body read in full.
 */
async function verify(sample: RunSample, sinks: readonly NginxSink[], run: string, v: Verdict): Promise<void> {
  const { lines, bodyBytes } = sample.load;
  judgeClient(sample, run, v);
  for (const [i, sink] of sinks.entries()) {
    const name = BACKENDS[i] as string;
    const delivered = sample.delivered[i] ?? 0;
    const dropped = sample.dropped[i] ?? 0;
    if (delivered + dropped !== sample.accepted)
      v.problems.push(`${run}: ${name}: ${delivered} delivered + ${dropped} dropped ≠ ${sample.accepted} accepted`);
    const other = dropped - (sample.droppedQueueFull[i] ?? 0);
    if (other > 0) v.problems.push(`${run}: ${name} dropped ${other} points for reasons other than a full queue`);
    const expected = (delivered / lines) * bodyBytes;
    const st = await sinkStatsFor(sink, expected);
    if (st.bodyBytes !== expected) v.problems.push(`${run}: ${name} received ${st.bodyBytes} body bytes, expected ${expected}`);
    if (st.shortReads > 0) v.problems.push(`${run}: ${name} read ${st.shortReads} bodies short of their Content-Length`);
    if (st.non204 > 0) v.problems.push(`${run}: ${name} answered ${st.non204} requests with other than 204`);
  }
}

export async function runSinkScenario(o: SinkScenarioOptions): Promise<SinkScenarioResult> {
  const sinks: NginxSink[] = [];
  let bench: Awaited<ReturnType<typeof startBenchRelay>> | undefined;
  try {
    for (let i = 0; i < BACKENDS.length; i++) sinks.push(await startNginxSink());
    bench = await startBenchRelay(
      sinks.map((s, i) => ({ name: BACKENDS[i] as string, location: `${s.url}/write`, ...o.outputExtra })),
      o.profileDir,
      o.relayHead ? { head: o.relayHead } : {},
    );
    const { relay } = bench;
    const target: Target = {
      relayUrl: relay.url,
      relayPid: relay.pid,
      backends: BACKENDS,
      sinkPids: sinks.flatMap((s) => [s.pid, ...s.workerPids]),
    };
    const url = `${relay.url}/write?db=bench`;
    const results: CaseResult[] = [];
    const label = o.label ?? 'sinks';
    for (const c of o.cases) {
      const load = { url, lines: c.lines, connections: c.connections, engine: o.engine };
      if (o.warmupS > 0) {
        o.log(`${label}: ${c.lines} lines × ${c.connections} connections: warm-up ${o.warmupS} s`);
        const w = await measureRun(target, { ...load, durationS: o.warmupS }, 120);
        for (const [i, s] of sinks.entries()) await sinkStatsFor(s, ((w.delivered[i] ?? 0) / c.lines) * w.load.bodyBytes);
      }
      const runs: RunSample[] = [];
      const verdict: Verdict = { problems: [], shed: [] };
      for (let i = 1; i <= o.runs; i++) {
        const sample = await quietest(
          o.attempts,
          async () => {
            const s = await measureRun(target, { ...load, durationS: o.seconds }, 120);
            await verify(s, sinks, `run ${i}`, verdict);
            return s;
          },
          (s, a) => o.log(`${label}: run ${i} attempt ${a}: other processes used ${s.otherCores.toFixed(2)} cores; measuring again`),
        );
        runs.push(sample);
        o.log(
          `${label}: ${c.lines} lines × ${c.connections} conns, run ${i}/${o.runs}: ${(sample.pointsPerSec / 1e6).toFixed(3)} M points/s, ` +
            `relay ${sample.relayCores.toFixed(2)} cores, ${sample.relayUsPerPoint.toFixed(2)} µs/point`,
        );
      }
      results.push({ ...c, bodyBytes: runs[0]?.load.bodyBytes ?? NaN, runs, ...verdict });
    }
    return { results, relayToml: bench.toml };
  } finally {
    if (bench) {
      await bench.relay.stop();
      await bench.relay.destroy();
    }
    for (const s of sinks) await s.stop();
  }
}
