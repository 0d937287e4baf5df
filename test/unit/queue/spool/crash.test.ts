/**
 * Real failures in a child process: kill -9 in the middle of a write stream, then every append whose promise had
 * resolved must be in the reopened spool; and a real disk error (the file size limit, EFBIG, standing in for a full
 * disk) must refuse the batches it hit with a SpoolError, keep the process alive, and leave no half record behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { exited, killNow, track } from '../../../helpers/children.js';
import { drain, openSpool, tempDir } from './spool-helpers.js';

const moduleUrl = (rel: string) => new URL(rel, import.meta.url).href;
const env = (dir: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  SPOOL_URL: moduleUrl('../../../../src/queue/spool/spool.js'),
  BATCH_URL: moduleUrl('../../../../src/batch.js'),
  SPOOL_DIR: dir,
  ...extra,
});

/** Appends from 16 concurrent writers forever; prints each sequence number once its append resolved. */
const WRITER = `
const { Spool } = await import(process.env.SPOOL_URL);
const { makeBatch } = await import(process.env.BATCH_URL);
const spool = await Spool.open({ dir: process.env.SPOOL_DIR, backends: ['a', 'b'], maxBytesPerBackend: 2 ** 30,
  fsync: process.env.SPOOL_FSYNC, fsyncIntervalMs: 5, whenFull: 'reject', segmentBytes: 256 * 1024 });
const target = { db: 'db', rp: '', precision: 'n', credentials: {} };
let seq = 0;
const worker = async () => {
  for (;;) {
    const n = seq++;
    await spool.append(makeBatch(target, Buffer.from(\`m,n=\${n} v=\${n}i \${n}\\n\`.repeat(20)), 20));
    process.stdout.write(n + '\\n');
  }
};
for (let i = 0; i < 16; i++) void worker();
`;

/** Appends 4000-byte batches one by one into a file capped at 64 KiB, then a small one, then a large one again. */
const FULL_DISK = `
process.on('SIGXFSZ', () => {}); // so that a write past the limit fails with EFBIG instead of killing the process
const { Spool } = await import(process.env.SPOOL_URL);
const { makeBatch } = await import(process.env.BATCH_URL);
const spool = await Spool.open({ dir: process.env.SPOOL_DIR, backends: ['a'], maxBytesPerBackend: 2 ** 30,
  fsync: 'always', fsyncIntervalMs: 5, whenFull: 'reject', segmentBytes: 1 << 20 });
const target = { db: 'db', rp: '', precision: 'n', credentials: {} };
const acked = [], errors = [];
const attempt = async (n, size) => {
  const body = Buffer.from(('m,n=' + n + ' v=1i 1\\n').padStart(size, '#'));
  try { await spool.append(makeBatch(target, body, 1)); acked.push(n); }
  catch (err) { errors.push({ n, name: err.name, code: err.code, message: err.message }); }
};
let n = 0;
while (errors.length === 0 && n < 100) await attempt(n++, 4000);
await attempt(n++, 500);
await attempt(n++, 4000);
await spool.close();
process.stdout.write(JSON.stringify({ acked, errors }));
`;

/**
 * Writes under each policy, closes, and must then exit by itself: a closed spool leaves no timer or handle behind.
 * fdatasync is slowed down so that, under 'interval', a write lands while a background fdatasync runs and close()
 * comes before it ends (that once left a timer re-arming itself forever).
 */
