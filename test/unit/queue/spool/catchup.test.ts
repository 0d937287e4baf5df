/**
 * A backlog larger than the memory budget: the rest stays on disk and is read back in order; once caught up, the
 * view serves the appended Batch objects from memory again (the healthy path never reads disk).
 */
import assert from 'node:assert/strict';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SpoolQueue } from '../../../../src/queue/spool/spool.js';
import { batch, captureLogs, drain, openSpool, tempDir, write } from './spool-helpers.js';

/** Leases and acks until the queue is empty (records may be lost on the way), polling while the loader reads. */
async function drainAll(q: SpoolQueue): Promise<string[]> {
  const got: string[] = [];
  for (let idle = 0; q.length > 0 && idle < 500; ) {
    const l = q.lease(0);
    if (!l) {
      idle++;
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    got.push(l.batches[0]!.body.toString());
    q.ack(l);
  }
  return got;
}

const both = ['a', 'b'];
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m v=${from + i} ${from + i}\n`);
const small = { memoryBytesPerBackend: 300, segmentBytes: 1024 };

describe('spool catch-up from disk', () => {
  test('a long backlog is read back in order with bounded memory, then memory serves again', async () => {
    const spool = await openSpool(await tempDir(), small);
    for (const l of lines(0, 200)) await write(spool, both, batch(l));
    const a = spool.queue('a');
    assert.equal(a.catchingUp, true);
    assert.equal(a.length, 200);
    assert.equal(a.pending, 200);
    assert.deepEqual(await drain(a, 200), lines(0, 200));
    assert.equal(a.catchingUp, false);
    assert.equal(a.length, 0);
    assert.ok(spool.io.bytesRead > 0, 'the backlog came from disk');

    const fresh = batch('fresh v=1 1\n');
    await write(spool, both, fresh);
    const l = a.lease(1 << 20)!;
    assert.equal(l.batches[0], fresh, 'the very object appended: not read back');
    a.ack(l);
    assert.deepEqual(await drain(spool.queue('b'), 201), [...lines(0, 200), 'fresh v=1 1\n'], 'b kept its own backlog');
  });

  test('writes that arrive while catching up queue behind the backlog', async () => {
    const spool = await openSpool(await tempDir(), small);
    const a = spool.queue('a');
    for (const l of lines(0, 60)) await write(spool, both, batch(l));
    const first = await drain(a, 10);
    for (const l of lines(60, 120)) await write(spool, both, batch(l));
    const rest = await drain(a, 110);
    assert.deepEqual([...first, ...rest], lines(0, 120));
  });

  test('after a restart, a backlog over the memory budget is replayed lazily', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, small);
    for (const l of lines(0, 150)) await write(spool, both, batch(l));
    await spool.close();
    spool = await openSpool(dir, small);
    const a = spool.queue('a');
    assert.equal(a.catchingUp, true);
    assert.equal(spool.stats('a').replayedRecords, 150);
    assert.ok(a.pending === 150 && a.lease(1 << 20) !== undefined);
    await spool.close();
    spool = await openSpool(dir, small);
    assert.deepEqual(await drain(spool.queue('a'), 150), lines(0, 150));
    assert.deepEqual(await drain(spool.queue('b'), 150), lines(0, 150));
  });

  test('a segment deleted under a catching-up backend is reported as lost; the rest still arrives, in order', async () => {
    const dir = await tempDir();
    const lost: Array<[string, number, string]> = [];
    const logs = captureLogs();
    const spool = await openSpool(dir, { ...small, logger: logs.logger, onDrop: (n, p, r) => lost.push([n, p, r]) });
    for (const l of lines(0, 200)) await write(spool, both, batch(l));
    const names = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
    await unlink(join(dir, names[Math.floor(names.length / 2)]!));
    const got = await drainAll(spool.queue('a'));
    const lostPoints = lost.filter(([n]) => n === 'a').reduce((sum, [, p]) => sum + p, 0);
    assert.ok(lostPoints > 0, 'the loss is counted');
    assert.deepEqual(lost.filter(([n]) => n === 'a').map(([, , r]) => r), ['spool-lost']);
    assert.equal(got.length + lostPoints, 200, 'every batch arrived or was counted as lost');
    const idx = got.map((s) => Number(/v=(\d+)/.exec(s)![1]));
    assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
    assert.equal(idx[idx.length - 1], 199);
    assert.ok(logs.has('spooled batches lost'));
  });
});
