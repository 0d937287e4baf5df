/**
 * Scenario (a2): the durable spool. First the sink scenario twice on the same cases, with memory queues and with
 * `spool-dir` (a temp dir on the same disk) + `fsync = "interval"`, so the two can be compared run for run.
 * Then the replay rate: a spooled relay whose second backend points at a closed port takes load for a while (the
 * backlog builds up on disk), the load stops, an nginx sink starts on that port, and the rate at which the backlog
 * reaches it is measured until the backend has delivered every point the relay accepted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startBenchRelay } from './bench-relay.js';
import type { LoadEngine } from './loadgen.js';
import { runLoad } from './loadgen.js';
import { startNginxSink, type NginxSink } from './nginx.js';
import { cpuSeconds, PeakSampler, rssMiB } from './proc.js';
import { runSinkScenario, type Case, type SinkScenarioResult } from './scenario-sinks.js';
import { M, scrape, total, waitDrained } from './scrape.js';

export interface ReplayResult {
  lines: number;
  connections: number;
  /** Seconds of load while the second backend was down. */
  outageS: number;
  /** Points the relay accepted during the outage (all of them were owed to the down backend). */
  accepted: number;
  /** Client-side points/s during the outage. */
  pointsPerSecIn: number;
  /** The down backend's backlog when its sink came up, in line-protocol bytes (its queue gauge). */
  backlogBytes: number;
  /** Points delivered to the sink after it came up. */
  replayed: number;
  /** Seconds from the sink being up to its first delivery (retry backoff). */
  firstDeliveryS: number;
  /** Seconds from the sink being up until every accepted point was delivered to it. */
  drainS: number;
  /** replayed ÷ (drainS − firstDeliveryS): the replay rate itself, without the wait for the next retry. */
  pointsPerSec: number;
  /** Body bytes the sink read ÷ the same time. */
  mbPerSec: number;
  relayCores: number;
  relayRssPeakMiB: number;
  problems: string[];
}

export interface SpoolScenarioResult {
  memory?: SinkScenarioResult;
  spool?: SinkScenarioResult;
  replay?: ReplayResult;
  failures: string[];
  head: string;
}

export interface SpoolScenarioOptions {
  cases: readonly Case[];
  runs: number;
  attempts: number;
  seconds: number;
  warmupS: number;
  engine: LoadEngine;
  /** Load seconds while the backend is down. */
  outageS: number;
  /** Where the spool directories go (the same disk as everything else). */
  workDir: string;
  log: (msg: string) => void;
}

const spoolHead = (dir: string): string => `spool-dir = ${JSON.stringify(dir)}\nfsync = "interval"\nspool-max-mb = 4096`;

