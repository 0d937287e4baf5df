/**
 * A model-based test of the spool: seeded random sequences of what the relay does with it (append, lease on a
 * backend, ack or release a lease, checkpoint, close and reopen, crash and reopen), checked after every step against
 * a model that is only, per backend, the list of records it has not finished with (not acked, not dropped).
 *
 * After every step each view's length, bytes and pending match the model, and a lease returns the oldest batches the
 * backend has not leased, in append order, merged only with the same key: nothing overtakes. Appends are refused
 * (SpoolFullError) exactly when the model says a backlog would exceed spool-max-mb; under drop-oldest the batches
 * reported to onDrop must be the oldest unleased ones, enough to make room.
 *
 * Restarts follow the design: only a cursor per backend is persisted, the position of its first record not finished
 * with. After a clean close every record from that cursor on comes back (outstanding leases are lost, so their batches
 * return, and so does a batch acked out of order behind one of them: at-least-once); after a crash every record from
 * the cursor of the last checkpoint on comes back. Both are checked exactly: nothing finished with before the
 * persisted cursor returns, nothing after it is missing.
 *
 * A crash leaves the directory as a kill -9 does: the files as written (the page cache outlives the process) and the
 * cursors as last persisted (the periodic checkpoint is off here, so only explicit ones persist). The directory lock is
 * a socket this process holds, so the test copies the directory at that instant, opens the copy, and lets the
 * abandoned spool close on its own directory. Sometimes appends are still in flight when the copy is taken: a prefix
 * of them may survive (a torn one is cut off by recovery), nothing else.
 *
 * PROPERTY_SEED=<n> replays one seed (a failure names it; the timing of disk reads and in-flight writes may still
 * differ); PROPERTY_OPS=<n> sets the length of a run.
 */
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { makeBatch, type Batch } from '../../../../src/batch.js';
import type { WhenFull, FsyncPolicy } from '../../../../src/config/enums.js';
import type { Lease } from '../../../../src/queue/queue.js';
import { Spool, SpoolFullError, type SpoolQueue } from '../../../../src/queue/spool/spool.js';
import { prng } from '../../../helpers/prng.js';
import { target, tempDir } from './spool-helpers.js';

const BACKENDS = ['a', 'b', 'c'];
const CAP = 12 << 10;
/** Small memory and segments: backlogs spill to on-disk spans and are read back; segments rotate and are deleted. */
const MEMORY = 4 << 10;
const SEGMENT = 4 << 10;
const DBS = ['x', 'y'];
const OPS = Number(process.env.PROPERTY_OPS ?? 2000);
/** Weights (out of 100) of append, lease, ack, release, checkpoint, close and reopen, crash. */
const FILL = [46, 24, 14, 5, 7, 2, 2];
const DRAIN = [4, 48, 42, 1, 3, 1, 1];

interface Rec {
  readonly body: string;
  readonly key: string;
  readonly bytes: number;
  readonly points: number;
  readonly batch: Batch;
}

interface Held {
  readonly backend: string;
  readonly lease: Lease;
  readonly recs: readonly number[];
}

interface Variant {
  readonly whenFull: WhenFull;
  readonly fsync: FsyncPolicy;
  readonly seeds: readonly number[];
}

const VARIANTS: Variant[] = [
  { whenFull: 'reject', fsync: 'never', seeds: [1, 2] },
  { whenFull: 'drop-oldest', fsync: 'never', seeds: [3, 4] },
  { whenFull: 'drop-oldest', fsync: 'interval', seeds: [5] },
];

/** What the model knows: every record appended (index = log order) and, per backend, the ones not finished with. */
class Model {
  readonly recs: Rec[] = [];
  readonly index = new Map<string, number>();
  readonly live = new Map<string, number[]>(BACKENDS.map((b) => [b, []]));
  readonly leased = new Map<string, Set<number>>(BACKENDS.map((b) => [b, new Set()]));
  /** Per backend, the cursor (a record index) as of the last checkpoint. */
  readonly checkpointed = new Map<string, number>(BACKENDS.map((b) => [b, 0]));
  held: Held[] = [];

  add(rec: Rec): void {
    this.index.set(rec.body, this.recs.length);
    for (const b of BACKENDS) this.live.get(b)!.push(this.recs.length);
    this.recs.push(rec);
  }
  cursor(b: string): number {
    return this.live.get(b)![0] ?? this.recs.length;
  }
  bytes(b: string): number {
    return this.live.get(b)!.reduce((n, i) => n + this.recs[i]!.bytes, 0);
  }
  unleased(b: string): number[] {
    const leased = this.leased.get(b)!;
    return this.live.get(b)!.filter((i) => !leased.has(i));
  }
  finish(b: string, recs: readonly number[]): void {
    const gone = new Set(recs);
    this.live.set(b, this.live.get(b)!.filter((i) => !gone.has(i)));
    for (const i of recs) this.leased.get(b)!.delete(i);
  }
  /** A restart: each backend holds every record from `from(b)` on; leases are gone. */
  restart(from: (b: string) => number): void {
    for (const b of BACKENDS) {
      const start = from(b);
      this.live.set(b, this.recs.map((_, i) => i).filter((i) => i >= start));
      this.leased.get(b)!.clear();
      this.checkpointed.set(b, start); // opening persists the cursors it starts from
    }
    this.held = [];
  }
}

