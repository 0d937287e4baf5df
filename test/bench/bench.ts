/**
 * `make bench` orchestrator (run by test/bench/run.sh after the build): runs the scenarios, then writes the results
 * block of docs/benchmarks.md. Settings come from the environment:
 *
 *   BENCH_QUICK=1            smoke run: 1 run × 3 s per case, results to .bench/benchmarks.quick.md (docs untouched)
 *   BENCH_RUNS, BENCH_SECONDS, BENCH_WARMUP      runs per case, seconds per run, warm-up seconds (default 5, 10, 3)
 *   BENCH_INFLUX_RUNS        runs per end-to-end case (default 3)
 *   BENCH_ATTEMPTS           tries per run while other processes load the box (default 3; the quietest is kept)
 *   BENCH_SCENARIOS          comma list of sinks, influxd, spool, udp, tcp (default all); the results block keeps the
 *                            sections of scenarios not run this time (marked as kept from an earlier run)
 *   BENCH_SPOOL_CASES        cases of the spool-vs-memory comparison (default "5000x16"); the first is the replay's load
 *   BENCH_SPOOL_OUTAGE       seconds of load while a backend is down, before the replay (default 8; quick 3)
 *   BENCH_TCP_CONNS          client connections of the TCP intake cases (default "1,4")
 *   BENCH_SINK_CASES         e.g. "1000x16,1000x64,5000x16,5000x64" (lines × connections)
 *   BENCH_INFLUX_CASES       e.g. "5000x16"
 *   BENCH_ENGINE             load generator for the sink scenario: wrk (default, less CPU) or autocannon
 *   BENCH_OUTPUT_EXTRA       JSON of extra output keys for the relay, e.g. '{"max-in-flight":4}'
 *   RELAY_NODE_ARGS          node flags for the relay's process, e.g. "--v8-pool-size=1" (test/helpers/relay.ts)
 *   BENCH_PROFILE=1          run the sink scenario's relay under --cpu-prof and summarize the hot functions
 *   GO_RELAY_BIN             path of InfluxData's Go influxdb-relay binary: the sink scenario runs every case again
 *                            against it and the report shows its rows beside ours (never downloaded; unset = not run)
 *   BENCH_MICRO_DIR          where run.sh left the micro-benchmarks' output (*.txt)
 *   BENCH_OUT                the Markdown file to write (default docs/benchmarks.md, or the quick file)
 *   BENCH_IDLE_WAIT          seconds to wait for other work on the box to stop before starting (default 300; quick 5)
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/relay.js';
import type { TomlValue } from '../helpers/relay-toml.js';
import type { LoadEngine } from './loadgen.js';
import { machineInfo, waitForQuiet } from './proc.js';
import { renderSummary, summarizeProfile } from './profile-summary.js';
import { renderResults, spliceResults, type BenchReport } from './report.js';
import { runIntakeScenario } from './scenario-intake.js';
import { runInfluxScenario } from './scenario-influxd.js';
import { runSinkScenario, type Case } from './scenario-sinks.js';
import { runSpoolScenario } from './scenario-spool.js';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const num = (v: string | undefined, d: number): number => (v === undefined || v === '' ? d : Number(v));

function cases(spec: string): Case[] {
  return spec.split(',').map((s) => {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(s);
    if (!m) throw new Error(`bench: bad case "${s}" (want LINESxCONNECTIONS, e.g. 5000x16)`);
    return { lines: Number(m[1]), connections: Number(m[2]) };
  });
}

const settings = {
  runs: num(env.BENCH_RUNS, quick ? 1 : 5),
  seconds: num(env.BENCH_SECONDS, quick ? 3 : 10),
  warmupS: num(env.BENCH_WARMUP, quick ? 1 : 3),
  influxRuns: num(env.BENCH_INFLUX_RUNS, quick ? 1 : 3),
  attempts: num(env.BENCH_ATTEMPTS, quick ? 1 : 3),
  scenarios: (env.BENCH_SCENARIOS ?? 'sinks,influxd,spool,udp,tcp').split(',').map((s) => s.trim()),
  spoolCases: cases(env.BENCH_SPOOL_CASES ?? '5000x16'),
  spoolOutageS: num(env.BENCH_SPOOL_OUTAGE, quick ? 3 : 8),
  tcpConns: (env.BENCH_TCP_CONNS ?? '1,4').split(',').map(Number),
  sinkCases: cases(env.BENCH_SINK_CASES ?? '1000x16,1000x64,5000x16,5000x64'),
  influxCases: cases(env.BENCH_INFLUX_CASES ?? '5000x16'),
  engine: (env.BENCH_ENGINE ?? 'wrk') as LoadEngine,
  outputExtra: JSON.parse(env.BENCH_OUTPUT_EXTRA ?? '{}') as Record<string, TomlValue>,
  profile: env.BENCH_PROFILE === '1',
  goRelayBin: env.GO_RELAY_BIN || undefined,
  idleWaitS: num(env.BENCH_IDLE_WAIT, quick ? 5 : 300),
  out: env.BENCH_OUT ?? path.join(REPO_ROOT, quick ? '.bench/benchmarks.quick.md' : 'docs/benchmarks.md'),
};

const t0 = Date.now();
const log = (msg: string): void => {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
};

function version(cmd: string, args: string[], pattern: RegExp): string {
  // nginx -v prints to stderr; wrk -v exits 1: read both streams, whatever the status.
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
}

function versions(): Record<string, string> {
  const pkg = (p: string): string => (JSON.parse(readFileSync(path.join(REPO_ROOT, p), 'utf8')) as { version: string }).version;
  return {
    relay: pkg('package.json'),
    influxd: version(env.INFLUXD_BIN ?? '/usr/bin/influxd', ['version'], /InfluxDB (v\S+)/),
    nginx: version(env.NGINX_BIN ?? '/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/),
    wrk: version(env.WRK_BIN ?? '/usr/bin/wrk', ['-v'], /wrk (\S+)/),
    autocannon: pkg('node_modules/autocannon/package.json'),
  };
}

function microBenchmarks(): BenchReport['micro'] {
  const dir = env.BENCH_MICRO_DIR;
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({ name: f.replace(/\.txt$/, ''), output: readFileSync(path.join(dir, f), 'utf8') }));
}

function describeMode(): string {
  const s = settings;
  const parts = [
    quick ? 'QUICK smoke run' : 'full run',
    `sinks: ${s.runs} × ${s.seconds} s per case`,
    `end to end: ${s.influxRuns} × ${s.seconds} s per case`,
    `scenarios: ${s.scenarios.join(', ')}`,
    `warm-up ${s.warmupS} s`,
    `up to ${s.attempts} tries per run while other processes load the box (the quietest is kept)`,
  ];
  if (Object.keys(s.outputExtra).length > 0) parts.push(`output overrides ${JSON.stringify(s.outputExtra)}`);
  if (s.profile) parts.push('**relay under --cpu-prof in the sink scenario (slower than normal)**');
  if (s.goRelayBin) parts.push(`sink cases also run against the Go influxdb-relay (${path.basename(s.goRelayBin)})`);
  return parts.join('; ');
}

function summarizeProfiles(dir: string): string | undefined {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const first = files[0];
  if (!first) return undefined;
  mkdirSync(path.join(REPO_ROOT, '.bench'), { recursive: true });
  const keep = path.join(REPO_ROOT, '.bench', 'relay.cpuprofile');
  copyFileSync(path.join(dir, first), keep);
  log(`relay CPU profile kept in ${keep}`);
  return renderSummary(summarizeProfile(JSON.parse(readFileSync(path.join(dir, first), 'utf8')), 25));
}

async function main(): Promise<number> {
  const ownWork = env.BENCH_TMP === undefined;
  const work = env.BENCH_TMP ?? mkdtempSync(path.join(tmpdir(), 'bench-'));
  try {
    return await benchIn(work);
  } finally {
    if (ownWork) rmSync(work, { recursive: true, force: true });
  }
}

async function benchIn(work: string): Promise<number> {
  if (settings.goRelayBin) {
    try {
      accessSync(settings.goRelayBin, constants.X_OK);
    } catch {
      log(`GO_RELAY_BIN=${settings.goRelayBin} is not an executable file; unset it to run without the Go relay comparison`);
      return 1;
    }
  }
  const background = await waitForQuiet(0.3, settings.idleWaitS, log);
  if (!background.quiet) log(`the box is still busy (${background.busy.toFixed(2)} cores); measuring anyway, the report says so`);
  const report: BenchReport = {
    background,
    machine: machineInfo(),
    versions: versions(),
    mode: describeMode(),
    engine: settings.engine,
    micro: microBenchmarks(),
    failures: [],
  };
  log(`${report.mode}; writing ${settings.out}`);
  if (settings.scenarios.includes('sinks')) {
    const profileDir = settings.profile ? path.join(work, 'prof') : undefined;
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    try {
      report.sinks = await runSinkScenario({
        cases: settings.sinkCases,
        runs: settings.runs,
        attempts: settings.attempts,
        seconds: settings.seconds,
        warmupS: settings.warmupS,
        engine: settings.engine,
        outputExtra: settings.outputExtra,
        ...(profileDir ? { profileDir } : {}),
        idleRssAfterS: quick ? 1 : 4,
        ...(settings.goRelayBin ? { goRelayBin: settings.goRelayBin } : {}),
        log,
      });
    } catch (err) {
      report.failures.push(`(a) relay → two nginx sinks: ${(err as Error).message.split('\n')[0]}`);
      log(`sinks scenario failed: ${(err as Error).stack}`);
    }
    if (profileDir) report.profile = summarizeProfiles(profileDir);
  }
  if (settings.scenarios.includes('influxd')) {
    try {
      report.influx = await runInfluxScenario({
        cases: settings.influxCases,
        runs: settings.influxRuns,
        attempts: settings.attempts,
        seconds: settings.seconds,
        warmupS: settings.warmupS,
        outputExtra: settings.outputExtra,
        log,
      });
    } catch (err) {
      report.failures.push(`(b) relay → two influxd: ${(err as Error).message.split('\n')[0]}`);
      log(`influxd scenario failed: ${(err as Error).stack}`);
    }
  }

  if (settings.scenarios.includes('spool')) {
    try {
      report.spool = await runSpoolScenario({
        cases: settings.spoolCases,
        runs: settings.runs,
        attempts: settings.attempts,
        seconds: settings.seconds,
        warmupS: settings.warmupS,
        engine: settings.engine,
        outageS: settings.spoolOutageS,
        workDir: work,
        log,
      });
    } catch (err) {
      report.failures.push(`(a2) spool: ${(err as Error).message.split('\n')[0]}`);
      log(`spool scenario failed: ${(err as Error).stack}`);
    }
  }
  for (const proto of ['udp', 'tcp'] as const) {
    if (!settings.scenarios.includes(proto)) continue;
    try {
      report[proto] = await runIntakeScenario({
        proto,
        connections: settings.tcpConns,
        runs: settings.runs,
        seconds: settings.seconds,
        warmupS: settings.warmupS,
        log,
      });
    } catch (err) {
      report.failures.push(`(${proto === 'udp' ? 'd' : 'e'}) ${proto} intake: ${(err as Error).message.split('\n')[0]}`);
      log(`${proto} scenario failed: ${(err as Error).stack}`);
    }
  }

  const block = renderResults(report);
  mkdirSync(path.dirname(settings.out), { recursive: true });
  const doc = existsSync(settings.out) ? readFileSync(settings.out, 'utf8') : undefined;
  writeFileSync(settings.out, spliceResults(doc, block));
  process.stdout.write(block + '\n');
  if (report.profile) process.stdout.write('\n' + report.profile + '\n');
  log(`wrote ${settings.out}`);
  // Load shedding (503 with a full queue) is reported, not a failure; wrong or missing data is.
  const unverified = [
    ...(report.sinks?.results ?? []),
    ...(report.sinks?.go?.results ?? []),
    ...(report.influx?.results ?? []),
    ...(report.spool?.spool?.results ?? []),
    ...(report.spool?.memory?.results ?? []),
    ...(report.tcp?.results ?? []),
  ].some((c) => c.problems.length > 0);
  const spoolBad = (report.spool?.replay?.problems.length ?? 0) > 0 || (report.spool?.failures.length ?? 0) > 0;
  return report.failures.length > 0 || unverified || spoolBad || report.sinks?.goFailure !== undefined ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
