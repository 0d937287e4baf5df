/** The fsync policies, by behaviour only: what resolves, how syncs group, and that the data is there after reopen. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FsyncPolicy } from '../../../../src/config/enums.js';
import { batch, drain, openSpool, tempDir, write } from './spool-helpers.js';
import { eventually } from '../../../helpers/eventually.js';

const both = ['a', 'b'];
const lines = (n: number) => Array.from({ length: n }, (_, i) => `m v=${i} ${i}\n`);

describe('spool fsync policies', () => {
  for (const fsync of ['always', 'interval', 'never'] as FsyncPolicy[]) {
    test(`${fsync}: concurrent appends all resolve, in one log, and survive a reopen`, async () => {
      const dir = await tempDir();
      let spool = await openSpool(dir, { fsync, fsyncIntervalMs: 20 });
      const all = lines(200);
      await Promise.all(all.map((l) => write(spool, both, batch(l))));
      const { syncs, writes } = spool.io;
      assert.ok(writes < 200, `records are written in groups: ${writes} writes`);
      if (fsync === 'always') {
        assert.ok(syncs >= 1, 'appends waited for an fdatasync');
        assert.ok(syncs < 200, `group commit: ${syncs} syncs for 200 appends`);
      }
      if (fsync === 'never') assert.equal(syncs, 0, 'no fdatasync before close');
      if (fsync === 'interval') await eventually(() => assert.ok(spool.io.syncs >= 1, 'a background fdatasync follows the writes'));
      await spool.close();
      spool = await openSpool(dir);
      assert.deepEqual(await drain(spool.queue('a'), 200), all);
    });
  }

  test('appends resolve in the order they were made', async () => {
    const spool = await openSpool(await tempDir(), { fsync: 'interval', fsyncIntervalMs: 10 });
    const order: number[] = [];
    await Promise.all(lines(100).map((l, i) => spool.append(batch(l)).then(() => order.push(i))));
    assert.deepEqual(order, [...order].sort((x, y) => x - y));
  });

  test("interval: an append does not wait for the interval's fdatasync", async () => {
    const dir = await tempDir();
    const spool = await openSpool(dir, { fsync: 'interval', fsyncIntervalMs: 3_600_000 });
    await spool.append(batch('first v=1 1\n'));
    await eventually(() => assert.ok(spool.io.syncs === 1, 'the first fdatasync after an idle period starts at once'));
    await spool.append(batch('second v=1 1\n')); // the next fdatasync is an hour away
    assert.equal(spool.io.syncs, 1);
    await spool.close();
    const reopened = await openSpool(dir);
    assert.deepEqual(await drain(reopened.queue('a'), 2), ['first v=1 1\n', 'second v=1 1\n']);
  });

  test('after close, append is refused with a SpoolError, not a crash', async () => {
    const spool = await openSpool(await tempDir());
    await spool.close();
    await assert.rejects(spool.append(batch('late v=1 1\n')), { code: 'SPOOL_IO' });
  });
});