interface Counts {
  appended: number;
  refused: number;
  drops: number;
  leases: number;
  merged: number;
  acks: number;
  releases: number;
  checkpoints: number;
  reopens: number;
  crashes: number;
  inFlightSurvived: number;
  inFlightLost: number;
  catchingUp: number;
  inMemory: number;
  waitedForDisk: number;
}

class Run {
  readonly model = new Model();
  readonly rnd: (n: number) => number;
  readonly counts: Counts = {
    appended: 0, refused: 0, drops: 0, leases: 0, merged: 0, acks: 0, releases: 0, checkpoints: 0, reopens: 0,
    crashes: 0, inFlightSurvived: 0, inFlightLost: 0, catchingUp: 0, inMemory: 0, waitedForDisk: 0,
  };
  readonly history: string[] = [];
  spool!: Spool;
  dir = '';
  private generation = 0;
  private drops: Array<{ backend: string; points: number; reason: string }> = [];
  private readonly waiters = new Map<string, () => void>();
  private nextId = 0;
  private filling = true;

  constructor(
    readonly variant: Variant,
    seed: number,
  ) {
    this.rnd = prng(seed);
  }

  async open(dir: string): Promise<void> {
    const generation = ++this.generation;
    this.dir = dir;
    this.spool = await Spool.open({
      dir,
      backends: BACKENDS,
      maxBytesPerBackend: CAP,
      memoryBytesPerBackend: MEMORY,
      segmentBytes: SEGMENT,
      fsync: this.variant.fsync,
      fsyncIntervalMs: 5,
      whenFull: this.variant.whenFull,
      checkpointMs: 2_000_000_000,
      onDrop: (backend, points, reason) => {
        if (generation === this.generation) this.drops.push({ backend, points, reason });
      },
    });
    for (const b of BACKENDS) {
      this.queue(b).onLeasable(() => {
        const w = this.waiters.get(b);
        this.waiters.delete(b);
        w?.();
      });
    }
  }

  queue(b: string): SpoolQueue {
    return this.spool.queue(b);
  }

  newRec(): Rec {
    const id = this.nextId++;
    const points = 1 + this.rnd(4);
    const pad = 'p'.repeat(this.rnd(this.rnd(4) === 0 ? 2000 : 400));
    const line = (k: number) => `m,id=${id},k=${k},pad=${pad} v=${k}i ${id}\n`;
    const body = Array.from({ length: points }, (_, k) => line(k)).join('');
    const batch = makeBatch(target(DBS[this.rnd(DBS.length)]!), Buffer.from(body), points);
    return { body, key: batch.key, bytes: batch.body.length, points, batch };
  }

  /** Every view agrees with the model. */
  check(): void {
    const m = this.model;
    for (const b of BACKENDS) {
      const q = this.queue(b);
      const live = m.live.get(b)!;
      assert.equal(q.length, live.length, `backend ${b}: length`);
      assert.equal(q.bytes, m.bytes(b), `backend ${b}: bytes`);
      assert.equal(q.pending, live.length - m.leased.get(b)!.size, `backend ${b}: pending`);
      if (q.catchingUp) this.counts.catchingUp++;
      else if (q.length > 0) this.counts.inMemory++;
    }
    assert.equal(this.drops.length, 0, `drops not accounted for: ${JSON.stringify(this.drops)}`);
  }

  /** Fill phases let backlogs reach the bound and spill to disk; drain phases bring them back to memory and to empty. */
  async step(): Promise<void> {
    if (this.rnd(100) === 0) this.filling = !this.filling;
    const weights = this.filling ? FILL : DRAIN;
    let r = this.rnd(100);
    let k = 0;
    while (r >= weights[k]!) r -= weights[k++]!;
    switch (k) {
      case 0: return this.append();
      case 1: return this.lease(BACKENDS[this.rnd(BACKENDS.length)]!);
      case 2: return this.finishLease('ack');
      case 3: return this.finishLease('release');
      case 4: return this.checkpoint();
      case 5: return this.reopen();
      default: return this.crash();
    }
  }

