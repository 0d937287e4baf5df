/**
 * Scenario (b): end to end. Load → relay → two real influxd 1.6, every point distinct (fresh timestamps per request).
 * One database for the whole scenario, so the series exist after the warm-up (a steady state, as with Telegraf), and
 * each run its own time range. After the load the relay's queues drain into InfluxDB; then `SELECT count(*)` over the
 * run's time range on both servers must equal the points the relay accepted. Reports the accepted rate, the drain time, and the end-to-end
 * rate (accepted points ÷ (load time + drain time)).
 */
import { startInfluxd } from '../helpers/influxd.js';
import type { Influxd } from '../helpers/influxd.js';
import type { TomlValue } from '../helpers/relay-toml.js';
import { startBenchRelay } from './bench-relay.js';
import { BASE_TIME_NS, MAX_TS_OFFSET, STEP_NS } from './bodies.js';
import { runLoad } from './loadgen.js';
import type { RunSample, Target, Verdict } from './measure.js';
import { judgeClient, measureRun, quietest } from './measure.js';
import { recordPid } from './pidfile.js';
import { cpuSeconds } from './proc.js';
import type { Case } from './scenario-sinks.js';

export interface InfluxCaseResult extends Case, Verdict {
  bodyBytes: number;
  runs: Array<RunSample & { landed: number[] }>;
}

export interface InfluxScenarioOptions {
  cases: readonly Case[];
  runs: number;
  /** Tries per run when other processes are busy during it (the quietest is kept). */
  attempts: number;
  seconds: number;
  warmupS: number;
  outputExtra: Record<string, TomlValue>;
  log: (msg: string) => void;
}

/** The same load sent straight to one influxd, without the relay: what a single InfluxDB takes on this box. */
export interface DirectResult extends Case {
  pointsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  influxdCores: number;
  landed: number;
  sent: number;
}

export interface InfluxScenarioResult {
  results: InfluxCaseResult[];
  direct: DirectResult[];
  relayToml: string;
}

const BACKENDS = ['influxd-a', 'influxd-b'] as const;
const DRAIN_TIMEOUT_S = 900;
const DATABASE = 'bench';
/** Time range of one run: 2e7 points at STEP_NS = 1 µs, twice what 1 M points/s for 10 s needs. */
const RUN_SPAN_NS = 20_000_000_000;

/**
 * Points stored in a database: every measurement's points carry all of its fields, so a measurement's point count
 * is its largest per-field count.
 */
export async function countPoints(db: Influxd, database: string, fromNs: bigint, toNs: bigint): Promise<number> {
  const q = `SELECT count(*) FROM /.*/ WHERE time >= ${fromNs} AND time < ${toNs}`;
  const json = (await db.query(q, { db: database })) as {
    results: Array<{ series?: Array<{ values: unknown[][] }> }>;
  };
  let n = 0;
  for (const s of json.results[0]?.series ?? []) {
    const row = (s.values[0] ?? []).slice(1).map(Number);
    n += row.length > 0 ? Math.max(...row) : 0;
  }
  return n;
}

/** Each influxd must hold exactly what the relay delivered to it, and that plus queue-full drops is what it accepted. */
function verify(s: RunSample & { landed: number[] }, run: string, v: Verdict): void {
  judgeClient(s, run, v);
  if (s.accepted * STEP_NS >= RUN_SPAN_NS) v.problems.push(`${run}: ${s.accepted} points overflow the run's time range; raise RUN_SPAN_NS`);
  for (const [k, n] of s.landed.entries()) {
    const delivered = s.delivered[k] ?? 0;
    const dropped = s.dropped[k] ?? 0;
    if (n !== delivered || delivered + dropped !== s.accepted || dropped !== (s.droppedQueueFull[k] ?? 0))
      v.problems.push(`${run}: ${BACKENDS[k]} holds ${n} points; the relay accepted ${s.accepted}, delivered ${delivered} and dropped ${dropped} for it`);
  }
}

