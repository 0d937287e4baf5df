/**
 * Opening a damaged spool directory: a torn tail is cut, a corrupt record is skipped with the rest kept, junk and
 * missing files and bad cursors are reported; never a crash, never another segment lost.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SpoolError } from '../../../../src/queue/spool/spool.js';
import { batch, captureLogs, drain, leaseAll, openSpool, tempDir, text, write } from './spool-helpers.js';

const both = ['a', 'b'];
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m v=${from + i} ${from + i}\n`);
const segs = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();

async function filled(n: number, options = {}): Promise<string> {
  const dir = await tempDir();
  const spool = await openSpool(dir, options);
  for (const l of lines(0, n)) await write(spool, both, batch(l));
  await spool.close();
  return dir;
}

describe('spool recovery', () => {
  test('a torn last record is truncated and logged; the records before it are kept', async () => {
    const dir = await filled(5);
    const [seg] = await segs(dir);
    const path = join(dir, seg!);
    const size = (await stat(path)).size;
    await truncate(path, size - 3);
    const logs = captureLogs();
    const spool = await openSpool(dir, { logger: logs.logger });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), lines(0, 4));
    assert.ok(logs.has('torn tail'));
    const recordLen = size / 5;
    assert.equal((await stat(path)).size, recordLen * 4, 'cut at the last whole record');
    await write(spool, both, batch('next v=1 1\n'));
    await spool.close();
    const again = await openSpool(dir);
    assert.deepEqual(text(leaseAll(again.queue('b'))), [...lines(0, 4), 'next v=1 1\n']);
  });

  test('zeros after the last record (a power cut with fsync off) are cut too', async () => {
    const dir = await filled(3);
    const [seg] = await segs(dir);
    await appendFile(join(dir, seg!), Buffer.alloc(4096));
    const logs = captureLogs();
    const spool = await openSpool(dir, { logger: logs.logger });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), lines(0, 3));
    assert.ok(logs.has('torn tail'));
  });

  test('a corrupt record in the middle is skipped and logged; the rest is kept and the file is not cut', async () => {
    const dir = await filled(5);
    const [seg] = await segs(dir);
    const path = join(dir, seg!);
    const file = await readFile(path);
    file[file.indexOf('m v=2 2\n') + 4] = 0x39; // v=2 → v=9: the checksum no longer matches
    await writeFile(path, file);
    const logs = captureLogs();
    const spool = await openSpool(dir, { logger: logs.logger });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), [...lines(0, 2), ...lines(3, 5)]);
    assert.deepEqual(text(leaseAll(spool.queue('b'))), [...lines(0, 2), ...lines(3, 5)]);
    assert.ok(logs.has('corrupt bytes skipped'));
    assert.equal((await stat(path)).size, file.length);
  });

  test('a corrupt header with a huge length does not swallow the records after it', async () => {
    const dir = await filled(4);
    const [seg] = await segs(dir);
    const path = join(dir, seg!);
    const file = await readFile(path);
    const second = file.indexOf('IRSP', 1);
    file.writeUInt32LE(0x7fffffff, second + 16); // bodyLen
    await writeFile(path, file);
    const spool = await openSpool(dir, { logger: captureLogs().logger });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), [lines(0, 1)[0], ...lines(2, 4)]);
  });

  test('junk files and a missing segment are reported; the other segments are kept', async () => {
    const dir = await filled(30, { segmentBytes: 256 });
    const names = await segs(dir);
    assert.ok(names.length >= 4);
    await unlink(join(dir, names[1]!));
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, '123.seg'), 'junk');
    await writeFile(join(dir, names[names.length - 1]!.replace(/\d{4}\.seg$/, '9999.seg')), Buffer.alloc(100, 7));
    await mkdir(join(dir, '00000000000000000001.seg'));
    const logs = captureLogs();
    const spool = await openSpool(dir, { segmentBytes: 256, logger: logs.logger });
    const got = await drain(spool.queue('a'), spool.queue('a').length);
    const all = lines(0, 30);
    assert.ok(got.length > 15 && got.length < 30, `most records kept: ${got.length}`);
    assert.equal(got[0], all[0], 'the first segment is intact');
    assert.equal(got[got.length - 1], all[29], 'the last segment is intact');
    assert.ok(logs.has('not spool files'));
    assert.ok(logs.has('segments missing'));
    assert.ok((await readdir(dir)).includes('notes.txt'), 'junk is left alone');
  });

  test('a corrupt or missing cursor replays that backend from the oldest segment; the other keeps its cursor', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, { backends: ['a', 'b', 'c'] });
    for (const l of lines(0, 6)) await write(spool, ['a', 'b', 'c'], batch(l));
    for (const n of ['a', 'b', 'c']) await drain(spool.queue(n), 4);
    await spool.close();
    await writeFile(join(dir, 'cursor-a'), 'garbage, not a cursor');
    await unlink(join(dir, 'cursor-b'));
    const logs = captureLogs();
    spool = await openSpool(dir, { backends: ['a', 'b', 'c', 'new'], logger: logs.logger });
    assert.deepEqual(text(leaseAll(spool.queue('a'))), lines(0, 6));
    assert.deepEqual(text(leaseAll(spool.queue('b'))), lines(0, 6));
    assert.deepEqual(text(leaseAll(spool.queue('c'))), lines(4, 6));
    assert.deepEqual(text(leaseAll(spool.queue('new'))), lines(0, 6), 'a backend added to the config gets what is retained');
    assert.ok(logs.has('cursor file unreadable'));
    assert.ok(logs.has('no cursor file'));
  });

  test('cursors of backends no longer configured are ignored and do not hold segments back', async () => {
    const dir = await filled(5);
    const logs = captureLogs();
    const spool = await openSpool(dir, { backends: ['a'], logger: logs.logger });
    assert.ok(logs.has('no longer configured'));
    await drain(spool.queue('a'), 5);
    await spool.checkpoint();
    assert.deepEqual(await segs(dir), [], 'consumed by every configured backend: removed');
    await spool.close();
    const reopened = await openSpool(dir, { backends: ['a'] });
    assert.equal(reopened.queue('a').length, 0);
  });

  test('a directory in use by a live spool is refused with a clear error, and free again once it closes', async () => {
    const dir = await filled(2);
    const first = await openSpool(dir);
    await assert.rejects(openSpool(dir), (err: Error) => err instanceof SpoolError && /in use by another live relay \(pid \d+/.test(err.message));
    await first.close();
    const spool = await openSpool(dir);
    assert.equal(spool.queue('a').length, 2);
  });

  test('a lock left by a process killed with SIGKILL is taken over at once, whatever pid LOCK names', async () => {
    const dir = await filled(2);
    // A holder that dies without cleaning up: its socket file stays, the kernel closed the socket.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(dir, 'LOCK.sock'))}, () => console.log('ready'))`]);
    await once(holder.stdout, 'data');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    await stat(join(dir, 'LOCK.sock')); // the stale socket file is there
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n`); // a live pid (a recycled one, or pid 1 in a container)
    const spool = await openSpool(dir);
    assert.equal(spool.queue('a').length, 2);
    assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  });

  test('a spool directory whose path is too long for a socket file is locked by an abstract socket', async () => {
    let dir = await tempDir();
    while (dir.length < 120) dir = join(dir, 'a-rather-long-directory-name');
    await mkdir(dir, { recursive: true });
    const first = await openSpool(dir);
    assert.ok(!(await readdir(dir)).includes('LOCK.sock'), 'no socket file: the name is abstract');
    await assert.rejects(openSpool(dir), /in use by another live relay/);
    await first.close();
    await (await openSpool(dir)).close();
  });
});
