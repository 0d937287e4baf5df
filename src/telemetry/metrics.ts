/**
 * Prometheus metrics. One registry per relay (tests run several relays in one process), created by the composition root
 * and handed to components. Counters are incremented once per batch, never per point.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What a backend reports at scrape time. */
export interface QueueGaugeSource {
  readonly name: string;
  health(): { queueBytes: number; queueBatches: number; queueCapacityBytes: number; oldestBatchAgeMs: number };
}

/** What the missed-window ledger reports at scrape time: unrepaired windows per backend. */
export interface MissedWindowsSource {
  unrepairedCounts(): ReadonlyMap<string, number>;
}

/** What a spool reports at scrape time. */
export interface SpoolGaugeSource {
  readonly backendNames: readonly string[];
  readonly io: { writes: number; syncs: number; bytesWritten: number; bytesRead: number; diskBytes: number; segments: number };
  stats(backend: string): { replayedRecords: number; catchingUp: boolean };
}

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly queueSources: QueueGaugeSource[] = [];

  /** Queue gauges are read from the backends when scraped, not kept up to date on the hot path. */
  trackQueue(source: QueueGaugeSource): void {
    this.queueSources.push(source);
  }

  private collectQueues(): void {
    for (const s of this.queueSources) {
      const h = s.health();
      this.backendQueueBytes.labels(s.name).set(h.queueBytes);
      this.backendQueueBatches.labels(s.name).set(h.queueBatches);
      this.backendQueueCapacity.labels(s.name).set(h.queueCapacityBytes);
      this.backendOldestAge.labels(s.name).set(h.oldestBatchAgeMs / 1000);
    }
  }

  readonly antiEntropyRuns = new Counter({
    name: 'influx_relay_anti_entropy_runs_total',
    help: 'Anti-entropy passes (ledger windows repaired, recent windows compared and copied), by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly antiEntropyPointsCopied = new Counter({
    name: 'influx_relay_anti_entropy_points_copied_total',
    help: 'Points anti-entropy copied from one replica to another.',
    registers: [this.registry],
  });
  readonly antiEntropyDifferences = new Counter({
    name: 'influx_relay_anti_entropy_differences_total',
    help: 'Windows anti-entropy found different between two replicas in the recent past (then copied).',
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'influx_relay_http_requests_total',
    help: 'HTTP requests answered by the relay, by listener, endpoint and status code.',
    labelNames: ['listener', 'endpoint', 'status'] as const,
    registers: [this.registry],
  });
  readonly writeDuration = new Histogram({
    name: 'influx_relay_write_duration_seconds',
    help: 'Time from receiving a write request to answering it.',
    labelNames: ['listener'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly pointsReceived = new Counter({
    name: 'influx_relay_points_received_total',
    help: 'Valid points accepted from clients, by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });
  readonly linesRejected = new Counter({
    name: 'influx_relay_lines_rejected_total',
    help: 'Lines that failed validation and were not forwarded, by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });
  readonly pointsStamped = new Counter({
    name: 'influx_relay_points_stamped_total',
    help: 'Points that arrived without a timestamp and were stamped at receipt.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });
  readonly bodyPoolBodies = new Counter({
    name: 'influx_relay_body_pool_bodies_total',
    help:
      'Request bodies read into pooled memory (body-pool-mb), by memory: reused (an earlier body\'s) or new (none of ' +
      'that size was idle; many of these under a steady load mean body-pool-mb is too small).',
    labelNames: ['memory'] as const,
    registers: [this.registry],
  });
  readonly bodyPoolIdleBytes: Gauge = new Gauge({
    name: 'influx_relay_body_pool_idle_bytes',
    help: 'Memory the body pool keeps idle for the next bodies (at most body-pool-mb).',
    registers: [this.registry],
    collect: () => {
      if (this.bodyPoolSource) this.bodyPoolIdleBytes.set(this.bodyPoolSource.idleByteCount);
    },
  });
  private bodyPoolSource: { readonly idleByteCount: number } | undefined;

  trackBodyPool(source: { readonly idleByteCount: number }): void {
    this.bodyPoolSource = source;
  }

  readonly requestsRefused = new Counter({
    name: 'influx_relay_requests_refused_total',
    help:
      'Write requests refused before reaching a backend, by reason (body-too-large, bad-gzip, bad-request, ' +
      'bodies-in-flight: over max-bodies-in-flight-mb, ...).',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly backendRequests = new Counter({
    name: 'influx_relay_backend_requests_total',
    help: 'Requests sent to a backend, by outcome (ok, retry, drop, reject).',
    labelNames: ['backend', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly backendPointsDelivered = new Counter({
    name: 'influx_relay_backend_points_delivered_total',
    help: 'Points a backend acknowledged.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly backendPointsDropped = new Counter({
    name: 'influx_relay_backend_points_dropped_total',
    // Reasons: queue-full (room.ts), too-large, no-retry, dead-letter (sender.ts), shutdown (backend.ts), spool-full and
    // spool-lost (queue/spool/), and outcome.ts's drop and reject reasons (parse-error, auth, database-not-found, ...).
    help: 'Points given up for a backend, by reason (queue-full, spool-full, spool-lost, too-large, dead-letter, no-retry, shutdown, or the backend answer\'s reason: parse-error, auth, database-not-found, ...).',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });
  readonly backendQueueBytes: Gauge<'backend'> = new Gauge({
    name: 'influx_relay_backend_queue_bytes',
    help: 'Bytes waiting in (or in flight from) a backend queue.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => this.collectQueues(),
  });
  readonly backendQueueBatches = new Gauge({
    name: 'influx_relay_backend_queue_batches',
    help: 'Batches waiting in (or in flight from) a backend queue.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly backendQueueCapacity = new Gauge({
    name: 'influx_relay_backend_queue_capacity_bytes',
    help: 'What a backend queue holds at most (buffer-size-mb); when queue_bytes reaches it, when-full decides.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly backendOldestAge = new Gauge({
    name: 'influx_relay_backend_oldest_batch_age_seconds',
    help: 'Age of the oldest batch not yet delivered to a backend: the replication lag.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly backendUp = new Gauge({
    name: 'influx_relay_backend_up',
    help: '1 when the last request to the backend succeeded or was answered, 0 while it is failing.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly backendRequestDuration = new Histogram({
    name: 'influx_relay_backend_request_duration_seconds',
    help: 'Duration of write requests to a backend.',
    labelNames: ['backend'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly spoolReplayed = new Gauge({
    name: 'influx_relay_spool_replayed_records',
    help: 'Records a backend found in its spool backlog when the relay started (what it had to replay).',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly spoolCatchingUp = new Gauge({
    name: 'influx_relay_spool_catching_up',
    help: '1 while a backend reads its backlog back from disk.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly spoolIo: Gauge<'listener' | 'counter'> = new Gauge({
    name: 'influx_relay_spool_io',
    help: 'Spool totals since start, by listener: writes, syncs, bytes_written, bytes_read (replay), disk_bytes, segments.',
    labelNames: ['listener', 'counter'] as const,
    registers: [this.registry],
    collect: () => this.collectSpools(),
  });
  readonly spoolDiskErrors = new Counter({
    name: 'influx_relay_spool_disk_errors_total',
    help: 'Failed spool disk operations, by listener and op: write (the writes in it got 503), cursor (a cursor was not saved).',
    labelNames: ['listener', 'op'] as const,
    registers: [this.registry],
  });
  private readonly spools: Array<{ listener: string; spool: SpoolGaugeSource }> = [];

  trackSpool(listener: string, spool: SpoolGaugeSource): void {
    this.spools.push({ listener, spool });
  }

  private collectSpools(): void {
    for (const { listener, spool } of this.spools) {
      const io = spool.io;
      for (const [counter, value] of Object.entries({
        writes: io.writes,
        syncs: io.syncs,
        bytes_written: io.bytesWritten,
        bytes_read: io.bytesRead,
        disk_bytes: io.diskBytes,
        segments: io.segments,
      })) {
        this.spoolIo.labels(listener, counter).set(value);
      }
      for (const backend of spool.backendNames) {
        const st = spool.stats(backend);
        this.spoolReplayed.labels(backend).set(st.replayedRecords);
        this.spoolCatchingUp.labels(backend).set(st.catchingUp ? 1 : 0);
      }
    }
  }

  readonly missedWindows: Gauge<'backend'> = new Gauge({
    name: 'influx_relay_missed_windows',
    help: 'Unrepaired missed windows per backend: time ranges the backend may be missing (see `influx-relay missed`).',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => this.collectMissedWindows(),
  });
  readonly missedPoints = new Counter({
    name: 'influx_relay_missed_points_total',
    help: 'Points recorded in the missed-window ledger, by backend and reason (queue-full, dead-letter, unclean-stop, ...).',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });
  private missedWindowsSource: MissedWindowsSource | undefined;

  trackMissedWindows(source: MissedWindowsSource): void {
    this.missedWindowsSource = source;
  }

  private collectMissedWindows(): void {
    const counts = this.missedWindowsSource?.unrepairedCounts();
    if (counts === undefined) return;
    for (const [backend, n] of counts) this.missedWindows.labels(backend).set(n);
  }

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'influx_relay_' });
  }
}
