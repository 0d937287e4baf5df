/** What a restart gives back: per backend, exactly the batches it had not acked, and consumed segments are gone. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { makeBatch } from '../../../../src/batch.js';
import { batch, drain, leaseAll, openSpool, tempDir, text, write } from './spool-helpers.js';

const both = ['a', 'b'];
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m v=${from + i} ${from + i}\n`);
const segments = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg')).length;

describe('spool restart', () => {
  test('each backend replays exactly what it had not acked, targets and receivedAt intact', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir);
    const target = { db: 'db', rp: 'rp1', precision: 's' as const, credentials: { u: 'user', p: 'secret' } };
    const sent = lines(0, 10).map((l, i) => makeBatch(target, Buffer.from(l), 1, 1_000 + i));
    for (const b of sent) await write(spool, both, b);
    assert.deepEqual(await drain(spool.queue('a'), 3), lines(0, 3));
    assert.deepEqual(await drain(spool.queue('b'), 7), lines(0, 7));
    await spool.close();

    spool = await openSpool(dir);
    const a = leaseAll(spool.queue('a'));
    const b = leaseAll(spool.queue('b'));
    assert.deepEqual(a.map((l) => l.batches[0]), sent.slice(3));
    assert.deepEqual(b.map((l) => l.batches[0]), sent.slice(7));
    assert.equal(spool.stats('a').replayedRecords, 7);
    assert.equal(spool.stats('b').replayedRecords, 3);
    assert.equal(spool.stats('a').oldestReceivedAt, 1_003);
    assert.equal(spool.stats('a').bytes, sent.slice(3).reduce((n, x) => n + x.body.length, 0));
  });

  test('an out-of-order ack does not move the cursor past an unacked batch', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, { backends: ['a'] });
    for (const l of lines(0, 3)) await write(spool, ['a'], batch(l));
    const [l0, l1, l2] = leaseAll(spool.queue('a'));
    spool.queue('a').ack(l1!);
    spool.queue('a').ack(l2!);
    void l0;
    await spool.close();
    spool = await openSpool(dir, { backends: ['a'] });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), lines(0, 3), 'at-least-once: 1 and 2 come again with 0');
  });

  test('writes after a restart follow the replayed backlog, in order', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir);
    for (const l of lines(0, 3)) await write(spool, both, batch(l));
    await spool.close();
    spool = await openSpool(dir);
    for (const l of lines(3, 5)) await write(spool, both, batch(l));
    await spool.close();
    spool = await openSpool(dir);
    assert.deepEqual(await drain(spool.queue('a'), 5), lines(0, 5));
    assert.deepEqual(await drain(spool.queue('b'), 5), lines(0, 5));
  });

  test('a segment is deleted once every cursor has passed it, not before', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, { segmentBytes: 256 });
    for (const l of lines(0, 40)) await write(spool, both, batch(l));
    const before = await segments(dir);
    assert.ok(before >= 5, `expected several segments, got ${before}`);
    await drain(spool.queue('a'), 40);
    await spool.checkpoint();
    assert.equal(await segments(dir), before, 'b still needs them all');
    await drain(spool.queue('b'), 20);
    await spool.checkpoint();
    const half = await segments(dir);
    assert.ok(half < before && half > 1, `about half deleted: ${half} of ${before}`);
    await drain(spool.queue('b'), 20);
    await spool.checkpoint();
    assert.equal(await segments(dir), 0, 'the open segment goes too once every cursor has passed it (it frees the disk)');
    await write(spool, both, batch('mid v=1 1\n'));
    assert.equal(await segments(dir), 1, 'the next append starts a new segment');
    assert.deepEqual(await drain(spool.queue('a'), 1), ['mid v=1 1\n']);
    await spool.close();
    spool = await openSpool(dir, { segmentBytes: 256 });
    assert.equal(spool.queue('a').length, 0);
    assert.deepEqual(text(leaseAll(spool.queue('b'))), ['mid v=1 1\n'], 'b had not acked it');
    await write(spool, both, batch('after v=1 1\n'));
    assert.deepEqual(text(leaseAll(spool.queue('a'))), ['after v=1 1\n']);
  });
});
