import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeBatch, type Batch } from '../../../src/batch.js';
import { BodyPool, POOLED_MIN_BYTES } from '../../../src/body-pool.js';
import { MemoryQueue } from '../../../src/queue/memory-queue.js';
import { queueContract } from '../../contract/queue-contract.js';

queueContract('MemoryQueue', (capacity) => {
  const q = new MemoryQueue(capacity);
  return Object.assign(q, { add: async (b: Batch) => q.offer(b) });
});

// A pooled body (body-pool.ts) is held while its batch is in the queue: offer holds, ack and eviction let go, and
// abandon (shutdown, requests maybe still writing) does not.
const TARGET = { db: 'db', rp: '', precision: 'n', credentials: {} } as const;

describe('MemoryQueue and pooled bodies', () => {
  const pooled = (pool: BodyPool): { batch: Batch; counts: { holds: number; drops: number } } => {
    const body = pool.take(POOLED_MIN_BYTES)!;
    const owners = pool.owners(body)!;
    const counts = { holds: 0, drops: 0 };
    const spy = { hold: () => (counts.holds++, owners.hold()), drop: () => (counts.drops++, owners.drop()) };
    return { batch: makeBatch(TARGET, body, 1, Date.now(), spy), counts };
  };

  test('offer holds the body; ack lets go', () => {
    const pool = new BodyPool(32 * 1024 * 1024);
    const q = new MemoryQueue(1 << 30);
    const { batch, counts } = pooled(pool);
    assert.equal(q.offer(batch), 'queued');
    assert.deepEqual(counts, { holds: 1, drops: 0 });
    const lease = q.lease(1 << 30)!;
    q.release(lease);
    assert.deepEqual(counts, { holds: 1, drops: 0 }, 'a retry keeps it');
    q.ack(q.lease(1 << 30)!);
    assert.deepEqual(counts, { holds: 1, drops: 1 });
  });

  test('a full queue does not hold; eviction lets go; abandon does not', () => {
    const pool = new BodyPool(32 * 1024 * 1024);
    const q = new MemoryQueue(POOLED_MIN_BYTES * 2);
    const a = pooled(pool);
    const b = pooled(pool);
    const c = pooled(pool);
    q.offer(a.batch);
    q.offer(b.batch);
    assert.equal(q.offer(c.batch), 'full');
    assert.deepEqual(c.counts, { holds: 0, drops: 0 });
    assert.deepEqual(q.evictOldest(1), [a.batch]);
    assert.deepEqual(a.counts, { holds: 1, drops: 1 });
    q.lease(1 << 30);
    q.abandon();
    assert.deepEqual(b.counts, { holds: 1, drops: 0 });
  });
});
