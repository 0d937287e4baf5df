/** Cursor files: overwritten in place in two alternating slots, so a torn write keeps the previous cursor. */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32 } from '../../../../src/queue/spool/crc32.js';
import { readCursor, writeCursor } from '../../../../src/queue/spool/files.js';
import { tempDir } from './spool-helpers.js';

describe('spool cursor file', () => {
  test('updates overwrite the file in place (same inode, same size) and alternate slots', async () => {
    const dir = await tempDir();
    const path = join(dir, 'cursor-a');
    await writeCursor(dir, 'a', 100, true);
    const first = await stat(path);
    assert.equal(first.size, 64);
    for (const pos of [200, 300, 400]) {
      await writeCursor(dir, 'a', pos, true);
      assert.deepEqual(await readCursor(dir, 'a'), { pos });
    }
    const after = await stat(path);
    assert.equal(after.ino, first.ino, 'no new file: works on a full disk');
    assert.equal(after.size, 64);
  });

  test('a torn write of one slot leaves the previous cursor', async () => {
    const dir = await tempDir();
    const path = join(dir, 'cursor-a');
    await writeCursor(dir, 'a', 100, false);
    await writeCursor(dir, 'a', 200, false); // slot 1
    const buf = await readFile(path);
    buf.fill(0xff, 32 + 8, 32 + 12); // slot 1 half-written
    await writeFile(path, buf);
    assert.deepEqual(await readCursor(dir, 'a'), { pos: 100 });
    await writeCursor(dir, 'a', 300, false); // goes to the torn slot, not over the good one
    assert.deepEqual(await readCursor(dir, 'a'), { pos: 300 });
    buf.fill(0, 0, 32); // now spoil slot 0 too: only slot 1 (300) remains
    await writeFile(path, Buffer.concat([buf.subarray(0, 32), (await readFile(path)).subarray(32)]));
    assert.deepEqual(await readCursor(dir, 'a'), { pos: 300 });
  });

  test('a version 1 cursor (20 bytes) is read, and updated in place', async () => {
    const dir = await tempDir();
    const v1 = Buffer.alloc(20);
    v1.write('IRCU', 0, 'latin1');
    v1[4] = 1;
    v1.writeBigUInt64LE(1234n, 8);
    v1.writeUInt32LE(crc32(v1.subarray(0, 16)), 16);
    await writeFile(join(dir, 'cursor-a'), v1);
    assert.deepEqual(await readCursor(dir, 'a'), { pos: 1234 });
    await writeCursor(dir, 'a', 5678, false);
    assert.deepEqual(await readCursor(dir, 'a'), { pos: 5678 });
    await writeFile(join(dir, 'cursor-a'), 'junk');
    assert.ok('corrupt' in (await readCursor(dir, 'a')));
  });
});
