/**
 * The scanner's fast path as WebAssembly (fast-line.c, built into fast-line-wasm.ts by `make wasm`): the same
 * verdicts as scanner.ts's fastLine, two to three times faster per byte than the JS loops. It validates runs of
 * lines the fast path takes and writes their output plan; scanner.ts copies the plan into its own and sends the line
 * it stopped at through the exact path, as it does with its JS fast path.
 *
 * One instance per thread (module state, like the scanner's). The input is copied into the instance's memory (a
 * memcpy: a few percent of the scan), then a '\n' sentinel, so the body's last line needs no copy of its own.
 * After a body larger than KEEP_BYTES the instance is dropped with its memory (WebAssembly memory never shrinks).
 */
import { FAST_LINE_WASM } from './fast-line-wasm.js';
import { PRECISIONS, type Precision } from './precision.js';

interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  run(input: number, len: number, pos: number, lastLF: number, precision: number, unsigned: number, ops: number, opsCap: number): number;
  points(): number;
  stamped(): number;
  ops(): number;
}

const PAGE = 65536;
/** Plan triples per run; a run that fills them is simply continued (the plan is copied out after each run). */
const OPS_CAP = 4096;
const KEEP_BYTES = 16 << 20;
const PRECISION_INDEX = Object.fromEntries(PRECISIONS.map((p, i) => [p, i])) as Record<Precision, number>;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly is unavailable (the scanner then uses its JS fast path). */
function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(FAST_LINE_WASM, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export class WasmFastPath {
  private exports: Exports;
  private inputAt = 0;
  private opsAt = 0;
  private len = 0;
  /** What the last run() did. */
  points = 0;
  stamped = 0;
  /** The last run's plan: (start, end, op) triples, `opCount` of them; valid until the next load(). */
  plan = new Int32Array(0);
  opCount = 0;

  private constructor(private readonly mod: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(mod).exports as unknown as Exports;
  }

  static create(): WasmFastPath | undefined {
    const mod = module();
    return mod ? new WasmFastPath(mod) : undefined;
  }

  /**
   * Copies the input (and the sentinel) in; the plan area follows it. False when the memory cannot grow to hold it
   * (the scanner then takes its JS path for this body).
   */
  load(input: Buffer): boolean {
    const base = this.exports.__heap_base.value as number;
    this.inputAt = base;
    this.len = input.length;
    this.opsAt = (base + input.length + 1 + 7) & ~7;
    const need = this.opsAt + OPS_CAP * 12;
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < need) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      } catch {
        return false;
      }
    }
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(input, this.inputAt);
    bytes[this.inputAt + input.length] = 0x0a;
    this.plan = new Int32Array(memory.buffer, this.opsAt, OPS_CAP * 3);
    return true;
  }

  /**
   * Validates lines from `pos` while the fast path takes them; returns where it stopped (the end, or a line for the
   * exact path). `full` is true when it stopped only because the plan area was full: call it again from there.
   */
  run(pos: number, lastLF: number, precision: Precision, unsigned: boolean): number {
    const e = this.exports;
    const next = e.run(this.inputAt, this.len, pos, lastLF, PRECISION_INDEX[precision], unsigned ? 1 : 0, this.opsAt, OPS_CAP);
    this.points = e.points();
    this.stamped = e.stamped();
    this.opCount = e.ops();
    return next;
  }

  get full(): boolean {
    return this.opCount === OPS_CAP;
  }

  /** After a large body, starts over with a small memory. */
  release(): void {
    if (this.exports.memory.buffer.byteLength > KEEP_BYTES) {
      this.exports = new WebAssembly.Instance(this.mod).exports as unknown as Exports;
      this.plan = new Int32Array(0);
    }
  }
}
