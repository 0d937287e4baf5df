/**
 * GET /status.json: what the status page (GET /) shows, in one answer: this relay's backends (each output name
 * aggregated over every listener that has it, as HAProxy sees it on /health/backends/<name>), their backlog,
 * delivery rate, errors, missed windows and quarantine, the intake rate per listener, and the spool's disk state.
 * Rates are computed here from the Prometheus counters (RateMeter), so every viewer sees the same numbers.
 */
import type { BackendHealth } from '../backends/backend.js';
import type { JournalHealth } from '../queue/queue.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { VERSION } from '../version.js';
import { backendReadiness, listenerHealth } from './health.js';
import { RateMeter } from './rates.js';

export type StatusMetrics = Pick<RelayMetrics, 'pointsReceived' | 'backendPointsDelivered' | 'backendRequests' | 'backendPointsDropped'>;

export interface StatusSources {
  readonly listener: string;
  readonly backends: () => readonly BackendHealth[];
  readonly backendsNamed: (name: string) => readonly BackendHealth[];
  readonly spool: () => JournalHealth | undefined;
  readonly closing: () => boolean;
}

export interface BackendStatus extends BackendHealth {
  /** Listener queues aggregated here (HTTP, TCP and UDP listeners each hold their own for the same output). */
  readonly queues: number;
  readonly fresh: boolean;
  readonly quarantined: boolean;
  readonly message: string;
  readonly deliveredPoints: number;
  readonly droppedPoints: number;
  /** Points per second acknowledged by the backend; absent until two samples. */
  readonly deliveredPerSecond?: number;
  /** Failed requests (retry, drop, reject) per second. */
  readonly errorsPerSecond?: number;
  readonly droppedPerSecond?: number;
}

export interface RelayStatus {
  readonly version: string;
  readonly listener: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly at: string;
  /** The interval the rates are over, ms; absent until two samples. */
  readonly rateIntervalMs?: number;
  readonly acceptingWrites: boolean;
  readonly message: string;
  readonly spool?: JournalHealth;
  readonly listeners: ReadonlyArray<{ name: string; receivedPoints: number; pointsPerSecond?: number }>;
  readonly backends: readonly BackendStatus[];
}

type Totals = Map<string, number>;

async function sumByLabel(metric: { get(): Promise<{ values: ReadonlyArray<{ value: number; labels: Record<string, string | number | undefined> }> }> }, label: string, prefix: string, keep: (labels: Record<string, unknown>) => boolean = () => true): Promise<Totals> {
  const totals: Totals = new Map();
  for (const v of (await metric.get()).values) {
    if (!keep(v.labels)) continue;
    const key = `${prefix}${String(v.labels[label])}`;
    totals.set(key, (totals.get(key) ?? 0) + v.value);
  }
  return totals;
}

export class StatusReport {
  private readonly meter = new RateMeter(1000);

  constructor(
    private readonly sources: StatusSources,
    private readonly metrics: StatusMetrics,
  ) {}

  async build(now = Date.now()): Promise<RelayStatus> {
    const m = this.metrics;
    const totals: Totals = new Map([
      ...(await sumByLabel(m.pointsReceived, 'listener', 'in:')),
      ...(await sumByLabel(m.backendPointsDelivered, 'backend', 'ok:')),
      ...(await sumByLabel(m.backendPointsDropped, 'backend', 'drop:')),
      ...(await sumByLabel(m.backendRequests, 'backend', 'err:', (l) => l['outcome'] !== 'ok')),
    ]);
    const { rates, intervalMs } = this.meter.observe(now, totals);
    // Once rates exist, a counter never incremented (no label yet) runs at 0/s.
    const rate = (key: string) => (intervalMs === undefined ? undefined : { value: rates.get(key) ?? 0 });

    const own = this.sources.backends();
    const h = listenerHealth(this.sources.listener, own, this.sources.closing(), this.sources.spool());
    const names = [...new Set(own.map((b) => b.name))];
    const backends = names.map((name): BackendStatus => {
      const r = backendReadiness(this.sources.backendsNamed(name));
      const delivered = rate(`ok:${name}`);
      const errors = rate(`err:${name}`);
      const dropped = rate(`drop:${name}`);
      return {
        ...r.body,
        fresh: r.status === 200,
        deliveredPoints: totals.get(`ok:${name}`) ?? 0,
        droppedPoints: totals.get(`drop:${name}`) ?? 0,
        ...(delivered ? { deliveredPerSecond: delivered.value } : {}),
        ...(errors ? { errorsPerSecond: errors.value } : {}),
        ...(dropped ? { droppedPerSecond: dropped.value } : {}),
      };
    });
    const listeners = [...totals]
      .filter(([k]) => k.startsWith('in:'))
      .map(([k, total]) => {
        const r = rate(k);
        return { name: k.slice(3), receivedPoints: total, ...(r ? { pointsPerSecond: r.value } : {}) };
      });
    if (!listeners.some((l) => l.name === this.sources.listener)) {
      const r = rate(`in:${this.sources.listener}`);
      listeners.unshift({ name: this.sources.listener, receivedPoints: 0, ...(r ? { pointsPerSecond: r.value } : {}) });
    }
    return {
      version: VERSION,
      listener: this.sources.listener,
      pid: process.pid,
      uptimeSeconds: Math.round(process.uptime()),
      at: new Date(now).toISOString(),
      ...(intervalMs !== undefined ? { rateIntervalMs: intervalMs } : {}),
      acceptingWrites: h.acceptingWrites,
      message: h.message,
      ...(h.spool ? { spool: h.spool } : {}),
      listeners,
      backends,
    };
  }
}
