/**
 * Composition root: wires sources → fan-out → backends from the config, and owns the order of start and stop.
 * Each listener has its own backends (as in influxdb-relay): a backend named in two listeners is two queues.
 * With `spool-dir`, each listener also has its own spool (one on-disk log, one cursor per backend); it is opened
 * first, so that backends start by replaying what they had not delivered before a crash or restart.
 */
import path from 'node:path';
import type { Backend } from './backends/backend.js';
import { backendFromConfig } from './backends/from-config.js';
import { deadLetterFileName, spoolDirName } from './config/file-names.js';
import type { HttpOutputConfig, RelayConfig } from './config/types.js';
import { FanOut } from './fanout.js';
import { defaultScanThreads, ScanPool } from './lineprotocol/scan-pool.js';
import { BacklogTracker } from './integrity/backlog.js';
import { ledgerFile, MissedWindowLedger } from './integrity/ledger.js';
import { TrackedMemoryQueue } from './integrity/tracked-queue.js';
import { Spool } from './queue/spool/spool.js';
import { BodyBudget } from './sources/body-budget.js';
import { graphiteSource } from './sources/graphite.js';
import { HttpSource } from './sources/http.js';
import { OpentsdbSource } from './sources/opentsdb.js';
import { TcpSource } from './sources/tcp.js';
import { UdpSource } from './sources/udp.js';
import type { Logger } from './telemetry/logger.js';
import { RelayMetrics } from './telemetry/metrics.js';

type Source = HttpSource | UdpSource | TcpSource | OpentsdbSource;

const MB = 1024 * 1024;

