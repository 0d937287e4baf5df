/**
 * Cuts a byte stream (TCP) into complete lines: what a chunk ends with after its last '\n' is carried into the next
 * chunk, so the scanner only ever sees whole lines.
 *
 * Invariants:
 * - Every output segment holds whole lines (each ending in '\n'), so each can be scanned on its own.
 * - Output segments are slices of the input chunks (no copy), except a line completed from a carried head: that one
 *   line is copied (the carried head is a copy too, so a small tail does not pin a large chunk).
 * - No line longer than maxLineBytes (without its '\n') is ever output or held: the carry is bounded, and a line
 *   that grows past the bound is discarded up to its '\n' and reported once through onTooLong.
 * - Lines end at every '\n', as Telegraf's socket_listener reads a stream; a '\n' inside a quoted string field must
 *   be sent escaped (`\n`), as Telegraf's serializer does.
 */
const LF = 0x0a;
const NEWLINE = Buffer.from('\n');

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside a line already found too long: drop bytes until its '\n'. */
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onTooLong: () => void,
  ) {}

  /** Bytes of the unfinished line held back. */
  get carried(): number {
    return this.carryBytes;
  }

  /** Appends the complete lines of `chunk` (with any carried head) to `out` as whole-line segments; returns their bytes. */
  push(chunk: Buffer, out: Buffer[]): number {
    let start = 0;
    if (this.discarding) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) return 0;
      this.discarding = false;
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last < start) {
      this.hold(chunk, start);
      return 0;
    }
    let added = 0;
    // The first line: carried head + this chunk's start.
    const first = chunk.indexOf(LF, start);
    if (this.carryBytes + first - start > this.maxLineBytes) {
      this.onTooLong();
    } else {
      const head = chunk.subarray(start, first + 1);
      out.push(this.carry.length === 0 ? head : Buffer.concat([...this.carry, head]));
      added += this.carryBytes + head.length;
    }
    this.carry = [];
    this.carryBytes = 0;
    // The lines after it: only a region longer than the limit can hold a line that is too long.
    if (last > first) {
      added += last - first <= this.maxLineBytes
        ? this.emit(out, chunk.subarray(first + 1, last + 1))
        : this.emitChecked(out, chunk, first + 1, last + 1);
    }
    this.hold(chunk, last + 1);
    return added;
  }

  /** At the end of the stream: the unterminated last line, with a '\n' added (undefined if none). */
  end(): Buffer | undefined {
    const tail = this.carry;
    this.carry = [];
    this.carryBytes = 0;
    this.discarding = false;
    if (tail.length === 0) return undefined;
    return Buffer.concat([...tail, NEWLINE]);
  }

  private emit(out: Buffer[], segment: Buffer): number {
    out.push(segment);
    return segment.length;
  }

  /** Emits the lines of chunk[from, to) (to is just past a '\n'), leaving out those longer than the limit. */
  private emitChecked(out: Buffer[], chunk: Buffer, from: number, to: number): number {
    let added = 0;
    let runStart = from; // start of a run of acceptable lines, emitted as one slice
    let i = from;
    while (i < to) {
      const nl = chunk.indexOf(LF, i);
      if (nl - i > this.maxLineBytes) {
        if (i > runStart) added += this.emit(out, chunk.subarray(runStart, i));
        this.onTooLong();
        runStart = nl + 1;
      }
      i = nl + 1;
    }
    if (to > runStart) added += this.emit(out, chunk.subarray(runStart, to));
    return added;
  }

  /** Carries chunk[from..] (a line without its '\n' yet), or starts discarding it when it is already too long. */
  private hold(chunk: Buffer, from: number): void {
    const n = chunk.length - from;
    if (n === 0) return;
    if (this.carryBytes + n > this.maxLineBytes) {
      this.onTooLong();
      this.carry = [];
      this.carryBytes = 0;
      this.discarding = true;
      return;
    }
    this.carry.push(Buffer.from(chunk.subarray(from)));
    this.carryBytes += n;
  }
}
