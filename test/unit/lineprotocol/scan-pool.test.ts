/**
 * Scanning on a worker thread gives exactly what scanning inline gives: the same bytes, counts and errors, with
 * stamps taken at receipt.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ScanPool } from '../../../src/lineprotocol/scan-pool.js';
import { scanLines } from '../../../src/lineprotocol/scanner.js';
import { eventually } from '../../helpers/eventually.js';

let pool: ScanPool;
before(() => {
  pool = new ScanPool(2);
  pool.start();
});
after(() => pool.close());

/** A body over the offload threshold, in a buffer the relay owns whole (as Buffer.concat gives it). */
function owned(text: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  b.write(text);
  return b;
}

const line = (i: number) => `cpu,host=h${i % 7},region=eu usage_user=${i}.5,usage_idle=${i}i,ok=true ${1700000000000000000n + BigInt(i)}\n`;

test('a clean body comes back as the caller\'s own Buffer, untouched', async () => {
  const text = Array.from({ length: 2000 }, (_, i) => line(i)).join('');
  const input = owned(text);
  const r = await pool.scan(input, 'n');
  assert.equal(r.points, 2000);
  assert.equal(r.errorCount, 0);
  assert.equal(r.body, input);
  assert.equal(r.body.toString(), text);
});

test('stamping, CRLF and bad lines: the same result as inline', async () => {
  const lines = Array.from({ length: 1500 }, (_, i) => (i % 100 === 3 ? 'bad line here\r\n' : i % 2 ? line(i) : `nots,host=h${i} v=${i}i\r\n`));
  const text = lines.join('');
  const viaThread = await pool.scan(owned(text), 'ms');
  assert.ok(viaThread.stamped > 0);
  const stamp = /^nots,host=h0 v=0i (\d+)$/m.exec(viaThread.body.toString())![1]!;
  const inline = scanLines(Buffer.from(text), { precision: 'ms', stamp });
  assert.deepEqual(
    { body: viaThread.body.toString(), points: viaThread.points, stamped: viaThread.stamped, errors: viaThread.errors, errorCount: viaThread.errorCount },
    { body: inline.body.toString(), points: inline.points, stamped: inline.stamped, errors: inline.errors, errorCount: inline.errorCount },
  );
});

test('small bodies are scanned inline; a slice of a larger buffer goes to a thread, its buffer left intact', async () => {
  const small = await pool.scan(Buffer.from('m v=1 1\n'), 'n');
  assert.equal(small.points, 1);
  const text = Array.from({ length: 2000 }, (_, i) => line(i)).join('');
  const big = owned(text);
  const slice = big.subarray(0, big.length - line(1999).length);
  const r = await pool.scan(slice, 'n');
  assert.equal(r.points, 1999);
  assert.equal(r.body, slice);
  assert.equal(big.toString(), text, 'the parent buffer is untouched');
});

test('more concurrent bodies than staging slots, of growing and shrinking sizes: each gets its own answer', async () => {
  // Sizes cross the slots' size classes both ways (a slot is replaced by a larger one, and one over 4 MB is let go);
  // every third body has a bad line, so its output is a rewritten copy.
  const sizes = [600, 9000, 700, 45_000, 650, 3000, 600, 50_000, 800, 12_000, 620, 640, 52_000, 700];
  const bodies = sizes.map((n, k) => Array.from({ length: n }, (_, i) => (k % 3 === 0 && i === 5 ? 'bad line\n' : line(i + k))).join(''));
  const results = await Promise.all(bodies.map((t) => pool.scan(owned(t), 'n')));
  results.forEach((r, k) => {
    const inline = scanLines(Buffer.from(bodies[k]!), { precision: 'n' });
    assert.equal(r.points, inline.points, `body ${k}`);
    assert.equal(r.errorCount, inline.errorCount, `body ${k}`);
    assert.equal(r.body.toString(), inline.body.toString(), `body ${k}`);
  });
});

test('closing the pool fails a scan still on a thread instead of leaving it pending', async () => {
  const p = new ScanPool(1);
  p.start();
  const text = Array.from({ length: 20000 }, (_, i) => line(i)).join('');
  const pending = p.scan(owned(text), 'n');
  await p.close();
  await pending.then(
    (r) => assert.equal(r.points, 20000, 'finished before the close: fine too'),
    (err: Error) => assert.match(err.message, /closed/),
  );
});

test('threads start with the first large body, not with the pool, and exit once idle; the next body starts one again', async () => {
  const p = new ScanPool(2, undefined, 50);
  p.start();
  try {
    await p.scan(Buffer.from('m v=1 1\n'), 'n');
    assert.equal(p.running, 0, 'no thread for an idle pool or a small body');
    const text = Array.from({ length: 2000 }, (_, i) => line(i)).join('');
    assert.equal((await p.scan(owned(text), 'n')).points, 2000);
    assert.equal(p.running, 1, 'one thread for one large body');
    await eventually(() => p.running === 0);
    assert.equal((await p.scan(owned(text), 'n')).points, 2000, 'a retired thread is replaced on demand');
    assert.equal(p.running, 1);
  } finally {
    await p.close();
  }
});

test('no memory for a staging slot: the body is scanned inline, and the bodies behind it still get their answers', async () => {
  const p = new ScanPool(1);
  p.start();
  const real = globalThis.SharedArrayBuffer;
  globalThis.SharedArrayBuffer = class {
    constructor() {
      throw new RangeError('Array buffer allocation failed');
    }
  } as unknown as SharedArrayBufferConstructor;
  try {
    const bodies = [3000, 3100, 3200, 3300].map((n) => Array.from({ length: n }, (_, i) => line(i)).join(''));
    const results = await Promise.all(bodies.map((t) => p.scan(owned(t), 'n')));
    results.forEach((r, k) => assert.equal(r.body.toString(), bodies[k]));
  } finally {
    globalThis.SharedArrayBuffer = real;
    await p.close();
  }
});
