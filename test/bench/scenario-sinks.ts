/**
 * Scenario (a): the relay alone. Load → relay → two nginx sinks that read every body and answer 204, so the relay
 * (and the box's two cores) is the only limit. Every run is checked (see verify()).
 *
 * With `goRelayBin` (GO_RELAY_BIN), every case then runs again, on the same sinks, against InfluxData's Go
 * influxdb-relay. It has no /metrics: its runs are checked at the sinks alone (see verifyAtSinks()).
 */
import type { Relay } from '../helpers/relay.js';
import { relayToml, startRelay } from '../helpers/relay.js';
import { freePort } from '../helpers/ports.js';
import type { TomlValue } from '../helpers/relay-toml.js';
import { startBenchRelay } from './bench-relay.js';
import type { LoadEngine, LoadResult } from './loadgen.js';
import type { RunSample, Target, Verdict } from './measure.js';
import { judgeClient, measureRun, quietest } from './measure.js';
import type { NginxSink, SinkStats } from './nginx.js';
import { startNginxSink } from './nginx.js';
import { recordPid } from './pidfile.js';
import { rssMiB } from './proc.js';

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
  /** The Go influxdb-relay executable: run every case again against it. */
  goRelayBin?: string;
  /** With goRelayBin: seconds after a relay answered /ping before its idle RSS is read (default 4). */
  idleRssAfterS?: number;
  log: (msg: string) => void;
}

