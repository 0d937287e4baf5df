// The body pool: which bodies it serves, when memory comes back (never within the step that let it go), the idle
// bound, check mode, and misuse (more drops than holds) caught as a bug.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { BodyPool, POOLED_MAX_BYTES, POOLED_MIN_BYTES, sizeClass } from '../../src/body-pool.js';

const MB = 1024 * 1024;

describe('BodyPool', () => {
  test('serves bodies from 64 KB to 8 MB, each a buffer of exactly the asked length; smaller, larger or pool size 0: none', () => {
    const pool = new BodyPool(32 * MB);
    assert.equal(pool.take(POOLED_MIN_BYTES - 1), undefined);
    assert.equal(pool.take(POOLED_MAX_BYTES + 1), undefined);
    const b = pool.take(100_000)!;
    assert.equal(b.length, 100_000);
    assert.equal(b.buffer.byteLength, 112 * 1024, 'a size class: quarter steps between powers of two');
    assert.equal(new BodyPool(0).take(100_000), undefined);
  });

  test('check mode pools every body, however small, so that every write path of the tests runs on pooled memory', () => {
    const pool = new BodyPool(32 * MB, true);
    assert.equal(pool.minBytes, 1);
    assert.equal(pool.take(10)?.length, 10);
    assert.equal(new BodyPool(32 * MB).minBytes, POOLED_MIN_BYTES);
    assert.equal(new BodyPool(0, true).minBytes, POOLED_MIN_BYTES, 'pooling off stays off');
  });

  test('size classes: quarter steps between powers of two, never less than asked, at most a quarter more', () => {
    assert.equal(sizeClass(64 * 1024), 64 * 1024);
    assert.equal(sizeClass(64 * 1024 + 1), 80 * 1024);
    assert.equal(sizeClass(1_100_000), 1280 * 1024);
    for (let bytes = POOLED_MIN_BYTES; bytes <= POOLED_MAX_BYTES; bytes = Math.ceil(bytes * 1.013)) {
      const size = sizeClass(bytes);
      assert.ok(size >= bytes && size <= bytes * 1.25, `${bytes} → ${size}`);
    }
  });

  test('only a body the pool lent has owners', () => {
    const pool = new BodyPool(32 * MB);
    assert.equal(pool.owners(Buffer.alloc(100_000)), undefined);
    assert.ok(pool.owners(pool.take(100_000)!));
  });

  test('memory returns when the last owner lets go, on the next turn of the event loop, and the next body reuses it', async () => {
    const pool = new BodyPool(32 * MB);
    const body = pool.take(100_000)!;
    const owners = pool.owners(body)!;
    owners.hold(); // a queue takes the batch
    owners.drop(); // the request is done
    await nextTurn();
    assert.equal(pool.idleByteCount, 0, 'a queue still holds it');
    owners.drop(); // the queue is done
    assert.equal(pool.idleByteCount, 0, 'not within the step that let it go: a reader later in that step sees the body');
    body.fill(7);
    await nextTurn();
    assert.equal(pool.idleByteCount, 112 * 1024);
    const next = pool.take(110_000)!;
    assert.equal(next.buffer, body.buffer, 'reused');
    assert.equal(pool.idleByteCount, 0);
  });

  test('tells whether each body it serves reuses idle memory or takes new memory', async () => {
    const served: boolean[] = [];
    const pool = new BodyPool(32 * MB, false, (reused) => served.push(reused));
    pool.owners(pool.take(100_000)!)!.drop();
    await nextTurn();
    pool.take(100_000);
    pool.take(100_000);
    assert.equal(pool.take(10), undefined);
    assert.deepEqual(served, [false, true, false]);
  });

  test('what comes back beyond max idle bytes is left to the GC', async () => {
    const pool = new BodyPool(200 * 1024);
    const bodies = [pool.take(100_000)!, pool.take(100_000)!];
    for (const b of bodies) pool.owners(b)!.drop();
    await nextTurn();
    assert.equal(pool.idleByteCount, 112 * 1024, 'one 112 KB class fits under 200 KB, the second does not');
  });

  test('a body refused while it was read goes back as it is (giveBack), once however often it is given', async () => {
    const pool = new BodyPool(32 * MB);
    const b = pool.take(100_000)!;
    pool.giveBack(b);
    pool.giveBack(b);
    await nextTurn();
    assert.equal(pool.idleByteCount, 112 * 1024);
  });

  test('check mode overwrites returned memory with NUL bytes and reuses it only after many other returns', async () => {
    const pool = new BodyPool(64 * MB, true);
    const body = pool.take(100_000)!;
    body.fill(0x61);
    pool.owners(body)!.drop();
    await nextTurn();
    assert.ok(body.every((byte) => byte === 0), 'a read after the last owner let go sees NUL bytes, which no backend takes');
    const next = pool.take(100_000)!;
    assert.notEqual(next.buffer, body.buffer, 'quarantined, not reused at once');
  });

  test('a drop more than the holds, or a hold after the last drop, is a bug and says so', async () => {
    const pool = new BodyPool(32 * MB);
    const owners = pool.owners(pool.take(100_000)!)!;
    owners.drop();
    assert.throws(() => owners.drop(), /BUG: a pooled body was let go more often/);
    assert.throws(() => owners.hold(), /BUG: a pooled body was held after/);
  });
});
