/**
 * Composition root: wires sources → fan-out → backends from the config, and owns the order of start, reload and stop.
 * Each listener has its own backends (as in influxdb-relay): a backend named in two listeners is two queues.
 * With `spool-dir`, each listener also has its own spool (one on-disk log, one cursor per backend); it is opened
 * first, so that backends start by replaying what they had not delivered before a crash or restart.
 *
 * Reload (SIGHUP, POST /-/reload) applies a new config without a restart; the rules are in docs/operations.md:
 * listeners added or removed; a listener whose own settings changed is restarted (rebinding only then); outputs
 * added start empty and are recorded as missing everything before now; outputs removed drain and stop; outputs
 * changed keep their queue and take new options. Keys that shape the process (spool-dir, scan-threads, ...) need a
 * restart: a reload says so and keeps the running values.
 */
import path from 'node:path';
import type { Backend, BackendOptions } from './backends/backend.js';
import { backendFromConfig, backendOptions, memoryCapacity, writerFromConfig } from './backends/from-config.js';
import { deadLetterFileName, spoolDirName } from './config/file-names.js';
import type {
  GraphiteListenerConfig,
  HttpListenerConfig,
  HttpOutputConfig,
  OpentsdbListenerConfig,
  RelayConfig,
  TcpListenerConfig,
  UdpListenerConfig,
} from './config/types.js';
import { FanOut } from './fanout.js';
import { defaultScanThreads, ScanPool } from './lineprotocol/scan-pool.js';
import type { AntiEntropy } from './integrity/anti-entropy.js';
import { BacklogTracker } from './integrity/backlog.js';
import { ledgerFile, MissedWindowLedger } from './integrity/ledger.js';
import { TrackedMemoryQueue } from './integrity/tracked-queue.js';
import type { Spool } from './queue/spool/spool.js';
import { BodyBudget } from './sources/body-budget.js';
import { BodyPool } from './body-pool.js';
import { graphiteSource } from './sources/graphite.js';
import { HttpSource } from './sources/http.js';
import { OpentsdbSource } from './sources/opentsdb.js';
import { TcpSource } from './sources/tcp.js';
import { UdpSource } from './sources/udp.js';
import type { Logger } from './telemetry/logger.js';
import { RelayMetrics } from './telemetry/metrics.js';

type Source = HttpSource | UdpSource | TcpSource | OpentsdbSource;
type ListenerConfig =
  | { readonly kind: 'http'; readonly config: HttpListenerConfig }
  | { readonly kind: 'udp'; readonly config: UdpListenerConfig }
  | { readonly kind: 'tcp'; readonly config: TcpListenerConfig }
  | { readonly kind: 'opentsdb'; readonly config: OpentsdbListenerConfig }
  | { readonly kind: 'graphite'; readonly config: GraphiteListenerConfig };

/** One listener: its source, its fan-out, its backends by output name, and its spool. */
interface Listener {
  readonly key: string;
  spec: ListenerConfig;
  source: Source;
  readonly fanout: FanOut;
  readonly backends: Map<string, { backend: Backend; config: HttpOutputConfig }>;
  readonly spool: Spool | undefined;
}

/** What a reload did, for the log and for POST /-/reload's answer. */
export interface ReloadSummary {
  readonly listeners: { readonly added: string[]; readonly removed: string[]; readonly restarted: string[] };
  readonly outputs: { readonly added: string[]; readonly removed: string[]; readonly changed: string[] };
  /** Keys whose new value waits for a restart. */
  readonly needRestart: string[];
}

/** Top-level keys a running relay cannot change: the spool, the ledger, threads and the body budget. */
const RESTART_KEYS = ['spoolDir', 'ledgerDir', 'spoolMaxMb', 'fsync', 'fsyncIntervalMs', 'scanThreads', 'maxBodiesInFlightMb', 'bodyPoolMb', 'antiEntropyIntervalMs', 'antiEntropyLookbackMs'] as const;

const MB = 1024 * 1024;

