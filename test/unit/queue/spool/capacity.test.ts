/** spool-max-mb per backend: 'reject' writes nothing for anyone; 'drop-oldest' drops one backend's oldest, counted. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpoolFullError } from '../../../../src/queue/spool/spool.js';
import { batch, drain, leaseAll, openSpool, tempDir, text, write } from './spool-helpers.js';

const both = ['a', 'b'];
/** 20-byte bodies: five fit in 100 bytes. */
const body = (i: number) => `m v=${String(i).padStart(13, '0')} 1\n`;

describe('spool capacity', () => {
  test("'reject': a batch that does not fit one backend is written for none", async () => {
    const spool = await openSpool(await tempDir(), { maxBytesPerBackend: 100 });
    for (let i = 0; i < 5; i++) await write(spool, both, batch(body(i)));
    await drain(spool.queue('a'), 5); // a has room, b is full
    const written = spool.io.bytesWritten;
    const refused = batch(body(5));
    await assert.rejects(spool.append(refused), (err: SpoolFullError) => {
      assert.ok(err instanceof SpoolFullError);
      assert.equal(err.code, 'SPOOL_FULL');
      assert.equal(err.backend, 'b');
      assert.match(err.message, /spool-max-mb/);
      return true;
    });
    assert.equal(spool.queue('a').length, 0, 'nothing half-written for a');
    assert.equal(spool.queue('b').length, 5);
    await spool.checkpoint();
    assert.equal(spool.io.bytesWritten, written, 'no byte reached the disk');
    await drain(spool.queue('b'), 1);
    await write(spool, both, batch(body(6)));
    assert.deepEqual(await drain(spool.queue('b'), 5), [1, 2, 3, 4, 6].map(body));
  });

  test("'drop-oldest': only the full backend loses its oldest unleased batches, and it is told", async () => {
    const drops: Array<[string, number, string]> = [];
    const dir = await tempDir();
    let spool = await openSpool(dir, { maxBytesPerBackend: 100, whenFull: 'drop-oldest', onDrop: (n, p, r) => drops.push([n, p, r]) });
    for (let i = 0; i < 5; i++) await write(spool, both, batch(body(i)));
    await drain(spool.queue('a'), 2);
    const inFlight = spool.queue('b').lease(0)!; // b's oldest is being sent: not dropped
    await write(spool, both, batch(body(5)));
    assert.deepEqual(drops, [['b', 1, 'spool-full']]);
    assert.deepEqual(text(leaseAll(spool.queue('b'))), [2, 3, 4, 5].map(body), 'b dropped 1, kept the leased 0');
    assert.deepEqual(text(leaseAll(spool.queue('a'))), [2, 3, 4, 5].map(body), 'a had room');
    spool.queue('b').ack(inFlight);
    await spool.close();
    spool = await openSpool(dir, { maxBytesPerBackend: 100, whenFull: 'drop-oldest' });
    assert.deepEqual(text(leaseAll(spool.queue('b'))), [2, 3, 4, 5].map(body), 'the drop moved b cursor only');
    assert.deepEqual(text(leaseAll(spool.queue('a'))), [2, 3, 4, 5].map(body));
  });

  test("'drop-oldest' refuses when everything left is in flight", async () => {
    const spool = await openSpool(await tempDir(), { backends: ['a'], maxBytesPerBackend: 100, whenFull: 'drop-oldest' });
    for (let i = 0; i < 5; i++) await write(spool, ['a'], batch(body(i)));
    leaseAll(spool.queue('a'));
    await assert.rejects(spool.append(batch(body(5))), SpoolFullError);
    assert.equal(spool.queue('a').length, 5);
  });

  test("'drop-oldest' on a backlog that is on disk drops whole spans, oldest first, and keeps the order", async () => {
    let dropped = 0;
    const spool = await openSpool(await tempDir(), {
      maxBytesPerBackend: 2000,
      memoryBytesPerBackend: 200,
      segmentBytes: 512,
      whenFull: 'drop-oldest',
      onDrop: (n, p) => (dropped += n === 'a' ? p : 0),
    });
    for (let i = 0; i < 300; i++) await write(spool, both, batch(body(i)));
    const a = spool.queue('a');
    assert.ok(a.bytes <= 2000, `bounded: ${a.bytes}`);
    assert.equal(a.length + dropped, 300, 'every batch is either queued or counted as dropped');
    const got = await drain(a, a.length);
    const idx = got.map((s) => Number(s.slice(4, 17)));
    assert.deepEqual(idx, [...idx].sort((x, y) => x - y), 'in order');
    assert.equal(idx[idx.length - 1], 299, 'the newest is kept');
  });
});
