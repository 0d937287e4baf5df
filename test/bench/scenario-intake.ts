/**
 * Scenarios (d) UDP intake and (e) TCP intake: a [[udp]] or [[tcp]] listener with two HTTP outputs (the nginx sinks),
 * loaded by intake-load.ts for a while; then the relay is left to drain. What the relay received, delivered to each
 * sink and dropped (by reason) comes from its /metrics; datagrams the kernel dropped before the relay read them
 * (socket receive buffer full) from the `drops` column of /proc/net/udp for the listener's socket.
 * UDP has no backpressure, so drops at overload are expected and reported; TCP must lose nothing.
 */
import { readFileSync } from 'node:fs';
import { startBenchRelay } from './bench-relay.js';
import { runIntakeLoad, type IntakeLoadResult } from './intake-loadgen.js';
import { startNginxSink, type NginxSink } from './nginx.js';
import { cpuSeconds, PeakSampler, rssMiB } from './proc.js';
import { M, scrape, total, type Samples } from './scrape.js';

export interface IntakeRun {
  load: IntakeLoadResult;
  /** Points the relay accepted from the listener (its own counter). */
  received: number;
  /** Datagrams the relay read (UDP only). */
  datagrams: number;
  /** Points each sink's backend acknowledged, in backend order. */
  delivered: number[];
  /** Everything not delivered, by where and why (e.g. "kernel: receive buffer full", "backend udp-a: queue-full"). */
  drops: Record<string, number>;
  relayCores: number;
  relayRssPeakMiB: number;
  loadCores: number;
  /** From the load's end until the relay had received everything it will and its queues were empty. */
  drainS: number;
  /** Body bytes each sink read (its access log). */
  sinkBytes: number[];
}

export interface IntakeCaseResult {
  proto: 'udp' | 'tcp';
  connections: number;
  runs: IntakeRun[];
  problems: string[];
}

export interface IntakeScenarioResult {
  results: IntakeCaseResult[];
  relayToml: string;
}

export interface IntakeScenarioOptions {
  proto: 'udp' | 'tcp';
  /** One case per entry: client connections (UDP: one socket, the list is ignored). */
  connections: readonly number[];
  runs: number;
  seconds: number;
  warmupS: number;
  log: (msg: string) => void;
}

const LISTENER = { udp: 'udp-bench', tcp: 'tcp-bench' } as const;

/** Datagrams dropped by the kernel for the UDP socket bound to `port` on 127.0.0.1 (NaN if not found). */
export function udpSocketDrops(port: number, table = readFileSync('/proc/net/udp', 'utf8')): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols[cols.length - 1]);
  }
  return NaN;
}

/** Sum per `reason` label of a metric's series that match the filters. */
function byReason(s: Samples, name: string, ...filters: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of s) {
    if (!k.startsWith(name + '{') || !filters.every((f) => k.includes(f))) continue;
    const reason = /reason="([^"]*)"/.exec(k)?.[1] ?? '?';
    out.set(reason, (out.get(reason) ?? 0) + v);
  }
  return out;
}

function dropsBetween(m0: Samples, m1: Samples, listener: string, backends: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (key: string, a: Map<string, number>, b: Map<string, number>): void => {
    for (const [reason, v] of b) {
      const d = v - (a.get(reason) ?? 0);
      if (d > 0) out[`${key}: ${reason}`] = d;
    }
  };
  const l = `listener="${listener}"`;
  add('intake points', byReason(m0, 'influx_relay_intake_points_dropped_total', l), byReason(m1, 'influx_relay_intake_points_dropped_total', l));
  add('intake lines', byReason(m0, 'influx_relay_intake_lines_dropped_total', l), byReason(m1, 'influx_relay_intake_lines_dropped_total', l));
  const rejected = total(m1, 'influx_relay_lines_rejected_total', l) - total(m0, 'influx_relay_lines_rejected_total', l);
  if (rejected > 0) out['lines rejected: invalid'] = rejected;
  for (const b of backends) {
    const f = `backend="${b}"`;
    add(`backend ${b}`, byReason(m0, M.dropped, f), byReason(m1, M.dropped, f));
  }
  return out;
}