async function replay(o: SpoolScenarioOptions, dir: string): Promise<ReplayResult> {
  const c = o.cases[0] ?? { lines: 5000, connections: 16 };
  const sinks: NginxSink[] = [];
  let bench: Awaited<ReturnType<typeof startBenchRelay>> | undefined;
  const problems: string[] = [];
  try {
    sinks.push(await startNginxSink());
    const downPort = await freePort();
    // A short backoff cap, so the replay starts within ~0.25 s of the sink coming up rather than up to 10 s.
    const retry = { 'max-delay-interval': '250ms' };
    bench = await startBenchRelay(
      [
        { name: 'sink-a', location: `${(sinks[0] as NginxSink).url}/write`, ...retry },
        { name: 'sink-b', location: `http://127.0.0.1:${downPort}/write`, ...retry },
      ],
      undefined,
      { head: spoolHead(dir) },
    );
    const { relay } = bench;
    const m0 = await scrape(relay.url);
    o.log(`spool replay: sink-b down, ${c.lines} lines × ${c.connections} conns for ${o.outageS} s`);
    const load = await runLoad({ url: `${relay.url}/write?db=bench`, lines: c.lines, connections: c.connections, durationS: o.outageS, engine: o.engine });
    // Wait for sink-a to catch up, so the replay has the relay to itself.
    for (let t = 0; ; t++) {
      const s = await scrape(relay.url);
      if (total(s, M.queueBytes, 'backend="sink-a"') === 0) break;
      if (t > 600) throw new Error('sink-a did not drain within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const m1 = await scrape(relay.url);
    const accepted = total(m1, M.received) - total(m0, M.received);
    const backlogBytes = total(m1, M.queueBytes, 'backend="sink-b"');
    const deliveredB0 = total(m1, M.delivered, 'backend="sink-b"');
    o.log(`spool replay: ${accepted} points accepted, sink-b backlog ${(backlogBytes / 1e6).toFixed(1)} MB; starting sink-b`);

    const rss = new PeakSampler(() => rssMiB(relay.pid), 100);
    const sinkB = await startNginxSink(downPort);
    sinks.push(sinkB);
    sinkB.takeStats();
    const t0 = performance.now();
    const cpu0 = cpuSeconds(relay.pid);
    rss.start();
    let firstDeliveryS = NaN;
    let delivered = 0;
    for (;;) {
      const s = await scrape(relay.url);
      delivered = total(s, M.delivered, 'backend="sink-b"') - deliveredB0;
      const now = (performance.now() - t0) / 1000;
      if (delivered > 0 && Number.isNaN(firstDeliveryS)) firstDeliveryS = now;
      if (delivered + deliveredB0 - total(m0, M.delivered, 'backend="sink-b"') >= accepted && total(s, M.queueBytes, 'backend="sink-b"') === 0) break;
      if (now > 120) throw new Error(`sink-b backlog not replayed within 120 s (${delivered} of ${accepted} points)`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainS = (performance.now() - t0) / 1000;
    const cpuS = cpuSeconds(relay.pid) - cpu0;
    const peak = rss.stop();
    await new Promise((r) => setTimeout(r, 300)); // nginx logs after answering
    const bytes = sinkB.takeStats().bodyBytes;
    const m2 = await scrape(relay.url);
    const droppedB = total(m2, M.dropped, 'backend="sink-b"') - total(m0, M.dropped, 'backend="sink-b"');
    if (droppedB > 0) problems.push(`sink-b dropped ${droppedB} points`);
    const replayS = drainS - (Number.isNaN(firstDeliveryS) ? 0 : firstDeliveryS);
    return {
      lines: c.lines,
      connections: c.connections,
      outageS: load.durationS,
      accepted,
      pointsPerSecIn: (load.ok * load.lines) / load.durationS,
      backlogBytes,
      replayed: delivered,
      firstDeliveryS,
      drainS,
      pointsPerSec: delivered / replayS,
      mbPerSec: bytes / replayS / 1e6,
      relayCores: cpuS / drainS,
      relayRssPeakMiB: peak,
      problems,
    };
  } finally {
    if (bench) {
      await waitDrained(bench.relay.url, 5).catch(() => undefined);
      await bench.relay.stop();
      await bench.relay.destroy();
    }
    for (const s of sinks) await s.stop();
  }
}

export async function runSpoolScenario(o: SpoolScenarioOptions): Promise<SpoolScenarioResult> {
  const r: SpoolScenarioResult = { failures: [], head: spoolHead('<temp dir>') };
  const base = { cases: o.cases, runs: o.runs, attempts: o.attempts, seconds: o.seconds, warmupS: o.warmupS, engine: o.engine, outputExtra: {} };
  const fresh = (): string => mkdtempSync(path.join(o.workDir, 'spool-'));
  try {
    r.memory = await runSinkScenario({ ...base, label: 'spool/memory', log: o.log });
  } catch (err) {
    r.failures.push(`memory mode: ${(err as Error).message.split('\n')[0]}`);
  }
  const dir = fresh();
  try {
    r.spool = await runSinkScenario({ ...base, relayHead: spoolHead(dir), label: 'spool/fsync=interval', log: o.log });
  } catch (err) {
    r.failures.push(`spool mode: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const dir2 = fresh();
  try {
    r.replay = await replay(o, dir2);
  } catch (err) {
    r.failures.push(`replay: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
  return r;
}