async function runDirect(db: Influxd, c: Case, seconds: number, from: number): Promise<DirectResult> {
  const cpu0 = cpuSeconds(db.pid);
  const t0 = performance.now();
  const r = await runLoad({
    url: `${db.url}/write?db=${DATABASE}`,
    lines: c.lines,
    connections: c.connections,
    durationS: seconds,
    unique: true,
    tsStartNs: from,
    engine: 'autocannon',
  });
  const influxdCores = (cpuSeconds(db.pid) - cpu0) / ((performance.now() - t0) / 1000);
  const landed = await countPoints(db, DATABASE, BASE_TIME_NS + BigInt(from), BASE_TIME_NS + BigInt(from + RUN_SPAN_NS));
  return {
    ...c,
    pointsPerSec: (r.ok * r.lines) / r.durationS,
    latencyP50Ms: r.latencyP50Ms,
    latencyP99Ms: r.latencyP99Ms,
    influxdCores,
    landed,
    sent: r.ok * r.lines,
  };
}

export async function runInfluxScenario(o: InfluxScenarioOptions): Promise<InfluxScenarioResult> {
  const dbs: Influxd[] = [];
  let bench: Awaited<ReturnType<typeof startBenchRelay>> | undefined;
  try {
    for (let i = 0; i < BACKENDS.length; i++) {
      const db = await startInfluxd({ startTimeoutMs: 60_000 });
      recordPid(db.pid, 'influxd');
      dbs.push(db);
    }
    bench = await startBenchRelay(dbs.map((d, i) => ({ name: BACKENDS[i] as string, location: `${d.url}/write`, ...o.outputExtra })));
    const { relay } = bench;
    const target: Target = { relayUrl: relay.url, relayPid: relay.pid, backends: BACKENDS, sinkPids: dbs.map((d) => d.pid) };
    const results: InfluxCaseResult[] = [];
    const direct: DirectResult[] = [];
    for (const d of dbs) await d.createDatabase(DATABASE);
    let span = 0;
    const nextSpan = (): number => {
      if ((span + 1) * RUN_SPAN_NS >= MAX_TS_OFFSET) throw new Error('influxd scenario: out of timestamp ranges (too many runs)');
      return span++ * RUN_SPAN_NS;
    };
    for (const c of o.cases) {
      const load = (tsStartNs: number, durationS: number) => ({
        url: `${relay.url}/write?db=${DATABASE}`,
        tsStartNs,
        lines: c.lines,
        connections: c.connections,
        durationS,
        unique: true,
        engine: 'autocannon' as const,
      });
      if (o.warmupS > 0) {
        o.log(`influxd: ${c.lines} lines × ${c.connections} connections: warm-up ${o.warmupS} s`);
        await measureRun(target, load(nextSpan(), o.warmupS), DRAIN_TIMEOUT_S);
      }
      const runs: InfluxCaseResult['runs'] = [];
      const verdict: Verdict = { problems: [], shed: [] };
      for (let i = 1; i <= o.runs; i++) {
        const sample = await quietest(
          o.attempts,
          async () => {
            const from = nextSpan();
            const s = await measureRun(target, load(from, o.seconds), DRAIN_TIMEOUT_S);
            const landed: number[] = [];
            const [lo, hi] = [BASE_TIME_NS + BigInt(from), BASE_TIME_NS + BigInt(from + RUN_SPAN_NS)];
            for (const d of dbs) landed.push(await countPoints(d, DATABASE, lo, hi));
            verify({ ...s, landed }, `run ${i}`, verdict);
            return { ...s, landed };
          },
          (s, a) => o.log(`influxd: run ${i} attempt ${a}: other processes used ${s.otherCores.toFixed(2)} cores; measuring again`),
        );
        const landed = sample.landed;
        runs.push(sample);
        o.log(
          `influxd: ${c.lines} lines × ${c.connections} conns, run ${i}/${o.runs}: accepted ${(sample.pointsPerSec / 1e6).toFixed(3)} M points/s, ` +
            `drain ${sample.drainS.toFixed(1)} s, landed ${landed.join(' / ')} of ${sample.accepted}`,
        );
      }
      results.push({ ...c, bodyBytes: runs[0]?.load.bodyBytes ?? NaN, runs, ...verdict });
      direct.push(await runDirect(dbs[0] as Influxd, c, o.seconds, nextSpan()));
      o.log(`influxd: the same load straight to one influxd: ${((direct.at(-1)?.pointsPerSec ?? 0) / 1e6).toFixed(3)} M points/s`);
    }
    return { results, direct, relayToml: bench.toml };
  } finally {
    if (bench) {
      await bench.relay.stop();
      await bench.relay.destroy();
    }
    for (const d of dbs) await d.destroy();
  }
}
