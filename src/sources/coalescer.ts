/**
 * Validated lines from a stream (a TCP connection, a UDP socket) gathered into one batch: cut when it holds
 * `maxBytes`, or `maxDelayMs` after its first line, whichever comes first. One batch per cut keeps requests to the
 * backends few and large without holding a line longer than the delay. The batch's receipt time is its first line's.
 */
import { makeBatch, type Batch, type WriteTarget } from '../batch.js';

export class Coalescer {
  private parts: Buffer[] = [];
  private bytes = 0;
  private points = 0;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: WriteTarget,
    private readonly maxBytes: number,
    private readonly maxDelayMs: number,
    /** Receives each batch cut. Called from a timer too: it must not throw. */
    private readonly emit: (batch: Batch) => void,
  ) {}

  /** Bytes gathered and not cut yet. */
  get pendingBytes(): number {
    return this.bytes;
  }

  add(body: Buffer, points: number): void {
    // A batch stays within maxBytes unless one body alone is larger.
    if (this.bytes > 0 && this.bytes + body.length > this.maxBytes) this.cut();
    if (this.bytes === 0) {
      this.since = Date.now();
      this.timer = setTimeout(() => this.cut(), this.maxDelayMs);
    }
    this.parts.push(body);
    this.bytes += body.length;
    this.points += points;
    if (this.bytes >= this.maxBytes) this.cut();
  }

  /** Hands on what is gathered now (nothing when empty). */
  cut(): void {
    this.stop();
    if (this.bytes === 0) return;
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    const batch = makeBatch(this.target, body, this.points, this.since);
    this.parts = [];
    this.bytes = 0;
    this.points = 0;
    this.emit(batch);
  }

  /** Stops the delay timer (what is gathered stays until cut). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
