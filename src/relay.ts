/**
 * Composition root: wires sources → fan-out → backends from the config, and owns the order of start and stop.
 * Each listener has its own backends (as in influxdb-relay): a backend named in two listeners is two queues.
 */
import type { Backend } from './backends/backend.js';
import { backendFromConfig } from './backends/from-config.js';
import type { HttpOutputConfig, RelayConfig } from './config/types.js';
import { FanOut } from './fanout.js';
import { HttpSource } from './sources/http.js';
import { TcpSource } from './sources/tcp.js';
import { UdpSource } from './sources/udp.js';
import type { Logger } from './telemetry/logger.js';
import { RelayMetrics } from './telemetry/metrics.js';

export class Relay {
  readonly metrics: RelayMetrics;
  readonly http: HttpSource[] = [];
  readonly udp: UdpSource[] = [];
  readonly tcp: TcpSource[] = [];
  private readonly backends: Backend[] = [];
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: RelayConfig,
    logger: Logger,
    metrics?: RelayMetrics,
  ) {
    this.log = logger;
    this.metrics = metrics ?? new RelayMetrics();
    for (const l of config.http) {
      const backends = l.output.map((o) => this.backend(o, logger.child({ listener: l.name })));
      this.http.push(
        new HttpSource(
          {
            listener: l.name,
            bindAddr: l.bindAddr,
            ...(l.sslCombinedPem ? { sslCombinedPem: l.sslCombinedPem } : {}),
            defaultRetentionPolicy: l.defaultRetentionPolicy,
            defaultConsistency: l.ack,
            maxBodyBytes: l.maxBodySizeMb * 1024 * 1024,
            headerTimeoutMs: l.headerTimeoutMs,
            requestTimeoutMs: l.requestTimeoutMs,
            idleTimeoutMs: l.idleTimeoutMs,
            pingStatus: l.defaultPingResponse,
            backendsNamed: (name) => this.backends.filter((b) => b.name === name),
          },
          new FanOut(backends),
          this.metrics,
          logger,
        ),
      );
    }
    for (const l of config.udp) {
      // host:port outputs are plain UDP forwards the source owns; URL outputs are backends with queues.
      const backends = l.output.flatMap((o) => (o.kind === 'http' ? [this.backend(o, logger.child({ listener: l.name }))] : []));
      this.udp.push(new UdpSource(l, new FanOut(backends), this.metrics, logger));
    }
    for (const l of config.tcp) {
      const backends = l.output.map((o) => this.backend(o, logger.child({ listener: l.name })));
      this.tcp.push(new TcpSource(l, new FanOut(backends), this.metrics, logger));
    }
  }

  private backend(o: HttpOutputConfig, logger: Logger): Backend {
    const b = backendFromConfig(o, logger, this.metrics);
    this.backends.push(b);
    return b;
  }

  private get sources(): Array<HttpSource | UdpSource | TcpSource> {
    return [...this.http, ...this.udp, ...this.tcp];
  }

  async start(): Promise<void> {
    try {
      for (const source of this.sources) await source.start();
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  /**
   * Graceful stop: sources stop taking writes and finish the ones in flight, then every backend drains its queue, all
   * within shutdown-timeout. What could not be delivered is logged per backend. Idempotent.
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
    for (const l of left) {
      if (l.batches > 0) this.log.error({ backend: l.name, batches: l.batches, bytes: l.bytes }, 'shutdown deadline passed: these writes were not delivered');
    }
    this.log.info('stopped');
  }

  /** Stops everything now, dropping what is queued. */
  async destroy(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close(Date.now())));
    await Promise.all(this.backends.map((b) => b.destroy()));
  }
}
