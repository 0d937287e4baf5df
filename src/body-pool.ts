/**
 * Reused memory for large HTTP request bodies. A fresh buffer per body (about 100 KB for 1,000 lines) is external
 * memory to V8, and at a million points per second that alone started a full GC every second or so; a body read
 * into memory that the relay already holds costs no GC at all.
 *
 * A pooled body is owned: the write pipeline holds it while it scans and hands it on, and each memory queue that
 * takes its batch holds it until the batch leaves that queue (delivered, refused, dead-lettered or evicted). When the
 * last owner lets go, the memory goes back to the pool, and the next body is read into it. So a body returned too
 * early would send another write's bytes to a replica: the rules that keep that from happening are
 * - only memory queues own bodies: a listener with a spool gets no pool (its views keep batches the pool cannot see);
 * - nothing reads a body after its last owner let go, except in the same synchronous step (a missed window's time
 *   range, a 413's oversized lines): the memory returns only on the next turn of the event loop;
 * - a queue that is abandoned at shutdown never lets go: requests in flight may still be writing those bodies.
 * `check` mode (INFLUX_RELAY_BODY_POOL_CHECK=1, which `make test` sets) pools every body with a Content-Length, however
 * small, so that every write path of the test suite runs on pooled memory; it overwrites returned memory with NUL
 * bytes and reuses it only after many more returns, so that any read after the last owner let go fails loudly.
 */

/** Smaller bodies come from node's own small-buffer pool or one socket chunk: pooling them saves nothing. */
export const POOLED_MIN_BYTES = 64 * 1024;
/** Larger bodies are rare; each gets memory of its own, freed by the GC. */
export const POOLED_MAX_BYTES = 8 * 1024 * 1024;
/** In check mode, returned memory waits behind this many other returns (and at most this many bytes) before reuse. */
const CHECK_QUARANTINE = 256;
const CHECK_QUARANTINE_BYTES = 64 * 1024 * 1024;

/** The owners of one pooled body: `hold` before keeping it past the current step, `drop` once done with it. */
export interface BodyOwners {
  hold(): void;
  drop(): void;
}

/**
 * Size classes are quarter steps between powers of two (64, 80, 96, 112, 128, 160 KB, ...), so that bodies of slightly
 * different sizes share memory and a body wastes at most a fifth of what it is given (with powers of two alone, a
 * 1.1 MB body took 2 MB, and 64 such bodies in flight held 60 MB more than they needed).
 */
export function sizeClass(bytes: number): number {
  const power = 2 ** Math.floor(Math.log2(bytes));
  const quarter = power / 4;
  return power + Math.ceil((bytes - power) / quarter) * quarter;
}

export class BodyPool {
  /** Idle memory by size class. */
  private readonly idle = new Map<number, ArrayBuffer[]>();
  private idleBytes = 0;
  /** Memory whose last owner let go in this turn of the event loop: it becomes idle on the next. */
  private returning: ArrayBuffer[] = [];
  private readonly quarantine: ArrayBuffer[] = [];
  private quarantineBytes = 0;
  /** Memory handed out and not returned yet. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  /** Bodies from this size on are pooled (read into memory of their announced size: http-body.ts). */
  readonly minBytes: number;

  constructor(
    /** Idle memory kept for the next bodies; what is returned beyond it is left to the GC. 0: no pooling. */
    private readonly maxIdleBytes: number,
    private readonly check = false,
    /** Told of each body served: from idle memory (reused) or new memory. */
    private readonly served: (reused: boolean) => void = () => undefined,
  ) {
    this.minBytes = check && maxIdleBytes > 0 ? 1 : POOLED_MIN_BYTES;
  }

  /** A buffer of exactly `length` bytes for a body, or undefined when the pool does not serve that size. */
  take(length: number): Buffer | undefined {
    if (this.maxIdleBytes === 0 || length < this.minBytes || length > POOLED_MAX_BYTES) return undefined;
    const size = sizeClass(length);
    let memory = this.idle.get(size)?.pop();
    const reused = memory !== undefined;
    if (memory) this.idleBytes -= size;
    else {
      try {
        memory = new ArrayBuffer(size);
      } catch {
        return undefined; // no memory for a new one: the caller allocates as it would without a pool
      }
    }
    this.served(reused);
    this.lent.add(memory);
    return Buffer.from(memory, 0, length);
  }

  /**
   * The owners of a body the pool lent (the caller is the first; drop() when done), or undefined for any other
   * buffer, which the GC frees as usual.
   */
  owners(body: Buffer): BodyOwners | undefined {
    const memory = body.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.lent.has(memory)) return undefined;
    let count = 1;
    return {
      hold: () => {
        if (count === 0) throw new Error('BUG: a pooled body was held after its last owner let go');
        count++;
      },
      drop: () => {
        if (count === 0) throw new Error('BUG: a pooled body was let go more often than it was held');
        if (--count === 0) this.giveBack(memory);
      },
    };
  }

  /** Memory lent but never handed on (a body refused while it was read): no one else saw it. */
  giveBack(memoryOrBody: ArrayBuffer | Buffer): void {
    const memory = memoryOrBody instanceof ArrayBuffer ? memoryOrBody : memoryOrBody.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.lent.delete(memory)) return;
    if (this.returning.push(memory) === 1) setImmediate(() => this.settleReturns());
  }

  /** Idle bytes held for the next bodies (influx_relay_body_pool_idle_bytes). */
  get idleByteCount(): number {
    return this.idleBytes;
  }

  private settleReturns(): void {
    const returned = this.returning;
    this.returning = [];
    for (let memory of returned) {
      if (this.check) {
        new Uint8Array(memory).fill(0);
        this.quarantine.push(memory);
        this.quarantineBytes += memory.byteLength;
        if (this.quarantine.length <= CHECK_QUARANTINE && this.quarantineBytes <= CHECK_QUARANTINE_BYTES) continue;
        memory = this.quarantine.shift()!;
        this.quarantineBytes -= memory.byteLength;
      }
      const size = memory.byteLength;
      if (this.idleBytes + size > this.maxIdleBytes) continue;
      let list = this.idle.get(size);
      if (!list) this.idle.set(size, (list = []));
      list.push(memory);
      this.idleBytes += size;
    }
  }
}
