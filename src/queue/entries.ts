/**
 * The core both queues share (the memory queue and the spool's views): batches in an array from `head`, each in one
 * state, leased in runs, dropped from the head once done. Acks may arrive out of order when a backend has several
 * requests in flight, so done entries are marked and the head advances past them.
 *
 * States: RESERVED (a spool entry whose append is not durable yet: not leasable), PENDING, LEASED, DONE (acked or
 * dropped). The memory queue never uses RESERVED.
 *
 * The slots before `head` are emptied as the head passes them: a done batch must not stay reachable from the array
 * until the next reallocation (up to COMPACT_AFTER batches: a gigabyte of 1 MB bodies held past `buffer-size-mb`).
 */
import type { Batch } from '../batch.js';

export const RESERVED = 0;
export const PENDING = 1;
export const LEASED = 2;
export const DONE = 3;

export interface QueueEntry {
  readonly batch: Batch;
  state: number;
}

export interface Run<E> {
  readonly taken: E[];
  readonly batches: Batch[];
  readonly bytes: number;
  readonly points: number;
}

/** A dead prefix longer than this (and than the live part) is cut off by reallocating. */
const COMPACT_AFTER = 1024;

export class Entries<E extends QueueEntry> {
  /** Undefined before `head` (dropped), defined from it on. */
  private list: Array<E | undefined>;
  private head = 0;

  constructor(initial: E[] = []) {
    this.list = initial;
  }

  /** The first entry not dropped from the head (it may be DONE until compact() runs). */
  get first(): E | undefined {
    return this.list[this.head];
  }

  get last(): E | undefined {
    return this.list[this.list.length - 1];
  }

  push(e: E): void {
    this.list.push(e);
  }

  /** Takes the newest entry off the tail (a spool rollback). */
  pop(): E | undefined {
    const e = this.list.pop();
    if (this.head > this.list.length) this.head = this.list.length;
    return e;
  }

  /** Entries from the head on, oldest first. */
  *live(): IterableIterator<E> {
    for (let i = this.head; i < this.list.length; i++) yield this.list[i]!;
  }

  /**
   * Leases the first pending entry and the pending entries right after it that share its merge key, while the total
   * stays within maxBytes (the first is taken whatever its size); undefined when none is pending.
   */
  lease(maxBytes: number): Run<E> | undefined {
    const entries = this.list;
    let i = this.head;
    while (i < entries.length && entries[i]!.state !== PENDING) i++;
    const first = entries[i];
    if (!first) return undefined;
    const taken: E[] = [first];
    const batches: Batch[] = [first.batch];
    let bytes = first.batch.body.length;
    let points = first.batch.points;
    for (let j = i + 1; j < entries.length; j++) {
      const e = entries[j]!;
      if (e.state !== PENDING || e.batch.key !== first.batch.key || bytes + e.batch.body.length > maxBytes) break;
      taken.push(e);
      batches.push(e.batch);
      bytes += e.batch.body.length;
      points += e.batch.points;
    }
    for (const e of taken) e.state = LEASED;
    return { taken, batches, bytes, points };
  }

  /** Drops DONE entries from the head; reallocates the array only when the dead prefix is large. */
  compact(): void {
    const entries = this.list;
    while (this.head < entries.length && entries[this.head]!.state === DONE) entries[this.head++] = undefined;
    if (this.head === entries.length) {
      this.list = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > entries.length) {
      this.list = entries.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.list = [];
    this.head = 0;
  }
}