export class Relay {
  readonly metrics: RelayMetrics;
  readonly http: HttpSource[] = [];
  readonly udp: UdpSource[] = [];
  readonly tcp: TcpSource[] = [];
  readonly opentsdb: OpentsdbSource[] = [];
  private readonly backends: Backend[] = [];
  private readonly spools: Spool[] = [];
  private readonly scanPool: ScanPool;
  /** Request bodies in flight, decoded, across every HTTP listener (max-bodies-in-flight-mb). */
  private readonly bodyBudget: BodyBudget;
  /** What each backend missed; undefined without ledger-dir or spool-dir. */
  private ledger: MissedWindowLedger | undefined;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: RelayConfig,
    logger: Logger,
    metrics?: RelayMetrics,
  ) {
    this.log = logger;
    this.metrics = metrics ?? new RelayMetrics();
    this.bodyBudget = new BodyBudget(config.maxBodiesInFlightMb * MB);
    this.scanPool = new ScanPool(config.scanThreads < 0 ? defaultScanThreads() : config.scanThreads, logger);
  }

  private get sources(): Source[] {
    return [...this.http, ...this.udp, ...this.tcp, ...this.opentsdb];
  }

  /** Opens the spools, builds every listener and starts them; on failure, stops what was started. */
  async start(): Promise<void> {
    try {
      await this.build();
      this.scanPool.start();
      for (const b of this.backends) b.start();
      for (const source of this.sources) await source.start();
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  private async build(): Promise<void> {
    const c = this.config;
    const file = ledgerFile(c);
    if (file) {
      const names = [...new Set([...c.http, ...c.tcp, ...c.udp, ...c.opentsdb, ...c.graphite].flatMap((l) => l.output.flatMap((o) => (o.kind === 'http' ? [o.name] : []))))];
      this.ledger = await MissedWindowLedger.open({ file, logger: this.log, metrics: this.metrics, backends: names });
    }
    for (const l of c.http) {
      const fanout = await this.fanout(l.name, l.output);
      this.http.push(
        new HttpSource(
          {
            listener: l.name,
            bindAddr: l.bindAddr,
            ...(l.sslCombinedPem ? { sslCombinedPem: l.sslCombinedPem } : {}),
            defaultRetentionPolicy: l.defaultRetentionPolicy,
            defaultConsistency: l.ack,
            maxBodyBytes: l.maxBodyBytes,
            headerTimeoutMs: l.headerTimeoutMs,
            requestTimeoutMs: l.requestTimeoutMs,
            idleTimeoutMs: l.idleTimeoutMs,
            pingStatus: l.defaultPingResponse,
            backendsNamed: (name) => this.backends.filter((b) => b.name === name).map((b) => b.health()),
            bodyBudget: this.bodyBudget,
            scanner: this.scanPool,
          },
          fanout,
          this.metrics,
          this.log,
        ),
      );
    }
    for (const l of c.udp) {
      // host:port outputs are plain UDP forwards the source owns; URL outputs are backends with queues.
      const outputs = l.output.flatMap((o) => (o.kind === 'http' ? [o] : []));
      this.udp.push(new UdpSource(l, await this.fanout(l.name, outputs), this.metrics, this.log));
    }
    for (const l of c.tcp) {
      this.tcp.push(new TcpSource(l, await this.fanout(l.name, l.output), this.metrics, this.log));
    }
    for (const l of c.opentsdb) {
      this.opentsdb.push(new OpentsdbSource(l, await this.fanout(l.name, l.output), this.metrics, this.log));
    }
    for (const l of c.graphite) {
      // A Graphite listener is a [[tcp]] or [[udp]] one whose lines are converted.
      const source = graphiteSource(l, await this.fanout(l.name, l.output), this.metrics, this.log);
      if (source instanceof TcpSource) this.tcp.push(source);
      else this.udp.push(source);
    }
  }

  /** One listener's backends, each with its queue: a view of the listener's spool, or memory. */
  private async fanout(listener: string, outputs: readonly HttpOutputConfig[]): Promise<FanOut> {
    const logger = this.log.child({ listener });
    const spool = await this.openSpool(listener, outputs, logger);
    // Dead letters sit beside the spool (not inside a listener's log directory, where they would be junk to recovery).
    const deadLetters = (o: HttpOutputConfig) =>
      this.config.spoolDir ? path.join(this.config.spoolDir, 'dead-letters', deadLetterFileName(listener, o.name)) : undefined;
    const backends = outputs.map((o) =>
      backendFromConfig(o, {
        logger,
        metrics: this.metrics,
        whenFull: this.config.whenFull,
        ...(spool ? { queue: spool.queue(o.name) } : {}),
        ...(this.ledger ? { missed: this.ledger, memoryQueue: (bytes: number) => this.trackedQueue(o.name, bytes) } : {}),
        ...(deadLetters(o) ? { defaultDeadLetterFile: deadLetters(o)! } : {}),
      }),
    );
    this.backends.push(...backends);
    return new FanOut(backends, this.config.answerTimeoutMs, spool);
  }

  /** A memory queue whose backlog summary the ledger persists, so a crash still tells what each backend lost. */
  private trackedQueue(backend: string, capacityBytes: number): TrackedMemoryQueue {
    const tracker = new BacklogTracker();
    this.ledger!.trackBacklog(backend, tracker);
    return new TrackedMemoryQueue(capacityBytes, tracker);
  }

  private spoolPath(listener: string): string | undefined {
    return this.config.spoolDir ? path.join(this.config.spoolDir, spoolDirName(listener)) : undefined;
  }

  private async openSpool(listener: string, outputs: readonly HttpOutputConfig[], logger: Logger): Promise<Spool | undefined> {
    const c = this.config;
    if (!c.spoolDir || outputs.length === 0) return undefined;
    const spool = await Spool.open({
      dir: this.spoolPath(listener)!,
      backends: outputs.map((o) => o.name),
      maxBytesPerBackend: c.spoolMaxMb * MB,
      // Each backend's buffer-size-mb is the in-memory tail of its backlog; the spool holds the rest.
      memoryBytesPerBackend: Math.min(c.spoolMaxMb, Math.max(...outputs.map((o) => o.spoolMemoryMb))) * MB,
      fsync: c.fsync,
      fsyncIntervalMs: c.fsyncIntervalMs,
      whenFull: c.whenFull,
      logger,
      onDiskError: (op) => this.metrics.spoolDiskErrors.labels(listener, op).inc(),
      onDrop: (backend, points, reason, sinceMs) => {
        this.metrics.backendPointsDropped.labels(backend, reason).inc(points);
        // Records on disk carry no per-point times here: the window is every database, from the oldest receipt on.
        const fromNs = BigInt(sinceMs) * 1_000_000n;
        this.ledger?.recordRange(backend, { db: '*', rp: '*', fromNs, toNs: BigInt(Date.now()) * 1_000_000n, points }, reason);
      },
    });
    this.spools.push(spool);
    this.metrics.trackSpool(listener, {
      backendNames: outputs.map((o) => o.name),
      get io() {
        return spool.io;
      },
      stats: (backend) => spool.stats(backend),
    });
    return spool;
  }

  /**
   * Graceful stop: sources stop taking writes and finish the ones in flight, then every backend drains its queue, all
   * within shutdown-timeout; then the spools flush and persist their cursors. What could not be delivered is logged
   * per backend (with a spool it stays on disk for the next start). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    this.log.info({ deadlineMs: this.config.shutdownTimeoutMs }, 'shutting down: draining writes');
    await Promise.all(this.sources.map((s) => s.close(deadline)));
    const left = await Promise.all(this.backends.map(async (b) => ({ name: b.name, ...(await b.close(deadline)) })));
    await Promise.all(this.spools.map((s) => s.close()));
    // After the backends: what they gave up at the deadline is recorded before the clean-stop marker.
    await this.ledger?.close();
    await this.scanPool.close();
    for (const l of left) {
      if (l.batches === 0) continue;
      const msg = this.spools.length > 0 ? 'shutdown deadline passed: undelivered writes stay in the spool for the next start' : 'shutdown deadline passed: these writes were not delivered';
      this.log.error({ backend: l.name, batches: l.batches, bytes: l.bytes }, msg);
    }
    this.log.info('stopped');
  }

  /** Stops everything now, dropping what is queued in memory (the spool keeps what it has). */
  async destroy(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close(Date.now())));
    await Promise.all(this.backends.map((b) => b.destroy()));
    await Promise.all(this.spools.map((s) => s.close().catch(() => undefined)));
    await this.ledger?.close().catch(() => undefined);
    await this.scanPool.close();
  }
}
