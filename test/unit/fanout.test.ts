import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Fate } from '../../src/backends/backend.js';
import { makeBatch } from '../../src/batch.js';
import { decide, FanOut, parseConsistency, requiredDeliveries } from '../../src/fanout.js';
import { MemoryQueue } from '../../src/queue/memory-queue.js';
import { testBackend } from '../helpers/backend-fixture.js';

const delivered: Fate = { kind: 'delivered' };
const queued: Fate = { kind: 'queued', reason: 'retrying' };
const missed: Fate = { kind: 'missed', reason: 'queue-full' };
const closing: Fate = { kind: 'failed', reason: 'closing', detail: 'the relay is shutting down' };
const notFound: Fate = { kind: 'rejected', status: 404, body: '{"error":"database not found: \\"x\\""}', reason: 'database-not-found' };
const auth: Fate = { kind: 'rejected', status: 401, body: '{"error":"authorization failed"}', reason: 'auth' };
const names = ['a', 'b', 'c'];

describe('the client answer is a function of every backend outcome', () => {
  const rows: Array<[string, Fate[], 'any' | 'one' | 'quorum' | 'all', number, string?]> = [
    ['all delivered', [delivered, delivered], 'any', 204],
    ['one queued (backend down), any', [delivered, queued], 'any', 204],
    ['all queued (every backend down), any', [queued, queued], 'any', 204],
    ['all queued, one', [queued, queued], 'one', 503],
    ['one delivered, one', [queued, delivered], 'one', 204],
    ['quorum of 3 met', [delivered, delivered, queued], 'quorum', 204],
    ['quorum of 3 not met', [delivered, queued, queued], 'quorum', 503],
    ['all, one missing', [delivered, queued], 'all', 503],
    ['closing beats everything', [delivered, closing], 'any', 503],
    ['closing beats a rejection', [notFound, closing], 'any', 503],
    ['missed (drop-oldest) counts as queued', [delivered, missed], 'any', 204],
    ['missed is not a delivery', [delivered, missed], 'all', 503],
    ['rejection reaches the client', [delivered, notFound], 'any', 404, 'b'],
    ['first rejecting backend in config order', [auth, notFound], 'any', 401, 'a'],
  ];
  for (const [name, outcomes, level, status, backend] of rows) {
    test(name, () => {
      const r = decide(names.slice(0, outcomes.length), outcomes, level);
      assert.equal(r.status, status);
      if (r.kind === 'rejected') assert.equal(r.backend, backend);
      if (r.kind === 'unavailable') assert.ok(r.retryAfterSeconds > 0);
    });
  }
  test('a failure names the backend', () => {
    const r = decide(['a', 'b'], [delivered, closing], 'any');
    assert.equal(r.kind, 'unavailable');
    assert.match(r.kind === 'unavailable' ? r.error : '', /shutting down/);
  });
});

test('consistency levels', () => {
  assert.equal(parseConsistency('quorum'), 'quorum');
  assert.equal(parseConsistency('two'), undefined);
  assert.deepEqual([1, 2, 3, 4].map((n) => requiredDeliveries('quorum', n)), [1, 2, 2, 3]);
  assert.equal(requiredDeliveries('any', 3), 0);
  assert.equal(requiredDeliveries('one', 3), 1);
  assert.equal(requiredDeliveries('all', 3), 3);
});

describe('FanOut.write: all or nothing', () => {
  test('a batch one backend has no room for goes to no backend, and the client hears 503', async () => {
    const hang = { send: () => new Promise<never>(() => undefined), close: async () => {}, destroy: async () => {} };
    const make = (name: string, capacity: number) => testBackend(new MemoryQueue(capacity), hang, { name });
    const roomy = make('a', 1 << 20);
    const tight = make('b', 30);
    const fanout = new FanOut([roomy, tight], 50);
    const target = { db: 'db', rp: '', precision: 'n' as const, credentials: {} };
    const first = await fanout.write(makeBatch(target, Buffer.from('m v=1 1\n'), 1), 'any');
    assert.equal(first.status, 204, 'both queued it (the writer hangs: queued at the answer deadline)');
    const big = makeBatch(target, Buffer.from('m,host=a-long-host-name v=2 2\n'), 1);
    const r = await fanout.write(big, 'any');
    assert.equal(r.status, 503);
    assert.match(r.kind === 'unavailable' ? r.error : '', /queue full for b/);
    assert.equal(roomy.health().queueBatches, 1, 'the roomy backend did not take the refused batch');
    assert.equal(tight.acceptingWrites, false, 'and b reports itself full to /health');
    await Promise.all([roomy.destroy(), tight.destroy()]);
  });
});

describe('FanOut.write: the answer deadline', () => {
  test('a hung backend does not hold the client past answer-timeout; a prompt 4xx still reaches it', async () => {
    const hang = { send: () => new Promise<never>(() => undefined), close: async () => {}, destroy: async () => {} };
    let status = 204;
    const prompt = { send: async () => ({ status, body: status === 204 ? '' : '{"error":"database not found"}', retryAfter: undefined }), close: async () => {}, destroy: async () => {} };
    const hung = testBackend(new MemoryQueue(1 << 20), hang, { name: 'hung' });
    const fine = testBackend(new MemoryQueue(1 << 20), prompt, { name: 'fine' });
    const fanout = new FanOut([fine, hung], 100);
    const target = { db: 'db', rp: '', precision: 'n' as const, credentials: {} };
    // The hung writer never settles: without the deadline this write would never be answered.
    const r = await fanout.write(makeBatch(target, Buffer.from('m v=1 1\n'), 1), 'any');
    assert.equal(r.status, 204, 'queued for the hung backend, delivered to the other');
    assert.equal((await fanout.write(makeBatch(target, Buffer.from('m v=2 2\n'), 1), 'all')).status, 503, 'all: the hung one did not deliver');
    status = 404;
    const rejected = await fanout.write(makeBatch(target, Buffer.from('m v=3 3\n'), 1), 'any');
    assert.equal(rejected.status, 404);
    await Promise.all([hung.destroy(), fine.destroy()]);
  });
});
