/**
 * A full disk, for real: the spool on a 3 MB tmpfs with spool-max-mb far above it. Writes fail with SpoolError while
 * the disk is full and health() says why; once the backends drained the backlog the spool gives its space back and
 * accepts writes again by itself, with no restart, and also after a restart on a disk that is still full.
 * Needs root (mount); skipped with a message otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpoolError, SpoolFullError, type Spool } from '../../../../src/queue/spool/spool.js';
import { batch, drain, openSpool, write } from './spool-helpers.js';

const MiB = 1 << 20;
const both = ['a', 'b'];
let mnt = '';
let skip: string | false = false;

before(async () => {
  mnt = await mkdtemp(join(tmpdir(), 'spool-tmpfs-')); // not tempDir(): unmounted before it is removed

  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    skip = `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}): disk-full tests skipped`;
    console.log(`# ${skip}`);
  }
});
after(async () => {
  if (!skip) execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  await rm(mnt, { recursive: true, force: true });
});

/** 64 KiB of line protocol per batch. */
let seq = 0;
const big = () => batch(`m v=${seq++} 1\n`.padEnd(64 << 10, '#').slice(0, (64 << 10) - 1) + '\n');

/** Appends until the disk refuses; returns how many were acknowledged. Never SpoolFullError: spool-max-mb is far off. */
async function writeUntilRefused(spool: Spool): Promise<number> {
  for (let n = 0; ; n++) {
    try {
      await write(spool, both, big());
    } catch (err) {
      assert.ok(err instanceof SpoolError && !(err instanceof SpoolFullError), `a disk error, got ${String(err)}`);
      assert.match((err as Error).message, /ENOSPC|no space|disk full/i);
      return n;
    }
    assert.ok(n < 100, 'a 3 MB disk cannot take 100 × 64 KiB');
  }
}

/** Fills what is left of the disk with a file, as another process would. */
async function fillRest(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (let at = 0; ; at += chunk.length) {
      const { bytesWritten } = await fh.write(chunk, 0, chunk.length, at);
      if (bytesWritten < chunk.length) break;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
}

const segments = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg'));

describe('spool on a full disk', () => {
  test('writes are refused while the disk is full, health says so, and come back once the backlog drained: no restart', async (t) => {
    if (skip) return t.skip(skip);
    const dir = join(mnt, 'live');
    await mkdir(dir);
    await writeFile(join(mnt, 'filler'), Buffer.alloc(MiB));
    const errors: string[] = [];
    const spool = await openSpool(dir, { maxBytesPerBackend: 64 * MiB, fsync: 'interval', onDiskError: (op) => errors.push(op) });
    try {
      assert.deepEqual(spool.health(), { ok: true });
      const acked = await writeUntilRefused(spool);
      assert.ok(acked > 0);
      const h = spool.health();
      assert.equal(h.ok, false);
      assert.match(h.error!, /ENOSPC|no space|disk full/i);
      assert.ok(!Number.isNaN(Date.parse(h.since!)), `since is a date: ${h.since}`);
      assert.ok(errors.includes('write'), 'counted');
      await assert.rejects(write(spool, both, big()), SpoolError, 'still full: refused again');

      // The backends come back and drain everything acknowledged; nobody frees space but the spool itself.
      assert.equal((await drain(spool.queue('a'), acked)).length, acked);
      assert.equal((await drain(spool.queue('b'), acked)).length, acked);
      await spool.checkpoint();
      assert.deepEqual(await segments(dir), [], 'every cursor passed the open segment: deleted');
      assert.deepEqual(spool.health(), { ok: true }, 'the space probe saw the space back without a client write');
      for (let i = 0; i < 3; i++) await write(spool, both, big());
      assert.equal(spool.queue('a').length, 3);
    } finally {
      await spool.close();
      await rm(join(mnt, 'filler'), { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('after a restart on a disk that is completely full, the drained backlog gives its space back', async (t) => {
    if (skip) return t.skip(skip);
    const dir = join(mnt, 'restart');
    await mkdir(dir);
    await writeFile(join(mnt, 'filler'), Buffer.alloc(MiB));
    let spool = await openSpool(dir, { maxBytesPerBackend: 64 * MiB, fsync: 'always' });
    try {
      const acked = await writeUntilRefused(spool);
      await spool.close();
      await fillRest(join(mnt, 'filler2')); // not a byte left: cursors and the lock must manage in place

      spool = await openSpool(dir, { maxBytesPerBackend: 64 * MiB, fsync: 'always' });
      assert.equal(spool.queue('a').length, acked, 'the backlog is replayed');
      await assert.rejects(write(spool, both, big()), SpoolError);
      await drain(spool.queue('a'), acked);
      await drain(spool.queue('b'), acked);
      await spool.checkpoint();
      assert.deepEqual(await segments(dir), [], 'cursors were saved on a full disk, so the consumed log went');
      assert.deepEqual(spool.health(), { ok: true });
      await write(spool, both, big());
      await spool.close();

      spool = await openSpool(dir, { maxBytesPerBackend: 64 * MiB, fsync: 'always' });
      assert.equal(spool.queue('a').length, 1, 'the write after recovery is durable');
    } finally {
      await spool.close();
      await rm(join(mnt, 'filler'), { force: true });
      await rm(join(mnt, 'filler2'), { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
