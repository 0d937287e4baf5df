/**
 * A cheap running summary of one backend's memory backlog: per (db, rp), the points still queued and the time
 * range they may span. The ledger persists it every few seconds, so that after a crash in memory mode (no spool)
 * the range of what the backend never got is known (it becomes an 'unclean-stop' missed window).
 *
 * Invariant (a conservative superset): a (db, rp)'s range covers every batch added since its point count was
 * last zero. Removing a batch does not shrink the range (the exact min after a removal would need every queued
 * batch's range); the range resets when the count reaches zero, which a healthy backend does all the time.
 * Counts are kept in points, not batches, so a batch removed in parts (split after a 413) still balances.
 */
import type { Batch } from '../batch.js';
import { batchTimeRange, type TimeRange } from './time-range.js';

/** What a backend's backlog holds for one (db, rp). */
export interface BacklogRange {
  readonly db: string;
  readonly rp: string;
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly points: number;
}

interface Entry {
  readonly db: string;
  readonly rp: string;
  points: number;
  fromNs: bigint | undefined;
  toNs: bigint | undefined;
}

export class BacklogTracker {
  private readonly entries = new Map<string, Entry>();
  /** Bumped on every change: the ledger persists a summary only when this moved. */
  version = 0;

  /**
   * A batch entered the backend's queue. `range` saves the body scan when the caller already has it.
   * Costs one pass over the body (batchTimeRange).
   */
  add(batch: Batch, range: TimeRange | undefined = batchTimeRange(batch)): void {
    if (batch.statement) return; // no points: a statement leaving the queue must not end its db's entry either
    const key = `${batch.target.db}\u0000${batch.target.rp}`;
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { db: batch.target.db, rp: batch.target.rp, points: 0, fromNs: undefined, toNs: undefined };
      this.entries.set(key, e);
    }
    e.points += batch.points;
    if (range !== undefined) {
      if (e.fromNs === undefined || range.minNs < e.fromNs) e.fromNs = range.minNs;
      if (e.toNs === undefined || range.maxNs > e.toNs) e.toNs = range.maxNs;
    }
    this.version++;
  }

  /** A batch (or part of one) left the queue: delivered, dropped or dead-lettered. O(1), no body scan. */
  remove(batch: Pick<Batch, 'target' | 'points' | 'statement'>): void {
    if (batch.statement) return;
    const key = `${batch.target.db}\u0000${batch.target.rp}`;
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.points -= batch.points;
    if (e.points <= 0) this.entries.delete(key);
    this.version++;
  }

  /** The queue was emptied at once. */
  clear(): void {
    if (this.entries.size === 0) return;
    this.entries.clear();
    this.version++;
  }

  /** The current summary; (db, rp)s whose batches had no stamped line are left out. */
  summary(): BacklogRange[] {
    const out: BacklogRange[] = [];
    for (const e of this.entries.values()) {
      if (e.fromNs === undefined || e.toNs === undefined) continue;
      out.push({ db: e.db, rp: e.rp, fromNs: e.fromNs, toNs: e.toNs, points: e.points });
    }
    return out;
  }
}
