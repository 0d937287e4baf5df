/**
 * Spool micro-benchmark: append throughput (group commit, two backends acking at once, as on the healthy path),
 * recovery scan at open, and catch-up replay of a backlog from disk.
 *
 *   node dist/test/bench/spool.bench.js [--mb 512] [--batch-kb 256] [--writers 64] [--fsync interval] [--interval-ms 100] [--dir /tmp]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBatch, type Batch } from '../../src/batch.js';
import type { FsyncPolicy } from '../../src/config/enums.js';
import { Spool } from '../../src/queue/spool/spool.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '512' },
    'batch-kb': { type: 'string', default: '256' },
    writers: { type: 'string', default: '64' },
    fsync: { type: 'string', default: 'interval' },
    'interval-ms': { type: 'string', default: '100' },
    dir: { type: 'string', default: process.env.BENCH_TMP ?? tmpdir() },
  },
});
const totalBytes = Number(values.mb) * 2 ** 20;
const batchBytes = Number(values['batch-kb']) * 1024;
const writers = Number(values.writers);
const backends = ['a', 'b'];

const line = 'cpu,host=server01,region=us-west usage_idle=98.2,usage_user=1.1,usage_system=0.7 1700000000000000000\n';
const linesPerBatch = Math.max(1, Math.floor(batchBytes / line.length));
const body = Buffer.from(line.repeat(linesPerBatch));
const target = { db: 'telegraf', rp: '', precision: 'n' as const, credentials: { u: 'writer', p: 'secret' } };
const batches = Math.ceil(totalBytes / body.length);
const mbps = (bytes: number, ms: number) => ((bytes / 2 ** 20) / (ms / 1000)).toFixed(0);

async function open(dir: string, memoryMb = 64): Promise<Spool> {
  return Spool.open({
    dir,
    backends,
    maxBytesPerBackend: 2 * totalBytes,
    memoryBytesPerBackend: memoryMb * 2 ** 20,
    fsync: values.fsync as FsyncPolicy,
    fsyncIntervalMs: Number(values['interval-ms']),
    whenFull: 'reject',
  });
}

async function appendPhase(spool: Spool, ack: boolean): Promise<number> {
  let next = 0;
  const views = backends.map((n) => spool.queue(n));
  const start = performance.now();
  const writer = async () => {
    while (next < batches) {
      next++;
      const b: Batch = makeBatch(target, body, linesPerBatch);
      await spool.append(b);
      for (const v of views) {
        if (!ack) continue;
        const l = v.lease(1 << 30);
        if (l) v.ack(l);
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return performance.now() - start;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(values.dir, 'spool-bench-'));
  try {
    console.log(`spool bench: ${batches} batches of ${(body.length / 1024).toFixed(0)} KiB (${linesPerBatch} points), ${writers} writers, fsync=${values.fsync}${values.fsync === 'interval' ? ` ${values['interval-ms']}ms` : ''}, ${backends.length} backends, dir ${dir}`);
    let spool = await open(join(dir, 'healthy'));
    let ms = await appendPhase(spool, true);
    console.log(`append, backends acking (healthy path): ${mbps(batches * body.length, ms)} MB/s, ${((batches * linesPerBatch) / (ms / 1000) / 1e6).toFixed(2)} M points/s, ${spool.io.syncs} fdatasyncs, ${spool.io.writes} writes`);
    await spool.close();

    spool = await open(join(dir, 'backlog'));
    ms = await appendPhase(spool, false);
    console.log(`append, backends down (backlog to disk): ${mbps(batches * body.length, ms)} MB/s`);
    await spool.close();

    let start = performance.now();
    spool = await open(join(dir, 'backlog'));
    ms = performance.now() - start;
    console.log(`open with a ${(totalBytes / 2 ** 20).toFixed(0)} MiB backlog (checksum every record): ${mbps(batches * body.length, ms)} MB/s (${ms.toFixed(0)} ms)`);

    start = performance.now();
    for (const name of backends) {
      const q = spool.queue(name);
      let wake: (() => void) | undefined;
      q.onLeasable(() => wake?.());
      let done = 0;
      while (done < batches) {
        const l = q.lease(8 << 20);
        if (!l) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        done += l.batches.length;
        q.ack(l);
      }
    }
    ms = performance.now() - start;
    console.log(`replay from disk, both backends (64 MiB in memory each): ${mbps(backends.length * batches * body.length, ms)} MB/s, ${(spool.io.bytesRead / 2 ** 20).toFixed(0)} MiB read`);
    await spool.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