const CLOSE_AND_EXIT = `
const { open } = await import('node:fs/promises');
const probe = await open('/dev/null', 'r');
const proto = Object.getPrototypeOf(probe);
await probe.close();
const datasync = proto.datasync;
proto.datasync = async function () { await new Promise((r) => setTimeout(r, 50)); return datasync.call(this); };
const { Spool } = await import(process.env.SPOOL_URL);
const { makeBatch } = await import(process.env.BATCH_URL);
const target = { db: 'db', rp: '', precision: 'n', credentials: {} };
const batch = () => makeBatch(target, Buffer.from('m v=1i 1\\n'.repeat(100)), 100);
for (const fsync of ['always', 'interval', 'never']) {
  const spool = await Spool.open({ dir: process.env.SPOOL_DIR + '/' + fsync, backends: ['a', 'b'], maxBytesPerBackend: 2 ** 30,
    memoryBytesPerBackend: 4096, fsync, fsyncIntervalMs: 5, whenFull: 'reject', segmentBytes: 65536 });
  await Promise.all(Array.from({ length: 200 }, () => spool.append(batch())));
  await new Promise((r) => setTimeout(r, 10)); // a background fdatasync has started and takes 50 ms
  await spool.append(batch());
  await spool.close();
}
process.stdout.write('closed');
`;

const seqOf = (body: string) => Number(/^m,n=(\d+) /.exec(body.split('\n')[0]!.replace(/^#+/, ''))?.[1]);

describe('spool under real failures', () => {
  for (const fsync of ['interval', 'always', 'never']) {
    test(`kill -9 mid-stream (fsync ${fsync}): every resolved append is there after reopen`, async () => {
      const dir = await tempDir();
      const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER], { env: env(dir, { SPOOL_FSYNC: fsync }), stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      const acked: number[] = [];
      let partial = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`writer too slow: ${acked.length} acked; ${stderr}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          const parts = (partial + d.toString()).split('\n');
          partial = parts.pop()!;
          for (const p of parts) acked.push(Number(p));
          if (acked.length >= 3000) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
      });
      const exit = await killNow(child);
      assert.equal(exit.signal, 'SIGKILL');
      const spool = await openSpool(dir);
      for (const name of ['a', 'b']) {
        const q = spool.queue(name);
        const bodies = await drain(q, q.length);
        const found = new Set(bodies.map(seqOf));
        const missing = acked.filter((n) => !found.has(n));
        if (process.env.SPOOL_TEST_DEBUG) console.log(fsync, name, { acked: acked.length, found: found.size });
        assert.deepEqual(missing, [], `${name}: ${missing.length} of ${acked.length} acknowledged appends lost`);
        for (const b of bodies) assert.equal(b, `m,n=${seqOf(b)} v=${seqOf(b)}i ${seqOf(b)}\n`.repeat(20), 'intact');
      }
    });
  }

  test('a closed spool lets the process exit (no timer or handle left behind)', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLOSE_AND_EXIT], { env: env(await tempDir()), stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => void killNow(child), 15_000);
    const exit = await exited(child);
    clearTimeout(timer);
    assert.equal(exit.signal, null, `still running 15 s after close: ${out}`);
    assert.equal(exit.code, 0, out);
    assert.equal(out, 'closed');
  });

  test('a disk error refuses the batches it hit with a SpoolError; the spool goes on and holds exactly what was acked', async () => {
    const dir = await tempDir();
    const child = spawn('bash', ['-c', 'ulimit -f 64 && exec "$0" --input-type=module -e "$1"', process.execPath, FULL_DISK], {
      env: env(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = await exited(child);
    assert.equal(exit.code, 0, `the process survived the disk error: ${err}`);
    const { acked, errors } = JSON.parse(out) as { acked: number[]; errors: Array<{ n: number; name: string; code: string; message: string }> };
    assert.equal(acked.length, 17, '16 large records fill 64 KiB, then the small one still fits');
    assert.deepEqual(errors.map((e) => [e.n, e.name, e.code]), [
      [16, 'SpoolError', 'SPOOL_IO'],
      [18, 'SpoolError', 'SPOOL_IO'],
    ]);
    assert.match(errors[0]!.message, /spool write failed/);
    const spool = await openSpool(dir, { backends: ['a'] });
    const bodies = await drain(spool.queue('a'), spool.queue('a').length);
    assert.deepEqual(bodies.map(seqOf), acked, 'exactly the acknowledged batches, no half record');
  });
});
