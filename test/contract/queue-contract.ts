/**
 * The queue contract, as one suite that every queue implementation runs: the memory queue and a spool view. A batch
 * enters the way it really does: offered to the memory queue; appended to the spool, and awaited.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { makeBatch, type WriteTarget } from '../../src/batch.js';
import type { Batch } from '../../src/batch.js';
import type { BatchQueue, OfferResult } from '../../src/queue/queue.js';

/** A queue under test and how a batch enters it. */
export interface ContractQueue extends BatchQueue {
  add(batch: Batch): Promise<OfferResult>;
}

/** A full garbage collection on demand (the test process was not started with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

const target = (db: string): WriteTarget => ({ db, rp: '', precision: 'n', credentials: {} });
const batch = (db: string, text: string) => makeBatch(target(db), Buffer.from(text), text.split('\n').length - 1);

export function queueContract(name: string, make: (capacityBytes: number) => ContractQueue | Promise<ContractQueue>): void {
  describe(`queue contract: ${name}`, () => {
    test('FIFO lease and ack', async () => {
      const q = await make(1 << 20);
      const a = batch('db', 'a v=1 1\n');
      const b = batch('db', 'b v=1 1\n');
      assert.equal(await q.add(a), 'queued');
      assert.equal(await q.add(b), 'queued');
      assert.equal(q.length, 2);
      assert.equal(q.bytes, a.body.length + b.body.length);
      const l = q.lease(1 << 20)!;
      assert.deepEqual(l.batches, [a, b]);
      assert.equal(l.points, 2);
      assert.equal(q.pending, 0);
      assert.equal(q.lease(1 << 20), undefined);
      q.ack(l);
      assert.equal(q.length, 0);
      assert.equal(q.bytes, 0);
      assert.equal(q.oldestReceivedAt(), undefined);
    });

    test('a lease merges only same-key batches and stays within maxBytes (first always taken)', async () => {
      const q = await make(1 << 20);
      const a1 = batch('a', 'm v=1 1\n');
      const a2 = batch('a', 'm v=2 2\n');
      const b1 = batch('b', 'm v=3 3\n');
      const a3 = batch('a', 'm v=4 4\n');
      for (const x of [a1, a2, b1, a3]) await q.add(x);
      const l1 = q.lease(a1.body.length)!;
      assert.deepEqual(l1.batches, [a1]);
      const l2 = q.lease(1 << 20)!;
      assert.deepEqual(l2.batches, [a2]);
      const l3 = q.lease(1)!;
      assert.deepEqual(l3.batches, [b1], 'the first batch is leased even when larger than maxBytes');
      q.ack(l2);
      q.ack(l1);
      q.ack(l3);
      assert.deepEqual(q.lease(1 << 20)!.batches, [a3]);
    });

    test('release puts batches back in their place: nothing overtakes', async () => {
      const q = await make(1 << 20);
      const a = batch('db', 'a v=1 1\n');
      const b = batch('db', 'b v=1 1\n');
      const c = batch('db', 'c v=1 1\n');
      await q.add(a);
      const l1 = q.lease(1 << 20)!;
      await q.add(b);
      const l2 = q.lease(1 << 20)!;
      await q.add(c);
      q.release(l1);
      assert.equal(q.pending, 2);
      const again = q.lease(1 << 20)!;
      assert.deepEqual(again.batches, [a], 'a comes back first, and does not merge past the leased b');
      q.ack(l2);
      q.ack(again);
      assert.deepEqual(q.lease(1 << 20)!.batches, [c]);
    });

    test('bounded in bytes: a batch that does not fit is refused whole', async () => {
      const a = batch('db', 'a v=1 1\n');
      const q = await make(a.body.length * 2);
      assert.equal(await q.add(a), 'queued');
      assert.equal(await q.add(a), 'queued');
      assert.equal(await q.add(batch('db', 'b v=1 1\n')), 'full');
      assert.equal(q.length, 2);
      const l = q.lease(1)!;
      q.ack(l);
      assert.equal(await q.add(a), 'queued', 'room again after an ack');
    });

    test('oldestReceivedAt follows the head', async () => {
      const q = await make(1 << 20);
      const t = target('db');
      const a = makeBatch(t, Buffer.from('a v=1 1\n'), 1, 1000);
      const b = makeBatch(t, Buffer.from('b v=1 1\n'), 1, 2000);
      await q.add(a);
      await q.add(b);
      assert.equal(q.oldestReceivedAt(), 1000);
      const l = q.lease(a.body.length)!;
      assert.equal(q.oldestReceivedAt(), 1000, 'leased still counts: not yet delivered');
      q.ack(l);
      assert.equal(q.oldestReceivedAt(), 2000);
    });

    test('many batches with out-of-order acks', async () => {
      const q = await make(1 << 24);
      const all = Array.from({ length: 5000 }, (_, i) => batch('db', `m v=${i} ${i}\n`));
      await Promise.all(all.map((x) => q.add(x)));
      const leases = [];
      for (let l = q.lease(64); l; l = q.lease(64)) leases.push(l);
      assert.equal(leases.reduce((n, l) => n + l.batches.length, 0), all.length);
      for (let i = leases.length - 1; i >= 0; i -= 2) q.ack(leases[i]!);
      for (let i = leases.length - 2; i >= 0; i -= 2) q.ack(leases[i]!);
      assert.equal(q.length, 0);
      assert.equal(q.bytes, 0);
    });

    test('a batch that has left the queue is not held by it, while the queue stays busy', async () => {
      // The memory a queue keeps is what it holds (its bytes): a delivered body must be free for the collector even
      // when the queue never empties, or a busy relay keeps every body it has sent since it was last idle.
      const q = await make(1 << 24);
      const gone: Array<WeakRef<Batch>> = [];
      await q.add(batch('db', 'first v=1 1\n'));
      const send = async (i: number): Promise<void> => {
        const b = batch('db', `m v=${i} ${i}\n`);
        gone.push(new WeakRef(b));
        await q.add(b);
      };
      // Its own function: a lease held in the test's (async) frame would keep its batch alive.
      const deliverOne = (): void => q.ack(q.lease(1)!);
      for (let i = 0; i < 100; i++) {
        await send(i);
        deliverOne();
      }
      assert.equal(q.length, 1, 'one batch still queued: the queue never emptied');
      await new Promise((r) => setImmediate(r));
      collectGarbage();
      const held = gone.filter((w) => w.deref() !== undefined).length;
      assert.equal(held, 1, 'only the batch still queued is alive');
    });
  });
}