export interface SinkScenarioResult {
  results: CaseResult[];
  relayToml: string;
  /** VmRSS before any load, `idleRssAfterS` after start. */
  idleRssMiB?: number;
  /** The same cases against the Go influxdb-relay (goRelayBin). */
  go?: { results: CaseResult[]; toml: string; idleRssMiB: number };
  /** Why the Go relay's runs did not happen (it would not start, a run threw). */
  goFailure?: string;
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

/**
 * A Go relay run, checked where it can be: the client's 2xx answers × body bytes against what each sink's access log
 * recorded. Requests in flight when the load stopped are not counted by the client but may still reach the sinks: up
 * to one body per connection more is allowed.
 */
function verifyAtSinks(sample: RunSample, got: readonly SinkStats[], connections: number, run: string, v: Verdict): void {
  judgeClient(sample, run, v);
  const { ok, bodyBytes } = sample.load;
  const accepted = ok * bodyBytes;
  for (const [i, st] of got.entries()) {
    const name = BACKENDS[i] as string;
    if (st.bodyBytes < accepted) v.problems.push(`${run}: ${name} received ${st.bodyBytes} body bytes, fewer than the ${accepted} of the ${ok} bodies answered 2xx`);
    if (st.bodyBytes > accepted + connections * bodyBytes)
      v.problems.push(`${run}: ${name} received ${st.bodyBytes} body bytes, more than the ${accepted} answered 2xx and one body in flight per connection`);
    if (st.shortReads > 0) v.problems.push(`${run}: ${name} read ${st.shortReads} bodies short of their Content-Length`);
    if (st.non204 > 0) v.problems.push(`${run}: ${name} answered ${st.non204} requests with other than 204`);
  }
}

/**
 * The end of a Go relay run: what the sinks logged since the last call, once each has at least the bodies the client
 * got 2xx for and nothing new arrived over 3 polls (100 ms apart), or after 10 s. Fills `got`, one entry per sink.
 */
function settleAtSinks(sinks: readonly NginxSink[], got: SinkStats[]): (load: LoadResult) => Promise<void> {
  return async (load) => {
    got.length = 0;
    for (const _ of sinks) got.push({ requests: 0, bodyBytes: 0, shortReads: 0, non204: 0 });
    const want = load.ok * load.bodyBytes;
    const deadline = Date.now() + 10_000;
    for (let quiet = 0; quiet < 3 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      let fresh = 0;
      for (const [i, sink] of sinks.entries()) {
        const s = sink.takeStats();
        const acc = got[i] as SinkStats;
        acc.requests += s.requests;
        acc.bodyBytes += s.bodyBytes;
        acc.shortReads += s.shortReads;
        acc.non204 += s.non204;
        fresh += s.requests;
      }
      quiet = fresh === 0 && got.every((g) => g.bodyBytes >= want) ? quiet + 1 : 0;
    }
  };
}

/** A relay being measured: where to send load, and how a run is checked and a warm-up's traffic set aside. */
interface UnderTest {
  target: Target;
  check(sample: RunSample, c: Case, run: string, v: Verdict): Promise<void>;
  discard(sample: RunSample, c: Case): Promise<void>;
}

async function runCases(u: UnderTest, o: SinkScenarioOptions, label: string): Promise<CaseResult[]> {
  const url = `${u.target.relayUrl}/write?db=bench`;
  const results: CaseResult[] = [];
  for (const c of o.cases) {
    const load = { url, lines: c.lines, connections: c.connections, engine: o.engine };
    if (o.warmupS > 0) {
      o.log(`${label}: ${c.lines} lines × ${c.connections} connections: warm-up ${o.warmupS} s`);
      await u.discard(await measureRun(u.target, { ...load, durationS: o.warmupS }, 120), c);
    }
    const runs: RunSample[] = [];
    const verdict: Verdict = { problems: [], shed: [] };
    for (let i = 1; i <= o.runs; i++) {
      const sample = await quietest(
        o.attempts,
        async () => {
          const s = await measureRun(u.target, { ...load, durationS: o.seconds }, 120);
          await u.check(s, c, `run ${i}`, verdict);
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
  return results;
}

/** VmRSS of an unloaded relay, `afterS` after it answered /ping (V8 and the Go runtime settle after start). */
async function idleRss(pid: number, afterS: number): Promise<number> {
  await new Promise((r) => setTimeout(r, afterS * 1000));
  return rssMiB(pid);
}

async function runGoRelay(bin: string, sinks: readonly NginxSink[], o: SinkScenarioOptions): Promise<NonNullable<SinkScenarioResult['go']>> {
  const outputs = sinks.map((s, i) => ({ name: BACKENDS[i] as string, location: `${s.url}/write` }));
  let relay: Relay | undefined;
  try {
    let toml = '';
    for (let attempt = 1; !relay; attempt++) {
      toml = relayToml({ bindAddr: `127.0.0.1:${await freePort()}`, name: 'bench', outputs });
      try {
        relay = await startRelay({ toml, command: bin, startTimeoutMs: 30_000 });
      } catch (err) {
        // The probed port can be taken before the relay binds it (other tests run in parallel).
        if (attempt >= 4 || !/address already in use/i.test((err as Error).message)) throw err;
      }
    }
    recordPid(relay.pid, 'go-relay');
    const idleRssMiB = await idleRss(relay.pid, o.idleRssAfterS ?? 4);
    const got: SinkStats[] = [];
    const u: UnderTest = {
      target: { relayUrl: relay.url, relayPid: relay.pid, backends: BACKENDS, sinkPids: sinkPids(sinks), settle: settleAtSinks(sinks, got) },
      check: async (s, c, run, v) => verifyAtSinks(s, got, c.connections, run, v),
      discard: async () => {}, // settle already took the sinks' stats
    };
    const results = await runCases(u, o, `${o.label ?? 'sinks'} (Go relay)`);
    return { results, toml, idleRssMiB };
  } finally {
    if (relay) {
      await relay.stop();
      await relay.destroy();
    }
  }
}

const sinkPids = (sinks: readonly NginxSink[]): number[] => sinks.flatMap((s) => [s.pid, ...s.workerPids]);

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
    const idleRssMiB = await idleRss(relay.pid, o.idleRssAfterS ?? 4);
    const u: UnderTest = {
      target: { relayUrl: relay.url, relayPid: relay.pid, backends: BACKENDS, sinkPids: sinkPids(sinks) },
      check: (s, _c, run, v) => verify(s, sinks, run, v),
      discard: async (w, c) => {
        for (const [i, s] of sinks.entries()) await sinkStatsFor(s, ((w.delivered[i] ?? 0) / c.lines) * w.load.bodyBytes);
      },
    };
    const result: SinkScenarioResult = {
      results: await runCases(u, o, o.label ?? 'sinks'),
      relayToml: bench.toml,
      idleRssMiB,
    };
    await bench.relay.stop();
    await bench.relay.destroy();
    bench = undefined;
    if (o.goRelayBin) {
      try {
        result.go = await runGoRelay(o.goRelayBin, sinks, o);
      } catch (err) {
        result.goFailure = (err as Error).message.split('\n')[0];
        o.log(`Go relay comparison failed: ${(err as Error).stack}`);
      }
    }
    return result;
  } finally {
    if (bench) {
      await bench.relay.stop();
      await bench.relay.destroy();
    }
    for (const s of sinks) await s.stop();
  }
}