export class Relay {
  readonly metrics: RelayMetrics;
  private readonly listeners = new Map<string, Listener>();
  /** Backends removed by a reload, still delivering what they hold. */
  private readonly retiring = new Set<Promise<unknown>>();
  private readonly scanPool: ScanPool;
  /** Request bodies in flight, decoded, across every HTTP listener (max-bodies-in-flight-mb). */
  private readonly bodyBudget: BodyBudget;
  /** Memory for large request bodies, reused once every queue is done with them (body-pool-mb). */
  private readonly bodyPool: BodyPool;
  /** What each backend missed; undefined without ledger-dir or spool-dir. */
  private ledger: MissedWindowLedger | undefined;
  private antiEntropy: AntiEntropy | undefined;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    private config: RelayConfig,
    logger: Logger,
    metrics?: RelayMetrics,
  ) {
    this.log = logger;
    this.metrics = metrics ?? new RelayMetrics();
    this.bodyBudget = new BodyBudget(config.maxBodiesInFlightMb * MB);
    const served = { reused: this.metrics.bodyPoolBodies.labels('reused'), fresh: this.metrics.bodyPoolBodies.labels('new') };
    this.bodyPool = new BodyPool(config.bodyPoolMb * MB, process.env.INFLUX_RELAY_BODY_POOL_CHECK === '1', (reused) => (reused ? served.reused : served.fresh).inc());
    this.metrics.trackBodyPool(this.bodyPool);
    this.scanPool = new ScanPool(config.scanThreads < 0 ? defaultScanThreads() : config.scanThreads, logger);
  }

  get http(): HttpSource[] {
    return [...this.listeners.values()].flatMap((l) => (l.source instanceof HttpSource ? [l.source] : []));
  }

  private get backends(): Backend[] {
    return [...this.listeners.values()].flatMap((l) => [...l.backends.values()].map((b) => b.backend));
  }

  /** Opens the ledger and the spools, builds every listener and starts them; on failure, stops what was started. */
  async start(): Promise<void> {
    try {
      await this.openLedger();
      const built: Listener[] = [];
      for (const spec of listenerSpecs(this.config)) built.push(await this.build(spec));
      this.scanPool.start();
      for (const l of built) for (const { backend } of l.backends.values()) backend.start();
      for (const l of built) await l.source.start();
      await this.startAntiEntropy();
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  /**
   * Repairs the replicas in the background (anti-entropy-interval); it follows reloads through this.config. Loaded
   * only when enabled: the repair code (and p-queue) is memory a relay without anti-entropy need not hold.
   */
  private async startAntiEntropy(): Promise<void> {
    if (this.config.antiEntropyIntervalMs <= 0) return;
    const [{ AntiEntropy }, { backendsFromConfig }] = await Promise.all([import('./integrity/anti-entropy.js'), import('./integrity/replicas.js')]);
    this.antiEntropy = new AntiEntropy({
      intervalMs: this.config.antiEntropyIntervalMs,
      lookbackMs: this.config.antiEntropyLookbackMs,
      replicas: () =>
        backendsFromConfig(this.config).map((r) => ({
          names: r.names,
          url: r.url,
          ready: () => {
            const mine = this.backends.filter((b) => r.names.includes(b.name)).map((b) => b.health());
            return mine.length > 0 && mine.every((h) => h.state === 'up' && h.queueBatches === 0);
          },
        })),
      ...(this.ledger ? { ledger: this.ledger } : {}),
      logger: this.log,
      metrics: this.metrics,
    });
    this.antiEntropy.start();
  }

  /** One anti-entropy pass now (tests; an operator can also just wait for the interval). */
  repairNow(): Promise<unknown> {
    return this.antiEntropy?.run() ?? Promise.resolve(undefined);
  }

  private async openLedger(): Promise<void> {
    const file = ledgerFile(this.config);
    if (!file) return;
    const names = [...new Set(listenerSpecs(this.config).flatMap((s) => httpOutputs(s).map((o) => o.name)))];
    this.ledger = await MissedWindowLedger.open({ file, logger: this.log, metrics: this.metrics, backends: names });
  }

  /** A listener with its spool and backends, not started. */
  private async build(spec: ListenerConfig): Promise<Listener> {
    const name = spec.config.name;
    const outputs = httpOutputs(spec);
    const logger = this.log.child({ listener: name });
    const spool = await this.openSpool(name, outputs, logger);
    const fanout = new FanOut([], this.config.answerTimeoutMs, spool);
    const listener: Listener = { key: listenerKey(spec), spec, source: undefined as unknown as Source, fanout, backends: new Map(), spool };
    for (const o of outputs) listener.backends.set(o.name, { backend: this.makeBackend(listener, o, logger), config: o });
    fanout.setBackends([...listener.backends.values()].map((b) => b.backend));
    listener.source = this.makeSource(spec, fanout, spool !== undefined);
    this.listeners.set(listener.key, listener);
    return listener;
  }

  /** `spooled`: the listener's backends read from its spool, so its bodies are not pooled (body-pool.ts). */
  private makeSource(spec: ListenerConfig, fanout: FanOut, spooled: boolean): Source {
    switch (spec.kind) {
      case 'http': {
        const l = spec.config;
        return new HttpSource(
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
            ...(spooled ? {} : { bodyPool: this.bodyPool }),
            ...(this.config.reloadEndpoint ? { reload: () => this.reloadFromFile?.() ?? Promise.reject(new Error('no config file to reload')) } : {}),
          },
          fanout,
          this.metrics,
          this.log,
        );
      }
      case 'udp':
        // host:port outputs are plain UDP forwards the source owns; URL outputs are backends with queues.
        return new UdpSource(spec.config, fanout, this.metrics, this.log);
      case 'tcp':
        return new TcpSource(spec.config, fanout, this.metrics, this.log);
      case 'opentsdb':
        return new OpentsdbSource(spec.config, fanout, this.metrics, this.log);
      case 'graphite':
        // A Graphite listener is a [[tcp]] or [[udp]] one whose lines are converted.
        return graphiteSource(spec.config, fanout, this.metrics, this.log);
    }
  }

  /** Set by main.ts: re-reads the config file and reloads (POST /-/reload uses it). */
  reloadFromFile: (() => Promise<ReloadSummary>) | undefined;

  private makeBackend(listener: Pick<Listener, 'spool' | 'spec'>, o: HttpOutputConfig, logger: Logger, queue = listener.spool?.queue(o.name)): Backend {
    const name = listener.spec.config.name;
    // Dead letters sit beside the spool (not inside a listener's log directory, where they would be junk to recovery).
    const deadLetters = this.config.spoolDir ? path.join(this.config.spoolDir, 'dead-letters', deadLetterFileName(name, o.name)) : undefined;
    return backendFromConfig(o, {
      logger,
      metrics: this.metrics,
      whenFull: this.config.whenFull,
      ...(queue ? { queue } : {}),
      ...(this.ledger ? { missed: this.ledger, memoryQueue: (bytes: number) => this.trackedQueue(o.name, bytes) } : {}),
      ...(deadLetters ? { defaultDeadLetterFile: deadLetters } : {}),
    });
  }

  /** A memory queue whose backlog summary the ledger persists, so a crash still tells what each backend lost. */
  private trackedQueue(backend: string, capacityBytes: number): TrackedMemoryQueue {
    const tracker = new BacklogTracker();
    this.ledger!.trackBacklog(backend, tracker);
    return new TrackedMemoryQueue(capacityBytes, tracker);
  }

  private async openSpool(listener: string, outputs: readonly HttpOutputConfig[], logger: Logger): Promise<Spool | undefined> {
    const c = this.config;
    if (!c.spoolDir || outputs.length === 0) return undefined;
    // Loaded only with spool-dir, like anti-entropy: a memory-only relay does not hold the spool's code.
    const { Spool } = await import('./queue/spool/spool.js');
    const spool = await Spool.open({
      dir: path.join(c.spoolDir, spoolDirName(listener)),
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
        this.recordLost(backend, points, reason, sinceMs);
      },
    });
    this.metrics.trackSpool(listener, {
      get backendNames() {
        return spool.backendNames;
      },
      get io() {
        return spool.io;
      },
      stats: (backend) => spool.stats(backend),
    });
    return spool;
  }

  /** Records on disk carry no per-point times here: the window is every database, from the oldest receipt to now. */
  private recordLost(backend: string, points: number, reason: string, sinceMs: number): void {
    const fromNs = BigInt(sinceMs) * 1_000_000n;
    this.ledger?.recordRange(backend, { db: '*', rp: '*', fromNs, toNs: BigInt(Date.now()) * 1_000_000n, points }, reason);
  }

  /** Applies a new config to the running relay (serialized: one reload at a time). */
  reload(next: RelayConfig): Promise<ReloadSummary> {
    const run = this.reloading.then(() => this.doReload(next));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async doReload(next: RelayConfig): Promise<ReloadSummary> {
    if (this.closing) throw new Error('the relay is shutting down');
    const needRestart = RESTART_KEYS.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]));
    const kept = Object.fromEntries(RESTART_KEYS.map((k) => [k, this.config[k]]));
    this.config = { ...next, ...kept } as RelayConfig;
    this.log.level = next.logLevel;
    const summary: ReloadSummary = { listeners: { added: [], removed: [], restarted: [] }, outputs: { added: [], removed: [], changed: [] }, needRestart };
    const wanted = new Map(listenerSpecs(this.config).map((s) => [listenerKey(s), s]));
    for (const [key, l] of [...this.listeners]) {
      if (wanted.has(key)) continue;
      await this.removeListener(l);
      summary.listeners.removed.push(l.spec.config.name);
    }
    for (const [key, spec] of wanted) {
      const l = this.listeners.get(key);
      if (!l) {
        const built = await this.build(spec);
        for (const { backend } of built.backends.values()) backend.start();
        await built.source.start();
        summary.listeners.added.push(spec.config.name);
        continue;
      }
      l.fanout.answerTimeoutMs = this.config.answerTimeoutMs;
      await this.reconcileOutputs(l, spec, summary);
      if (sourceSettings(l.spec) !== sourceSettings(spec)) {
        await this.restartSource(l, spec);
        summary.listeners.restarted.push(spec.config.name);
      }
      l.spec = spec;
    }
    this.log.info({ ...summary }, needRestart.length > 0 ? 'config reloaded; some keys need a restart to apply' : 'config reloaded');
    return summary;
  }

  /** Outputs of one listener: same name → reconfigured in place (queue kept), new → empty, gone → drained. */
  private async reconcileOutputs(l: Listener, spec: ListenerConfig, summary: ReloadSummary): Promise<void> {
    const outputs = httpOutputs(spec);
    const logger = this.log.child({ listener: spec.config.name });
    const names = new Set(outputs.map((o) => o.name));
    for (const o of outputs) {
      const have = l.backends.get(o.name);
      if (!have) {
        const queue = l.spool?.addBackend(o.name);
        const backend = this.makeBackend({ spool: l.spool, spec }, o, logger, queue);
        l.backends.set(o.name, { backend, config: o });
        backend.start();
        // It never had what came before: a repair from another replica fills it.
        this.ledger?.recordRange(o.name, { db: '*', rp: '*', fromNs: 0n, toNs: BigInt(Date.now()) * 1_000_000n, points: 0 }, 'added-by-reload');
        summary.outputs.added.push(o.name);
      } else {
        // Options follow the new file (and a changed when-full); a new connection pool only if the output changed.
        const opts: BackendOptions = backendOptions(o, { whenFull: this.config.whenFull, spooled: l.spool !== undefined });
        const changed = JSON.stringify(have.config) !== JSON.stringify(o);
        have.backend.reconfigure(opts, changed ? writerFromConfig(o) : undefined, l.spool ? undefined : memoryCapacity(o, opts));
        have.config = o;
        if (changed) summary.outputs.changed.push(o.name);
      }
    }
    l.fanout.setBackends(outputs.map((o) => l.backends.get(o.name)!.backend));
    for (const [name, { backend }] of [...l.backends]) {
      if (names.has(name)) continue;
      l.backends.delete(name);
      this.retire(l, name, backend);
      summary.outputs.removed.push(name);
    }
  }

  /** A removed output keeps delivering what it holds, up to shutdown-timeout; what is left is recorded as missed. */
  private retire(l: Listener, name: string, backend: Backend): void {
    const done = backend
      .retire(Date.now() + this.config.shutdownTimeoutMs)
      .then(async (left) => {
        if (!l.spool) return; // a memory queue records what it abandons itself
        const held = await l.spool.removeBackend(name);
        if (held.records > 0) this.recordLost(name, held.points, 'removed-by-reload', held.oldestReceivedAt ?? Date.now());
        if (left.batches > 0) this.log.warn({ backend: name, ...left }, 'removed output: not all of its backlog was delivered; recorded as missed');
      })
      .catch((err: unknown) => this.log.error({ err, backend: name }, 'retiring a removed output failed'))
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  /** A listener's own settings changed: a new source on the same fan-out; a new address is bound before the old goes. */
  private async restartSource(l: Listener, spec: ListenerConfig): Promise<void> {
    const old = l.source;
    const fresh = this.makeSource(spec, l.fanout, l.spool !== undefined);
    if (spec.config.bindAddr !== l.spec.config.bindAddr) {
      await fresh.start();
      await old.close(Date.now() + this.config.shutdownTimeoutMs);
    } else {
      await old.close(Date.now() + this.config.shutdownTimeoutMs);
      await fresh.start();
    }
    l.source = fresh;
  }

  private async removeListener(l: Listener): Promise<void> {
    this.listeners.delete(l.key);
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    await l.source.close(deadline);
    await Promise.all([...l.backends.values()].map(({ backend }) => backend.close(deadline)));
    await l.spool?.close();
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
    await this.reloading;
    await this.antiEntropy?.close();
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    this.log.info({ deadlineMs: this.config.shutdownTimeoutMs }, 'shutting down: draining writes');
    const listeners = [...this.listeners.values()];
    await Promise.all(listeners.map((l) => l.source.close(deadline)));
    const left = await Promise.all(this.backends.map(async (b) => ({ name: b.name, ...(await b.close(deadline)) })));
    await Promise.all(this.retiring);
    const spooled = listeners.some((l) => l.spool);
    await Promise.all(listeners.map((l) => l.spool?.close()));
    // After the backends: what they gave up at the deadline is recorded before the clean-stop marker.
    await this.ledger?.close();
    await this.scanPool.close();
    for (const l of left) {
      if (l.batches === 0) continue;
      const msg = spooled ? 'shutdown deadline passed: undelivered writes stay in the spool for the next start' : 'shutdown deadline passed: these writes were not delivered';
      this.log.error({ backend: l.name, batches: l.batches, bytes: l.bytes }, msg);
    }
    this.log.info('stopped');
  }

  /** Stops everything now, dropping what is queued in memory (the spool keeps what it has). */
  async destroy(): Promise<void> {
    await this.antiEntropy?.close();
    const listeners = [...this.listeners.values()];
    await Promise.all(listeners.map((l) => l.source?.close(Date.now())));
    await Promise.all(this.backends.map((b) => b.destroy()));
    await Promise.all(listeners.map((l) => l.spool?.close().catch(() => undefined)));
    await this.ledger?.close().catch(() => undefined);
    await this.scanPool.close();
  }
}

function listenerSpecs(c: RelayConfig): ListenerConfig[] {
  return [
    ...c.http.map((config) => ({ kind: 'http' as const, config })),
    ...c.udp.map((config) => ({ kind: 'udp' as const, config })),
    ...c.tcp.map((config) => ({ kind: 'tcp' as const, config })),
    ...c.opentsdb.map((config) => ({ kind: 'opentsdb' as const, config })),
    ...c.graphite.map((config) => ({ kind: 'graphite' as const, config })),
  ];
}

function listenerKey(s: ListenerConfig): string {
  return `${s.kind}:${s.config.name}`;
}

/** The outputs that are backends with queues (a UDP listener's host:port forwards belong to its source). */
function httpOutputs(s: ListenerConfig): HttpOutputConfig[] {
  return (s.config.output as readonly { kind: string }[]).flatMap((o) => (o.kind === 'http' ? [o as HttpOutputConfig] : []));
}

/** A listener's own settings, outputs aside (a UDP listener's forwards are its source's, so they count). */
function sourceSettings(s: ListenerConfig): string {
  const { output, ...rest } = s.config as { output: readonly { kind: string }[] };
  return JSON.stringify({ ...rest, forwards: output.filter((o) => o.kind !== 'http') });
}
