/**
 * The spool on a disk that fills up, through the built relay and a real influxd: the spool on a 3 MB tmpfs with
 * spool-max-mb = 64. Writes get 503 while the disk is full; once the backend is back and has drained the backlog,
 * writes get 204 again without a restart, and the same after kill -9 and a restart on a disk with no byte left.
 * Needs root (mount); skipped with a message otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { post } from '../helpers/http.js';
import { startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { relayToml, startRelay, type Relay } from '../helpers/relay.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

/** 2,000 points, about 100 KiB. */
const POINTS = 2000;
let next = 0;
function body(): string {
  const out: string[] = [];
  for (let i = 0; i < POINTS; i++, next++) out.push(`full,id=${next} v=${next}i,pad="${'x'.repeat(20)}" ${1700000000000000000n + BigInt(next)}`);
  return out.join('\n');
}

/** Writes until the relay answers 503; returns the points it acknowledged. */
async function writeUntil503(relay: Relay): Promise<number> {
  let acked = 0;
  for (let i = 0; i < 200; i++) {
    const res = await post(`${relay.url}/write?db=test`, body());
    if (res.status === 503) {
      assert.match(res.body, /^\{"error":"[^"]*spool[^"]*"\}/, res.body);
      return acked;
    }
    assert.equal(res.status, 204, res.body);
    acked += POINTS;
  }
  throw new Error('a 3 MB disk took 20 MB: is the spool on the tmpfs?');
}

async function count(db: Influxd): Promise<number> {
  const r = await db.query('SELECT count(v) FROM "full"', { db: 'test' });
  const v = r?.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  return v === undefined ? 0 : Number(v);
}

/** Fills what is left of the disk with a file, as another process would. */
async function fillRest(path: string): Promise<void> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (let at = 0; ; at += chunk.length) if ((await fh.write(chunk, 0, chunk.length, at)).bytesWritten < chunk.length) break;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
}

test('a full spool disk: 503 while full, 204 again once the backlog drained, without a restart and after one', async (t) => {
  const mnt = await mkdtemp(join(tmpdir(), 'relay-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    await rm(mnt, { recursive: true, force: true });
    return t.skip(`cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`);
  }
  cleanup.push(async () => {
    execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    await rm(mnt, { recursive: true, force: true });
  });
  const db = await startInfluxd();
  cleanup.push(() => db.destroy());
  await db.createDatabase('test');
  await writeFile(join(mnt, 'filler'), Buffer.alloc(1 << 20));
  const port = await freePort();
  const toml =
    `spool-dir = ${JSON.stringify(join(mnt, 'spool'))}\nspool-max-mb = 64\nfsync = "interval"\n` +
    relayToml({ bindAddr: `127.0.0.1:${port}`, name: 'full', outputs: [{ name: 'a', location: `${db.url}/write`, timeout: '1s', 'max-delay-interval': '300ms' }] });

  // The backend is down: the backlog fills the disk.
  await db.kill();
  const first = await startRelay({ toml });
  let relay = first;
  cleanup.push(() => first.destroy(), () => relay.destroy());
  let acked = await writeUntil503(relay);
  assert.ok(acked > 0);
  assert.equal((await post(`${relay.url}/write?db=test`, body())).status, 503, 'still full');

  // The backend returns and drains the backlog; the spool gives the space back and writes are accepted again.
  await db.restart();
  await eventually(async () => assert.equal(await count(db), acked), 30_000);
  await eventually(async () => assert.equal((await post(`${relay.url}/write?db=test`, body())).status, 204), 10_000, 200);
  acked += POINTS;
  await eventually(async () => assert.equal(await count(db), acked), 30_000);

  // Again full, then kill -9, and not a byte left on the disk for the restart.
  await db.kill();
  acked += await writeUntil503(relay);
  await relay.kill9();
  await fillRest(join(mnt, 'filler2'));
  relay = await startRelay({ toml, dir: relay.dir });
  await db.restart();
  await eventually(async () => assert.equal(await count(db), acked), 30_000);
  await eventually(async () => assert.equal((await post(`${relay.url}/write?db=test`, body())).status, 204), 10_000, 200);
  await eventually(async () => assert.equal(await count(db), acked + POINTS), 30_000);
});
