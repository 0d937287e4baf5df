/**
 * Anti-entropy: the relay keeps its replicas identical by itself, with the same verify and repair the CLI runs.
 * Every `anti-entropy-interval` (the first run after a random part of it, so that relays sharing the databases do not
 * run at once), it:
 * 1. repairs its own ledger's windows: each unrepaired window of a backend that is up and caught up is copied to it
 *    from another backend that is up and holds no unrepaired window itself, and marked repaired once the copy
 *    verified (counts equal); the quarantine of that replica then ends;
 * 2. compares the last `anti-entropy-lookback` (up to a minute ago, so that writes still on their way do not count)
 *    across every pair of backends that are up and caught up, and copies what differs both ways (each replica
 *    becomes the union). Writes are idempotent, so a copy that races new writes is harmless.
 * Only InfluxDB 1.x outputs take part (v2 backends have no InfluxQL /query). Its load on the databases is bounded:
 * one comparison query at a time per replica pair, windows copied one at a time.
 */
import PQueue from 'p-queue';
import type { Logger } from '../telemetry/logger.js';
import type { RelayMetrics } from '../telemetry/metrics.js';
import { InfluxQLClient } from './influxql-client.js';
import type { MissedWindowLedger } from './ledger.js';
import { ensureSchema, planRepair, repairWindows, type CopyWindow } from './repair.js';
import { ledgerCopyWindows } from './replicas.js';
import { DEFAULT_WINDOW_NS, type Replica } from './verify.js';

export interface AntiEntropyReplica {
  /** Output names that reach this database (the ledger keys its windows by output name). */
  readonly names: readonly string[];
  readonly url: string;
  /** Up, with no backlog in any of the relay's queues for it: safe to copy to, and to copy from. */
  readonly ready: () => boolean;
}

export interface AntiEntropyOptions {
  readonly intervalMs: number;
  readonly lookbackMs: number;
  readonly replicas: () => readonly AntiEntropyReplica[];
  readonly ledger?: MissedWindowLedger;
  readonly logger: Logger;
  readonly metrics: RelayMetrics;
}

export interface AntiEntropyRun {
  readonly windowsRepaired: number;
  readonly differences: number;
  readonly pointsCopied: number;
}

/** Recent writes may still be in queues: the comparison stops this far before now. */
const SETTLE_MS = 60_000;
const MS = 1_000_000n;

export class AntiEntropy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<AntiEntropyRun> | undefined;
  private closed = false;
  private readonly clients = new Map<string, InfluxQLClient>();
  private readonly log: Logger;

  constructor(private readonly o: AntiEntropyOptions) {
    this.log = o.logger.child({ component: 'anti-entropy' });
  }

  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.schedule(Math.floor(Math.random() * this.o.intervalMs));
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.run()
        .catch(() => undefined)
        .finally(() => this.schedule(this.o.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** One pass (a run already going is joined, not doubled). */
  run(): Promise<AntiEntropyRun> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<AntiEntropyRun> {
    const m = this.o.metrics;
    try {
      const ready = this.o.replicas().filter((r) => r.ready());
      const repaired = await this.repairLedger(ready);
      const recent = await this.compareRecent(ready);
      const result = { windowsRepaired: repaired.windows, differences: recent.differences, pointsCopied: repaired.points + recent.points };
      m.antiEntropyRuns.labels('ok').inc();
      m.antiEntropyPointsCopied.inc(result.pointsCopied);
      m.antiEntropyDifferences.inc(result.differences);
      if (result.windowsRepaired > 0 || result.differences > 0) this.log.info({ ...result }, 'anti-entropy: replicas repaired');
      return result;
    } catch (err) {
      m.antiEntropyRuns.labels('error').inc();
      this.log.warn({ err }, 'anti-entropy pass failed; the next one retries');
      throw err;
    }
  }

  /** Ledger windows of ready replicas, from a ready replica that misses nothing itself. */
  private async repairLedger(ready: readonly AntiEntropyReplica[]): Promise<{ windows: number; points: number }> {
    const ledger = this.o.ledger;
    if (!ledger) return { windows: 0, points: 0 };
    let windows = 0;
    let points = 0;
    const whole = ready.filter((r) => r.names.every((n) => !ledger.unrepaired(n)));
    for (const target of ready) {
      for (const name of target.names) {
        const open = ledger.list(name).filter((w) => w.repairedAt === undefined);
        const source = whole.find((r) => r !== target);
        if (open.length === 0 || !source) continue;
        const src = this.replica(source);
        const dst = this.replica(target);
        for (const w of open) {
          const { dbs, windows: copy } = await ledgerCopyWindows(src.client, w, DEFAULT_WINDOW_NS);
          await ensureSchema(src.client, dst.client, dbs);
          const result = await repairWindows({ source: src, target: dst, windows: copy });
          points += result.points;
          if (result.failed.length > 0) {
            this.log.warn({ backend: name, window: w.id, failed: result.failed.length }, 'anti-entropy: a ledger window did not verify after copying; kept');
            continue;
          }
          await ledger.markRepaired(name, [w.id]);
          windows++;
          this.log.info({ backend: name, window: w.id, from: source.names[0], points: result.points }, 'anti-entropy: missed window repaired');
        }
      }
    }
    return { windows, points };
  }

  /** Recent windows compared pairwise and copied both ways. */
  private async compareRecent(ready: readonly AntiEntropyReplica[]): Promise<{ differences: number; points: number }> {
    if (this.o.lookbackMs <= 0 || ready.length < 2) return { differences: 0, points: 0 };
    const endNs = BigInt(Date.now() - SETTLE_MS) * MS;
    const startNs = endNs - BigInt(this.o.lookbackMs) * MS;
    const queue = new PQueue({ concurrency: 1 });
    let differences = 0;
    let points = 0;
    for (let i = 0; i < ready.length; i++) {
      for (let j = 0; j < ready.length; j++) {
        if (i === j) continue;
        const source = this.replica(ready[i]!);
        const target = this.replica(ready[j]!);
        const plan = await planRepair({ source, target, startNs, endNs, queue });
        if (plan.windows.length === 0) continue;
        differences += plan.windows.length;
        await ensureSchema(source.client, target.client, plan.databases);
        const result = await repairWindows({ source, target, windows: plan.windows as CopyWindow[] });
        points += result.points;
      }
    }
    return { differences, points };
  }

  private replica(r: AntiEntropyReplica): Replica {
    let client = this.clients.get(r.url);
    if (!client) this.clients.set(r.url, (client = new InfluxQLClient(r.url, { connections: 2 })));
    return { name: r.names[0] ?? client.origin, client };
  }

  /** Stops; a pass still running is given a moment, then its queries are cut (the next start repeats it). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.running?.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
  }
}
