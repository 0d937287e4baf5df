/**
 * One measured run: load the relay for a while from a separate process, then wait until its queues are empty, and
 * read what it cost from /proc (relay CPU and peak RSS, sinks' and load generator's CPU, the whole box) and what it
 * did from its /metrics (points accepted, points delivered per backend).
 */
import type { LoadOptions, LoadResult } from './loadgen.js';
import { runLoad } from './loadgen.js';
import { boxCpu, cpuSeconds, PeakSampler, rssMiB } from './proc.js';
import { has, M, scrape, total, waitDrained } from './scrape.js';
import type { Samples } from './scrape.js';

export interface Target {
  relayUrl: string;
  relayPid: number;
  backends: readonly string[];
  /** Processes whose CPU counts as the sinks' (nginx workers, influxd). */
  sinkPids: readonly number[];
  /**
   * For a relay without our /metrics (the Go influxdb-relay): the run ends when this resolves (the caller watches the
   * sinks), points accepted are the client's 2xx × lines, and delivered/dropped per backend are unknown (NaN).
   */
  settle?: (load: LoadResult) => Promise<void>;
}

export interface RunSample {
  load: LoadResult;
  /** Client-side: 2xx answers × lines per request ÷ load wall time. */
  pointsPerSec: number;
  /** Line protocol MB/s (10^6 bytes) into the relay, client-side. */
  mbPerSec: number;
  reqPerSec: number;
  /** Relay CPU during the load ÷ load wall time. */
  relayCores: number;
  /** Relay CPU from load start to drained ÷ points the relay accepted. */
  relayUsPerPoint: number;
  relayRssPeakMiB: number;
  /** The relay's V8 heap in use and its external memory (Buffers) when the load stopped, from its /metrics. */
  relayHeapMiB: number;
  relayExternalMiB: number;
  loadCores: number;
  sinkCores: number;
  /** The whole box's busy CPU during the load (2.0 = both cores saturated on a 2-core box). */
  boxCores: number;
  /** Box busy minus relay, sinks and load generator: other work on the machine, which skews the run. */
  otherCores: number;
  /** From the load's end until every backend queue was empty. */
  drainS: number;
  /** Points the relay accepted (its own counter), in-flight requests at the end of the load included. */
  accepted: number;
  /** Points each backend acknowledged, in `backends` order. */
  delivered: number[];
  /** Points each backend gave up (queue full, rejected, dead-lettered), in `backends` order. */
  dropped: number[];
  /** Of those, the ones refused because the backend's queue was full (load shed, answered 503). */
  droppedQueueFull: number[];
}

