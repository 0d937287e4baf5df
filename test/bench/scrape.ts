/**
 * Reads the relay's own /metrics (Prometheus text) for the benchmark: what it accepted, what it delivered,
 * and whether its queues are empty (the end of a drain).
 */
import { get } from '../helpers/http.js';

/** `name{labels}` → value, for every sample line. */
export type Samples = Map<string, number>;

export function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export async function scrape(relayUrl: string): Promise<Samples> {
  const res = await get(`${relayUrl}/metrics`, { timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`GET ${relayUrl}/metrics: HTTP ${res.status}`);
  return parseMetrics(res.body);
}

/** Sum of every series of a metric whose labels contain every filter (e.g. `backend="a"`). */
export function total(s: Samples, name: string, ...labelFilters: string[]): number {
  let sum = 0;
  for (const [k, v] of s) {
    const brace = k.indexOf('{');
    const metric = brace < 0 ? k : k.slice(0, brace);
    if (metric === name && labelFilters.every((f) => k.includes(f))) sum += v;
  }
  return sum;
}

/** Whether the metric exists at all (so a renamed metric is reported, not read as 0). */
export function has(s: Samples, name: string): boolean {
  for (const k of s.keys()) if (k === name || k.startsWith(name + '{')) return true;
  return false;
}

export const M = {
  received: 'influx_relay_points_received_total',
  delivered: 'influx_relay_backend_points_delivered_total',
  dropped: 'influx_relay_backend_points_dropped_total',
  queueBytes: 'influx_relay_backend_queue_bytes',
  heapUsed: 'influx_relay_nodejs_heap_size_used_bytes',
  external: 'influx_relay_nodejs_external_memory_bytes',
} as const;

/** What the relay has taken in and given out so far: received, delivered and dropped, every series. */
function progress(s: Samples): string {
  return [M.received, M.delivered, M.dropped].map((m) => [...s].filter(([k]) => k === m || k.startsWith(m + '{')).join(';')).join('|');
}

/**
 * Polls until the relay has settled: every backend queue empty (bytes in flight included) and its received,
 * delivered and dropped counters unchanged over `settleScrapes` scrapes in a row. An empty queue alone is not the
 * end: a request still in flight when the load stopped may be counted as received, or be scanned, before its batch
 * reaches a queue, and its delivery would then land in the next run's counts. Resolves with the seconds until the
 * first settled scrape and the last scrape (the counters to account the run by); rejects after timeoutS.
 */
export async function waitDrained(relayUrl: string, timeoutS: number, intervalMs = 100, settleScrapes = 3): Promise<{ seconds: number; samples: Samples }> {
  const t0 = performance.now();
  let seen = '';
  let same = 0;
  let since = 0;
  for (;;) {
    const s = await scrape(relayUrl);
    const now = performance.now();
    if (!has(s, M.queueBytes)) throw new Error(`relay /metrics has no ${M.queueBytes}: cannot tell when it has drained`);
    const p = progress(s);
    if (total(s, M.queueBytes) === 0 && p === seen) same++;
    else {
      same = total(s, M.queueBytes) === 0 ? 1 : 0;
      since = now;
    }
    seen = p;
    if (same >= settleScrapes) return { seconds: (since - t0) / 1000, samples: s };
    if (now - t0 > timeoutS * 1000) throw new Error(`relay queues not drained after ${timeoutS} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