/** Waits until the relay's received counter stops moving and every queue is empty; returns the seconds it took. */
async function settle(relayUrl: string, listener: string, expected: number, timeoutS: number): Promise<number> {
  const t0 = performance.now();
  let last = -1;
  let stableSince = performance.now();
  for (;;) {
    const s = await scrape(relayUrl);
    const got = total(s, M.received, `listener="${listener}"`);
    if (got !== last) [last, stableSince] = [got, performance.now()];
    const empty = total(s, M.queueBytes) === 0;
    // TCP: everything sent arrives; UDP: whatever arrives has arrived once the counter has not moved for a while.
    if (empty && (got >= expected || performance.now() - stableSince > 1000)) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutS * 1000) throw new Error(`relay did not settle within ${timeoutS} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runIntakeScenario(o: IntakeScenarioOptions): Promise<IntakeScenarioResult> {
  const listener = LISTENER[o.proto];
  const backends = [`${o.proto}-a`, `${o.proto}-b`];
  const sinks: NginxSink[] = [];
  let bench: Awaited<ReturnType<typeof startBenchRelay>> | undefined;
  try {
    for (let i = 0; i < 2; i++) sinks.push(await startNginxSink());
    const outputs = sinks.map((s, i) => `  { name = "${backends[i]}", location = "${s.url}/write" },`).join('\n');
    let port = 0;
    bench = await startBenchRelay(
      sinks.map((s, i) => ({ name: `http-${'ab'[i]}`, location: `${s.url}/write` })),
      undefined,
      {
        extra: (p) => {
          port = p;
          return `[[${o.proto}]]\nname = "${listener}"\nbind-addr = "127.0.0.1:${p}"\ndatabase = "bench"\noutput = [\n${outputs}\n]\n`;
        },
      },
    );
    const { relay } = bench;
    const cases = o.proto === 'udp' ? [1] : o.connections;
    const results: IntakeCaseResult[] = [];
    for (const conns of cases) {
      const once = async (durationS: number): Promise<IntakeRun> => {
        const m0 = await scrape(relay.url);
        const k0 = o.proto === 'udp' ? udpSocketDrops(port) : 0;
        for (const s of sinks) s.takeStats();
        const rss = new PeakSampler(() => rssMiB(relay.pid), 100);
        rss.start();
        const [c0, w0] = [cpuSeconds(relay.pid), performance.now()];
        let load: IntakeLoadResult;
        try {
          load = await runIntakeLoad({ proto: o.proto, port, connections: conns, durationS });
        } finally {
          rss.stop();
        }
        const [c1, w1] = [cpuSeconds(relay.pid), performance.now()];
        const before = total(m0, M.received, `listener="${listener}"`);
        const drainS = await settle(relay.url, listener, before + load.points, 120);
        const m1 = await scrape(relay.url);
        const drops = dropsBetween(m0, m1, listener, backends);
        if (o.proto === 'udp') {
          const kernel = udpSocketDrops(port) - k0;
          if (kernel > 0 || Number.isNaN(kernel)) drops['kernel: receive buffer full (datagrams)'] = kernel;
          const sendErr = load.errors;
          if (sendErr > 0) drops['sender: send errors (datagrams)'] = sendErr;
        }
        const wall = (w1 - w0) / 1000;
        const sinkBytes = sinks.map((s) => s.takeStats().bodyBytes);
        return {
          load,
          received: total(m1, M.received, `listener="${listener}"`) - before,
          datagrams: total(m1, 'influx_relay_udp_datagrams_received_total') - total(m0, 'influx_relay_udp_datagrams_received_total'),
          delivered: backends.map((b) => total(m1, M.delivered, `backend="${b}"`) - total(m0, M.delivered, `backend="${b}"`)),
          drops,
          relayCores: (c1 - c0) / wall,
          relayRssPeakMiB: rss.stop(),
          loadCores: load.cpuS / wall,
          drainS,
          sinkBytes,
        };
      };
      const name = o.proto === 'udp' ? 'udp' : `tcp × ${conns}`;
      if (o.warmupS > 0) {
        o.log(`${name}: warm-up ${o.warmupS} s`);
        await once(o.warmupS);
      }
      const runs: IntakeRun[] = [];
      const problems: string[] = [];
      for (let i = 1; i <= o.runs; i++) {
        const r = await once(o.seconds);
        runs.push(r);
        o.log(
          `${name}, run ${i}/${o.runs}: sent ${(r.load.points / r.load.durationS / 1e6).toFixed(3)} M points/s, relay received ` +
            `${(r.received / r.load.durationS / 1e6).toFixed(3)} M points/s, delivered ${r.delivered.join(' / ')} of ${r.received}, ` +
            `drops ${JSON.stringify(r.drops)}`,
        );
        if (o.proto === 'tcp') {
          if (r.received !== r.load.points) problems.push(`run ${i}: relay received ${r.received} points, client sent ${r.load.points}`);
          if (Object.keys(r.drops).length > 0) problems.push(`run ${i}: drops ${JSON.stringify(r.drops)}`);
          if (r.load.errors > 0) problems.push(`run ${i}: client saw ${r.load.errors} socket errors`);
        }
        for (const [j, d] of r.delivered.entries()) {
          const dropped = Object.entries(r.drops)
            .filter(([k]) => k.startsWith(`backend ${backends[j]}:`))
            .reduce((a, [, v]) => a + v, 0);
          if (d + dropped !== r.received) problems.push(`run ${i}: ${backends[j]}: ${d} delivered + ${dropped} dropped ≠ ${r.received} received`);
        }
      }
      results.push({ proto: o.proto, connections: conns, runs, problems });
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