const QUEUE_FULL = 'reason="queue-full"';
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export async function measureRun(t: Target, load: LoadOptions, drainTimeoutS: number): Promise<RunSample> {
  const rss = new PeakSampler(() => rssMiB(t.relayPid), 100);
  const none: Samples = new Map();
  const m0 = t.settle ? none : await scrape(t.relayUrl);
  const sinkCpu = (): number => sum(t.sinkPids.map(cpuSeconds).filter((x) => !Number.isNaN(x)));
  rss.start();
  let r: LoadResult;
  let drainS: number;
  let mid: Awaited<ReturnType<typeof scrape>>;
  let m1: Awaited<ReturnType<typeof scrape>>;
  let cpu0: number, cpu1: number, cpu2: number, sink0: number, sink1: number, w0: number, w1: number;
  let box0: { busy: number }, box1: { busy: number };
  try {
    [cpu0, sink0, box0, w0] = [cpuSeconds(t.relayPid), sinkCpu(), boxCpu(), performance.now()];
    r = await runLoad(load);
    [cpu1, sink1, box1, w1] = [cpuSeconds(t.relayPid), sinkCpu(), boxCpu(), performance.now()];
    if (t.settle) {
      [mid, m1] = [none, none];
      await t.settle(r);
      drainS = (performance.now() - w1) / 1000;
    } else {
      mid = await scrape(t.relayUrl);
      // Accounted by the relay's own counters once it has settled, so requests in flight when the load stopped
      // count in this run (the load generator does not count them; the relay and the sinks do).
      const drained = await waitDrained(t.relayUrl, drainTimeoutS);
      drainS = drained.seconds;
      m1 = drained.samples;
    }
    cpu2 = cpuSeconds(t.relayPid);
  } finally {
    rss.stop();
  }
  const peak = rss.stop();

  const wall = (w1 - w0) / 1000;
  const accepted = t.settle ? r.ok * r.lines : total(m1, M.received) - total(m0, M.received);
  const perBackend = (f: (b: string) => number): number[] => t.backends.map((b) => (t.settle ? NaN : f(b)));
  const points = r.ok * r.lines;
  return {
    load: r,
    pointsPerSec: points / r.durationS,
    mbPerSec: (r.ok * r.bodyBytes) / r.durationS / 1e6,
    reqPerSec: r.ok / r.durationS,
    relayCores: (cpu1 - cpu0) / wall,
    relayUsPerPoint: accepted > 0 ? ((cpu2 - cpu0) * 1e6) / accepted : NaN,
    relayRssPeakMiB: peak,
    relayHeapMiB: has(mid, M.heapUsed) ? total(mid, M.heapUsed) / 2 ** 20 : NaN,
    relayExternalMiB: has(mid, M.external) ? total(mid, M.external) / 2 ** 20 : NaN,
    loadCores: r.loadCpuS / wall,
    sinkCores: (sink1 - sink0) / wall,
    boxCores: (box1.busy - box0.busy) / wall,
    otherCores: Math.max(0, (box1.busy - box0.busy - (cpu1 - cpu0) - (sink1 - sink0) - r.loadCpuS) / wall),
    drainS,
    accepted,
    delivered: perBackend((b) => total(m1, M.delivered, `backend="${b}"`) - total(m0, M.delivered, `backend="${b}"`)),
    dropped: perBackend((b) => total(m1, M.dropped, `backend="${b}"`) - total(m0, M.dropped, `backend="${b}"`)),
    // Without counters no refusal is load shedding: judgeClient then counts every non-2xx as a problem.
    droppedQueueFull: t.backends.map((b) =>
      t.settle ? 0 : total(m1, M.dropped, `backend="${b}"`, QUEUE_FULL) - total(m0, M.dropped, `backend="${b}"`, QUEUE_FULL),
    ),
  };
}

/** Other work above this (in cores) during a run skews it: the run is repeated, up to `attempts` times in all. */
export const NOISY_OTHER_CORES = 0.25;

/** Runs `once` until a run is quiet (or attempts run out) and returns the quietest sample. */
export async function quietest<T extends { otherCores: number }>(
  attempts: number,
  once: () => Promise<T>,
  onNoisy: (s: T, attempt: number) => void,
): Promise<T> {
  let best: T | undefined;
  for (let a = 1; a <= attempts; a++) {
    const s = await once();
    if (!best || s.otherCores < best.otherCores) best = s;
    if (s.otherCores <= NOISY_OTHER_CORES || a === attempts) break;
    onNoisy(s, a);
  }
  return best as T;
}

/**
 * What a run's checks found. `problems`: data wrong or missing (bytes, counts, accounting, client errors): the run
 * fails. `shed`: the relay refused load on purpose (503 because a backend queue was full): reported, not a failure.
 */
export interface Verdict {
  problems: string[];
  shed: string[];
}

/** Client answers other than 2xx are load shedding when the relay counted queue-full drops, problems otherwise. */
export function judgeClient(s: RunSample, run: string, v: Verdict): void {
  const { non2xx, errors, timeouts } = s.load;
  const queueFull = s.droppedQueueFull.some((n) => n > 0);
  if (non2xx > 0) {
    const pct = ((100 * non2xx) / Math.max(1, non2xx + s.load.ok)).toFixed(1);
    (queueFull ? v.shed : v.problems).push(`${run}: ${non2xx} requests (${pct} %) answered non-2xx${queueFull ? ' (503: a backend queue was full)' : ''}`);
  }
  if (errors > 0 || timeouts > 0) v.problems.push(`${run}: client saw ${errors} errors and ${timeouts} timeouts`);
  for (const [i, n] of s.droppedQueueFull.entries()) {
    if (n > 0) v.shed.push(`${run}: backend ${i + 1} refused ${n} points with its queue full`);
  }
}