  /** Whether the model expects the spool to refuse an append of `bytes`, and the bytes each backend must drop. */
  private admission(bytes: number): { refuse: boolean; need: Map<string, number> } {
    const m = this.model;
    const need = new Map<string, number>();
    for (const b of BACKENDS) {
      const over = m.bytes(b) + bytes - CAP;
      if (over <= 0) continue;
      const droppable = m.unleased(b).reduce((n, i) => n + m.recs[i]!.bytes, 0);
      if (this.variant.whenFull === 'reject' || bytes > CAP || droppable < over) return { refuse: true, need };
      need.set(b, over);
    }
    return { refuse: false, need };
  }

  private async append(): Promise<void> {
    const rec = this.newRec();
    const { refuse, need } = this.admission(rec.bytes);
    this.history.push(`append ${rec.bytes} B to ${rec.key.split('\0')[0]}${refuse ? ' (full)' : ''}`);
    let refused = false;
    try {
      await this.spool.append(rec.batch);
    } catch (err) {
      if (!(err instanceof SpoolFullError)) throw err;
      refused = true;
    }
    assert.equal(refused, refuse, refuse ? 'the spool took a batch the model says does not fit' : 'the spool refused a batch that fits');
    if (refused) {
      this.counts.refused++;
      return;
    }
    for (const [b, bytes] of need) this.takeDrop(b, bytes);
    this.model.add(rec);
    this.counts.appended++;
  }

  /** drop-oldest reported a drop for `b`: it must be the oldest unleased records, at least `need` bytes. */
  private takeDrop(b: string, need: number): void {
    const i = this.drops.findIndex((d) => d.backend === b);
    assert.ok(i >= 0, `backend ${b} had to drop ${need} bytes and reported no drop`);
    const [d] = this.drops.splice(i, 1);
    assert.equal(d!.reason, 'spool-full');
    const m = this.model;
    const dropped: number[] = [];
    let points = 0;
    let bytes = 0;
    for (const r of m.unleased(b)) {
      if (points >= d!.points) break;
      dropped.push(r);
      points += m.recs[r]!.points;
      bytes += m.recs[r]!.bytes;
    }
    assert.equal(points, d!.points, `backend ${b}: the points dropped are not those of its oldest unleased batches`);
    assert.ok(bytes >= need, `backend ${b}: dropped ${bytes} bytes, needed ${need}`);
    m.finish(b, dropped);
    this.counts.drops += dropped.length;
  }

  private async lease(b: string, retried = false): Promise<void> {
    const maxBytes = [0, 600, 2500, 8000, Infinity][this.rnd(5)]!;
    const q = this.queue(b);
    const m = this.model;
    const unleased = m.unleased(b);
    const l = q.lease(maxBytes);
    this.history.push(`lease ${b} max ${maxBytes}: ${l ? l.batches.length : 'none'}`);
    if (!l) {
      if (unleased.length === 0) return;
      // The rest is on disk and read back as memory drains; with nothing in flight it must come.
      assert.ok(q.catchingUp, `backend ${b}: nothing leasable, ${unleased.length} pending, not catching up`);
      if (retried || m.held.some((h) => h.backend === b)) return;
      this.counts.waitedForDisk++;
      await this.leasable(b);
      return this.lease(b, true);
    }
    const recs = l.batches.map((x) => m.index.get(x.body.toString()) ?? -1);
    assert.deepEqual(recs, unleased.slice(0, recs.length), `backend ${b}: a lease is not the oldest unleased batches in order`);
    const first = m.recs[recs[0]!]!;
    for (const i of recs) assert.equal(m.recs[i]!.key, first.key, 'a lease merges batches of different keys');
    const bytes = recs.reduce((n, i) => n + m.recs[i]!.bytes, 0);
    assert.equal(l.bytes, bytes, 'lease bytes');
    assert.equal(l.points, recs.reduce((n, i) => n + m.recs[i]!.points, 0), 'lease points');
    if (recs.length > 1) assert.ok(bytes <= maxBytes, `a merged lease of ${bytes} bytes exceeds ${maxBytes}`);
    for (const i of recs) m.leased.get(b)!.add(i);
    m.held.push({ backend: b, lease: l, recs });
    this.counts.leases++;
    if (recs.length > 1) this.counts.merged++;
  }

