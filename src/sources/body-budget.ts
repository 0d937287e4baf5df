/**
 * The relay-wide budget of request bodies in flight, in decoded bytes (`max-bodies-in-flight-mb`). One object is
 * shared by every HTTP listener: `max-body-size-mb` bounds one request, this bounds all of them together, so many
 * concurrent uploads cannot take the process's memory.
 *
 * A request reserves what its Content-Length announces before its body is read (and is refused with 503 when that does
 * not fit), grows its reservation as decoded bytes arrive (chunked or gzip bodies), and releases it once answered.
 * Invariant: `usedBytes` is the sum of the live reservations and never exceeds `limitBytes`.
 */
export interface BodyReservation {
  /** Bytes held now. */
  readonly bytes: number;
  /** Grows the reservation to at least `total` bytes; false (nothing changed) when the budget has no room for it. */
  ensure(total: number): boolean;
  /** Gives every byte back. Idempotent. */
  release(): void;
}

export class BodyBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /**
   * A reservation of `bytes` now, or undefined when they do not fit. A request that announces no size still needs
   * some room: a budget that is full refuses it too.
   */
  reserve(bytes = 0): BodyReservation | undefined {
    if (this.used + Math.max(1, bytes) > this.limitBytes) return undefined;
    this.used += bytes;
    let held = bytes;
    let released = false;
    return {
      get bytes() {
        return held;
      },
      ensure: (total: number): boolean => {
        if (released) return false;
        if (total <= held) return true;
        if (this.used + (total - held) > this.limitBytes) return false;
        this.used += total - held;
        held = total;
        return true;
      },
      release: (): void => {
        if (released) return;
        released = true;
        this.used -= held;
        held = 0;
      },
    };
  }
}