  private leasable(b: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`backend ${b}: its backlog on disk was never read back`)), 5000);
      this.waiters.set(b, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private finishLease(how: 'ack' | 'release'): void {
    const m = this.model;
    if (m.held.length === 0) return;
    const [h] = m.held.splice(this.rnd(m.held.length), 1);
    this.history.push(`${how} ${h!.backend} [${h!.recs.join(',')}]`);
    if (how === 'ack') {
      this.queue(h!.backend).ack(h!.lease);
      m.finish(h!.backend, h!.recs);
      this.counts.acks++;
    } else {
      this.queue(h!.backend).release(h!.lease);
      for (const i of h!.recs) m.leased.get(h!.backend)!.delete(i);
      this.counts.releases++;
    }
  }

  private async checkpoint(): Promise<void> {
    this.history.push('checkpoint');
    await this.spool.checkpoint();
    for (const b of BACKENDS) this.model.checkpointed.set(b, this.model.cursor(b));
    this.counts.checkpoints++;
  }

  async reopen(): Promise<void> {
    this.history.push('close, reopen');
    await this.spool.close();
    const cursors = new Map(BACKENDS.map((b) => [b, this.model.cursor(b)]));
    await this.open(this.dir);
    this.model.restart((b) => cursors.get(b)!);
    this.counts.reopens++;
  }

  private async crash(): Promise<void> {
    const m = this.model;
    const flying = this.rnd(2) === 0 ? this.rnd(5) : 0;
    this.history.push(`crash with ${flying} appends in flight`);
    const recs = Array.from({ length: flying }, () => this.newRec());
    const outcomes = recs.map((r) =>
      this.spool.append(r.batch).then(
        () => true,
        (err: unknown) => {
          if (err instanceof SpoolFullError) return false;
          throw err;
        },
      ),
    );
    // The copy is taken at once (before the appends reach the disk), after a few turns, or beside the writes.
    const copy = await tempDir();
    const filter = (src: string) => !src.endsWith('LOCK.sock');
    const when = this.rnd(3);
    for (let i = 0; i < when; i++) await new Promise(setImmediate);
    if (when < 2) cpSync(this.dir, copy, { recursive: true, filter });
    else await cp(this.dir, copy, { recursive: true, filter });
    const taken = await Promise.all(outcomes);
    const old = this.spool;
    const oldDir = this.dir;
    await this.open(copy);
    await old.close();
    await rm(oldDir, { recursive: true, force: true });

    // Appends in flight: those accepted may have reached the copy, a prefix of them in log order.
    const candidates = recs.filter((_, i) => taken[i]);
    const base = BACKENDS.map((b) => m.recs.length - m.checkpointed.get(b)!);
    const survived = this.queue(BACKENDS[0]!).length - base[0]!;
    assert.ok(survived >= 0 && survived <= candidates.length, `after a crash ${survived} of ${candidates.length} appends in flight came back`);
    for (const r of candidates.slice(0, survived)) m.add(r);
    this.counts.inFlightSurvived += survived;
    this.counts.inFlightLost += candidates.length - survived;
    this.drops = [];
    m.restart((b) => m.checkpointed.get(b)!);
    this.counts.crashes++;
  }

  /** Leases and acks everything left, in order, waiting for the disk where needed. */
  async drainAll(): Promise<void> {
    const m = this.model;
    for (const b of BACKENDS) {
      const q = this.queue(b);
      const got: number[] = [];
      for (;;) {
        const l = q.lease(this.rnd(2) ? Infinity : 0);
        if (!l) {
          if (q.length === 0) break;
          await this.leasable(b);
          continue;
        }
        got.push(...l.batches.map((x) => m.index.get(x.body.toString())!));
        q.ack(l);
      }
      assert.deepEqual(got, m.live.get(b), `backend ${b}: the final drain`);
    }
  }
}

async function runOnce(variant: Variant, seed: number): Promise<Counts> {
  const run = new Run(variant, seed);
  await run.open(await tempDir());
  let op = 0;
  try {
    run.check();
    for (; op < OPS; op++) {
      await run.step();
      run.check();
    }
    await run.reopen();
    run.check();
    await run.drainAll();
    return run.counts;
  } catch (err) {
    const where = `PROPERTY_SEED=${seed} (when-full ${variant.whenFull}, fsync ${variant.fsync}) failed at op ${op}`;
    const tail = run.history.slice(-15).join('\n  ');
    throw new Error(`${where}: ${(err as Error).message}\nlast ops:\n  ${tail}`, { cause: err });
  } finally {
    await run.spool.close();
  }
}

describe('spool against a model (random operations, restarts and crashes)', () => {
  const only = process.env.PROPERTY_SEED;
  for (const variant of VARIANTS) {
    for (const seed of only !== undefined ? [Number(only)] : variant.seeds) {
      test(`when-full ${variant.whenFull}, fsync ${variant.fsync}, seed ${seed}: ${OPS} operations`, async () => {
        const counts = await runOnce(variant, seed);
        if (process.env.SPOOL_TEST_DEBUG) console.log(variant, seed, counts);
        // The run exercised what it claims to.
        assert.ok(counts.reopens > 0 && counts.crashes > 0 && counts.merged > 0 && counts.catchingUp > 0 && counts.inMemory > 0, JSON.stringify(counts));
        if (variant.whenFull === 'reject') assert.ok(counts.refused > 0, JSON.stringify(counts));
        else assert.ok(counts.drops > 0, JSON.stringify(counts));
      });
    }
  }
});
