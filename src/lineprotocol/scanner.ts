/**
 * Line-protocol scanner: validates a body line by line as InfluxDB 1.x would, keeps the valid lines byte for byte,
 * stamps the ones without a timestamp, and reports the invalid ones with InfluxDB's reason.
 *
 * Invariants:
 * - Valid bytes are never re-serialized: the output is a list of byte ranges of the input (plus stamps and '\n's).
 *   When nothing needs changing the input Buffer itself is returned (zero copy).
 * - The fast path (fastLine) allocates nothing: byte-class tables, offsets, digit-count range checks. It accepts only
 *   lines whose meaning is unambiguous and returns BAIL for anything else; the exact path (exact-parser.ts, a port of
 *   InfluxDB's parser) then decides, so both paths always agree with InfluxDB.
 * - The fast path runs as WebAssembly (fast-line.c, the same code in C; wasm-fast-path.ts) where available: about
 *   2.5 times faster than fastLine on Telegraf's lines. fastLine stays as its fallback and its reference.
 * - Line boundaries are InfluxDB's: a quoted string field may contain '\n'.
 * - The scanner knows nothing of sockets: any Buffer of complete lines will do (HTTP body, TCP chunk, UDP datagram).
 *   It is synchronous and not re-entrant (module-level scratch state), which is fine on one JS thread.
 */
import * as charclass from './charclass.js';
import { exactBlockEnd, exactParse, exactResult } from './exact-parser.js';
import { nowIn } from './precision.js';
import type { Precision } from './precision.js';
import { WasmFastPath } from './wasm-fast-path.js';

export interface ScanOptions {
  /** Request precision; used to stamp and to range-check timestamps. */
  precision: Precision;
  /** Decimal timestamp appended (" " + stamp) to lines lacking one; if absent, nowIn(precision) once, when needed. */
  stamp?: string;
  /** How many LineError objects to keep (default 10); errorCount counts all. */
  maxErrors?: number;
  /**
   * Accept unsigned integers (`1u`, uint64 range). Default false: InfluxDB 1.x ships with them disabled and
   * answers "invalid number", so accepting them here would only move the rejection to every backend.
   */
  unsigned?: boolean;
}

export interface LineError {
  /** 1-based line number in the input (of the line's first byte). */
  line: number;
  /** The offending line without leading blanks and without the newline/CR, cut to at most 1024 chars. */
  text: string;
  /** InfluxDB's wording, e.g. "missing fields". */
  reason: string;
}

export interface ScanResult {
  /** Only the valid lines, each ending in '\n', stamped where needed; the input itself when already clean. */
  body: Buffer;
  /** Valid lines. */
  points: number;
  /** Lines that got the stamp. */
  stamped: number;
  errors: LineError[];
  errorCount: number;
}

// Module-local bindings on purpose: V8 re-reads an imported binding at every use, which made the byte loops
// ~1.5x slower; module-local constants are folded.
const { C, CH, FIELD_KEY, LINE_START, MEASUREMENT, STRING, TAG, VALUE_START, WHITESPACE } = charclass;

const DEFAULT_MAX_ERRORS = 10;
const MAX_TEXT_CHARS = 1024;
const BAIL = -1;
/** The output plan stores offsets as int32; body-size limits keep inputs far below this. */
const MAX_INPUT = 0x7fff_fffe;

/** Limits as ASCII digits: magnitudes are compared by digit count, then digit by digit (no allocation). */
function digits(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}
const INT64_MAX = digits('9223372036854775807');
const INT64_MIN_ABS = digits('9223372036854775808');
const UINT64_MAX = digits('18446744073709551615');
/** Largest |timestamp| per precision: InfluxDB accepts t * multiplier within ±(2^63 - 2) ns. */
const TIME_LIMIT: Readonly<Record<Precision, Uint8Array>> = {
  n: digits('9223372036854775806'),
  u: digits('9223372036854775'),
  ms: digits('9223372036854'),
  s: digits('9223372036'),
  m: digits('153722867'),
  h: digits('2562047'),
};
/** A line this short cannot exceed InfluxDB's 65535-byte series key (key + 4 + field key). */
const MAX_FAST_LINE = 65531;
/** Integers of at most this many digits are below 2^63 (19 digits): no range check needed. */
const MAX_INLINE_INT_DIGITS = 18;
/** Tag sets larger than this go to the exact path (it sorts; the fast path compares pairs). */
const MAX_FAST_TAGS = 32;

// Fast-path outputs and scratch (see the header: synchronous, not re-entrant).
let fContentEnd = 0;
let fHasTime = false;
const tagKeys = new Int32Array(2 * MAX_FAST_TAGS);

/** Output plan: (start, end, op) triples over the input. */
const OP_AS_IS = 0;
const OP_NEWLINE = 1;
const OP_STAMP = 2;
const OPS_INITIAL = 3 * 64;
/** After a huge rewritten body, do not keep its plan's memory around. */
const OPS_KEEP = 3 * 65536;
let ops = new Int32Array(OPS_INITIAL);
let nOps = 0;

/**
 * The fast path in WebAssembly (wasm-fast-path.ts), made on first use; null until then, undefined where WebAssembly
 * is unavailable (fastLine below runs instead).
 */
let wasm: WasmFastPath | undefined | null = null;
/** 'auto': WebAssembly for bodies of WASM_MIN_BYTES and more. Tests force one path or the other. */
let choice: 'auto' | 'wasm' | 'js' = 'auto';
/** Below this, a call into WebAssembly (copy in, plan out) costs more than it saves: one or two lines. */
const WASM_MIN_BYTES = 512;

/** Chooses the fast path: 'auto' (the default), or always 'wasm' or always 'js' (tests compare the two). */
export function useFastPath(kind: 'auto' | 'wasm' | 'js'): void {
  choice = kind;
}

/** Which fast path a body of `length` bytes takes now. */
export function fastPathFor(length: number): 'wasm' | 'js' {
  if (choice === 'js' || (choice === 'auto' && length < WASM_MIN_BYTES)) return 'js';
  if (wasm === null) wasm = WasmFastPath.create();
  return wasm ? 'wasm' : 'js';
}

export function scanLines(input: Buffer, opts: ScanOptions): ScanResult {
  const len = input.length;
  if (len > MAX_INPUT) throw new RangeError(`scanLines: input of ${len} bytes exceeds ${MAX_INPUT} (offsets are int32)`);
  const precision = opts.precision;
  const unsigned = opts.unsigned ?? false;
  const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const tsLimit = TIME_LIMIT[precision];
  const errors: LineError[] = [];
  let points = 0;
  let stamped = 0;
  let errorCount = 0;
  let lineNo = 1;
  let lineNoAt = 0; // line numbers are counted lazily, only when an error is kept
  nOps = 0;

  const lastLF = input.lastIndexOf(CH.LF);
  const fast = len > 0 && fastPathFor(len) === 'wasm' && wasm!.load(input) ? wasm! : undefined;
  let pos = 0;
  while (pos < len) {
    if (fast) {
      // Runs of lines the fast path takes, in WebAssembly; then the line it stopped at goes to the exact path.
      for (;;) {
        pos = fast.run(pos, lastLF, precision, unsigned);
        points += fast.points;
        stamped += fast.stamped;
        const plan = fast.plan;
        for (let k = 0; k < 3 * fast.opCount; k += 3) addOp(plan[k]!, plan[k + 1]!, plan[k + 2]!);
        if (!fast.full || pos >= len) break;
      }
      if (pos >= len) break;
    } else if (LINE_START[input[pos]!] === 0) {
      const end = pos < lastLF ? fastLine(input, pos, lastLF, tsLimit, unsigned) : fastTail(input, pos, len, tsLimit, unsigned);
      if (end !== BAIL) {
        points++;
        if (!fHasTime) {
          stamped++;
          addOp(pos, fContentEnd, OP_STAMP);
        } else if (fContentEnd === end && end < len) addOp(pos, end + 1, OP_AS_IS);
        else addOp(pos, fContentEnd, OP_NEWLINE);
        pos = end + 1;
        continue;
      }
    }

    // Exact path: InfluxDB's own line boundary, blank/comment rules and verdict.
    const blockEnd = exactBlockEnd(input, pos, len);
    let contentEnd = blockEnd;
    if (contentEnd > pos && input[contentEnd - 1] === CH.LF) contentEnd--; // a quoted '\n' at the very end
    if (contentEnd > pos && input[contentEnd - 1] === CH.CR) contentEnd--; // CRLF (our one deviation)
    let start = pos;
    while (start < contentEnd && WHITESPACE[input[start]!] === 1) start++;
    if (start < contentEnd && input[start] !== CH.HASH) {
      const reason = exactParse(input, start, contentEnd, precision, unsigned);
      if (reason === undefined) {
        points++;
        if (!exactResult.hasTime) {
          stamped++;
          addOp(start, exactResult.fieldsEnd, OP_STAMP);
        } else if (start === pos && contentEnd === blockEnd && blockEnd < len) addOp(pos, blockEnd + 1, OP_AS_IS);
        else addOp(start, contentEnd, OP_NEWLINE);
      } else {
        errorCount++;
        if (errors.length < maxErrors) {
          lineNo += countNewlines(input, lineNoAt, pos);
          lineNoAt = pos;
          errors.push({ line: lineNo, text: lineText(input, start, contentEnd), reason });
        }
      }
    }
    pos = blockEnd + 1;
  }

  fast?.release();
  const body = buildBody(input, stamped > 0 ? stampBytes(opts) : undefined);
  if (ops.length > OPS_KEEP) ops = new Int32Array(OPS_INITIAL);
  return { body, points, stamped, errors, errorCount };
}

/**
 * InfluxDB-style message for a 400 body: "unable to parse '<line>': <reason> (and N other parse errors)".
 * Empty when there were no errors.
 */
export function describeParseErrors(r: Pick<ScanResult, 'errors' | 'errorCount'>): string {
  const first = r.errors[0];
  if (first === undefined) return r.errorCount > 0 ? `unable to parse ${r.errorCount} lines` : '';
  const more = r.errorCount > 1 ? ` (and ${r.errorCount - 1} other parse errors)` : '';
  return `unable to parse '${first.text}': ${first.reason}${more}`;
}

/**
 * The fast path for a line that may not end with '\n' (the body's last line): scans a copy with '\n' appended,
 * so fastLine's invariant holds. Allocates once per body, only for bodies without a trailing newline.
 */
function fastTail(input: Buffer, p: number, len: number, tsLimit: Uint8Array, unsigned: boolean): number {
  const tmp = Buffer.allocUnsafe(len - p + 1);
  input.copy(tmp, 0, p, len);
  tmp[len - p] = CH.LF;
  if (fastLine(tmp, 0, len - p, tsLimit, unsigned) === BAIL) return BAIL;
  fContentEnd += p;
  return len;
}

/**
 * Validates the line starting at p; `last` is the offset of a '\n' at or after the line's end (the buffer's last
 * '\n'). Every inner loop stops at '\n', so none needs a bounds check: that is most of this path's speed.
 * Returns the offset of the line's '\n' and sets fContentEnd (end without '\r') and fHasTime; BAIL when the line
 * is invalid or unusual (the exact path decides those).
 */
function fastLine(buf: Buffer, p: number, last: number, tsLimit: Uint8Array, unsigned: boolean): number {
  let i = p;
  let c: number;

  // Measurement (cannot start with ',' or a blank: LINE_START sent those to the exact path).
  for (;;) {
    c = MEASUREMENT[buf[i]!]!;
    if (c === C.PLAIN) i++;
    else if (c !== C.BACKSLASH) break;
    else if (escapeOk(buf, i, last)) i += 2;
    else return BAIL;
  }

  // Tags.
  let nTags = 0;
  while (c === C.COMMA) {
    const ks = ++i;
    for (;;) {
      c = TAG[buf[i]!]!;
      if (c === C.PLAIN) i++;
      else if (c !== C.BACKSLASH) break;
      else if (escapeOk(buf, i, last)) i += 2;
      else return BAIL;
    }
    if (c !== C.EQUALS || i === ks || nTags === MAX_FAST_TAGS) return BAIL;
    tagKeys[2 * nTags] = ks;
    tagKeys[2 * nTags + 1] = i;
    nTags++;
    const vs = ++i;
    if (buf[i] === CH.EQUALS) i++; // InfluxDB checks a value's first byte for ',' and ' ' only
    for (;;) {
      c = TAG[buf[i]!]!;
      if (c === C.PLAIN) i++;
      else if (c !== C.BACKSLASH) break;
      else if (escapeOk(buf, i, last)) i += 2;
      else return BAIL;
    }
    if (i === vs || (c !== C.COMMA && c !== C.SPACE)) return BAIL;
  }
  if (c !== C.SPACE) return BAIL;
  if (nTags > 1 && !tagKeysDistinct(buf, nTags)) return BAIL;
  i++;

  // Fields.
  for (;;) {
    const ks = i;
    for (;;) {
      c = FIELD_KEY[buf[i]!]!;
      if (c === C.PLAIN) i++;
      else if (c !== C.BACKSLASH) break;
      else if (escapeOk(buf, i, last)) i += 2;
      else return BAIL;
    }
    if (c !== C.EQUALS || i === ks) return BAIL;

    const v = VALUE_START[buf[++i]!]!;
    if (v === C.NUMBER) {
      // The common cases inline: an unsigned integer (`84i`: up to 18 digits is always within int64), or an
      // unsigned decimal float (`12.5`, `84`, `.25`) ended by a separator. What follows is checked below.
      const ns = i;
      while (isDigit(buf[i]!)) i++;
      c = buf[i]!;
      if (c === CH.I_LOWER && i > ns && i - ns <= MAX_INLINE_INT_DIGITS) i++;
      else {
        if (c === CH.DOT) {
          i++;
          while (isDigit(buf[i]!)) i++;
          c = buf[i]!;
        }
        const plain = c === CH.COMMA || c === CH.SPACE || c === CH.LF || c === CH.CR;
        if (!plain || i - ns > 300 || (i - ns === 1 && buf[ns] === CH.DOT)) i = fastNumber(buf, ns, unsigned);
      }
    } else if (v === C.STRING) i = fastString(buf, i + 1, last);
    else if (v === C.BOOL) i = fastBool(buf, i);
    else return BAIL;
    if (i === BAIL) return BAIL;

    c = buf[i]!;
    if (c === CH.COMMA) i++;
    else if (c === CH.SPACE) break;
    else if (c === CH.LF) return lineEnd(p, i, i, false);
    else if (c === CH.CR && buf[i + 1] === CH.LF) return lineEnd(p, i, i + 1, false);
    else return BAIL;
  }

  // Timestamp: one space, optional '-', digits, then the line's end. Anything else goes to the exact path.
  if (buf[++i] === CH.MINUS) i++;
  const ds = i;
  while (isDigit(buf[i]!)) i++;
  if (i === ds || !withinDigits(buf, ds, i, tsLimit)) return BAIL;
  c = buf[i]!;
  if (c === CH.LF) return lineEnd(p, i, i, true);
  if (c === CH.CR && buf[i + 1] === CH.LF) return lineEnd(p, i, i + 1, true);
  return BAIL;
}

function lineEnd(p: number, contentEnd: number, end: number, hasTime: boolean): number {
  if (contentEnd - p > MAX_FAST_LINE) return BAIL;
  fContentEnd = contentEnd;
  fHasTime = hasTime;
  return end;
}

/**
 * A backslash outside strings escapes the next byte. InfluxDB reads `\\` pairs and escaped newlines differently in
 * different places, and a backslash near the buffer's end differently again: those lines take the exact path.
 */
function escapeOk(buf: Buffer, i: number, last: number): boolean {
  if (i + 2 >= last) return false;
  const n = buf[i + 1];
  return n !== CH.BACKSLASH && n !== CH.LF;
}

/** Float (`1`, `-1.5`, `.5`, `1.`, `1e-3`), integer `1i` (int64) or unsigned `1u` (uint64); returns its end. */
function fastNumber(buf: Buffer, i: number, unsigned: boolean): number {
  const neg = buf[i] === CH.MINUS;
  if (neg) i++;
  const intStart = i;
  while (isDigit(buf[i]!)) i++;
  const intEnd = i;
  let c = buf[i]!;
  let dot = false;
  if (c === CH.DOT) {
    dot = true;
    i++;
    while (isDigit(buf[i]!)) i++;
    c = buf[i]!;
  }
  if (i - intStart === (dot ? 1 : 0)) return BAIL; // no digit at all
  if (c === CH.I_LOWER) {
    if (dot || !withinDigits(buf, intStart, intEnd, neg ? INT64_MIN_ABS : INT64_MAX)) return BAIL;
    return i + 1;
  }
  if (c === CH.U_LOWER) {
    if (dot || neg || !unsigned || !withinDigits(buf, intStart, intEnd, UINT64_MAX)) return BAIL;
    return i + 1;
  }
  if (c === CH.E_LOWER || c === CH.E_UPPER) {
    c = buf[++i]!;
    const expNeg = c === CH.MINUS;
    if (expNeg || c === CH.PLUS) i++;
    const es = i;
    let exp = 0;
    while (isDigit(buf[i]!)) exp = exp * 10 + buf[i++]! - CH.ZERO;
    if (i === es || i - es > 4) return BAIL;
    // Overflow only (underflow is no error for InfluxDB): value < 10^(integer digits + exp).
    if (!expNeg && significantDigits(buf, intStart, intEnd) + exp > 308) return BAIL;
    return i;
  }
  if (intEnd - intStart > 308 && significantDigits(buf, intStart, intEnd) > 308) return BAIL;
  return i;
}

/** From just after the opening quote: `\` takes the next byte literally, '\n' is content. Returns the end. */
function fastString(buf: Buffer, i: number, last: number): number {
  for (;;) {
    const c = STRING[buf[i]!]!;
    if (c === C.PLAIN) i++;
    else if (c === C.QUOTE) return i + 1;
    else if (c === C.LF) {
      if (i === last) return BAIL; // unterminated
      i++;
    } else if (i + 2 < last) i += 2;
    else return BAIL;
  }
}

/** t T true True TRUE f F false False FALSE; returns the end. */
function fastBool(buf: Buffer, i: number): number {
  let e = i + 1;
  for (;;) {
    const b = buf[e];
    if (b === CH.COMMA || b === CH.SPACE || b === CH.LF || b === CH.CR) break;
    e++;
  }
  const n = e - i;
  if (n === 1) return e;
  const f = buf[i];
  if (n === 4 && (f === CH.T_LOWER || f === CH.T_UPPER)) {
    if (f === CH.T_LOWER ? word(buf, i, 'true') : word(buf, i, 'True') || word(buf, i, 'TRUE')) return e;
  } else if (n === 5 && (f === CH.F_LOWER || f === CH.F_UPPER)) {
    if (f === CH.F_LOWER ? word(buf, i, 'false') : word(buf, i, 'False') || word(buf, i, 'FALSE')) return e;
  }
  return BAIL;
}

/** One unsigned compare instead of a table load: measurably faster in the digit loops. */
function isDigit(c: number): boolean {
  return (c - CH.ZERO) >>> 0 < 10;
}

function word(buf: Buffer, i: number, w: string): boolean {
  for (let k = 0; k < w.length; k++) if (buf[i + k] !== w.charCodeAt(k)) return false;
  return true;
}

/** True when the unsigned decimal buf[s, e) is at most `limit` (ASCII digits). */
function withinDigits(buf: Buffer, s: number, e: number, limit: Uint8Array): boolean {
  while (s < e && buf[s] === CH.ZERO) s++;
  const n = e - s;
  if (n !== limit.length) return n < limit.length;
  for (let k = 0; k < n; k++) {
    const d = buf[s + k]!;
    const l = limit[k]!;
    if (d !== l) return d < l;
  }
  return true;
}

function significantDigits(buf: Buffer, s: number, e: number): number {
  while (s < e && buf[s] === CH.ZERO) s++;
  return e - s;
}

/** InfluxDB rejects a tag key given twice (raw, escaped bytes compared). */
function tagKeysDistinct(buf: Buffer, n: number): boolean {
  for (let a = 0; a < n - 1; a++) {
    const as = tagKeys[2 * a]!;
    const alen = tagKeys[2 * a + 1]! - as;
    for (let b = a + 1; b < n; b++) {
      const bs = tagKeys[2 * b]!;
      if (tagKeys[2 * b + 1]! - bs !== alen) continue;
      let k = 0;
      while (k < alen && buf[as + k] === buf[bs + k]) k++;
      if (k === alen) return false;
    }
  }
  return true;
}

function addOp(s: number, e: number, op: number): void {
  if (nOps > 0) {
    const k = 3 * (nOps - 1);
    // Contiguous with a pass-through run: extend it (a clean body ends as one run over the whole input).
    if (ops[k + 2] === OP_AS_IS && ops[k + 1] === s) {
      ops[k + 1] = e;
      ops[k + 2] = op;
      return;
    }
  }
  if (3 * nOps + 3 > ops.length) {
    const bigger = new Int32Array(ops.length * 2);
    bigger.set(ops);
    ops = bigger;
  }
  const k = 3 * nOps++;
  ops[k] = s;
  ops[k + 1] = e;
  ops[k + 2] = op;
}

/** " <stamp>\n" as bytes. */
function stampBytes(opts: ScanOptions): Buffer {
  return Buffer.from(` ${opts.stamp ?? nowIn(opts.precision)}\n`, 'latin1');
}

function buildBody(input: Buffer, stamp: Buffer | undefined): Buffer {
  if (nOps === 0) return input.length === 0 ? input : Buffer.alloc(0);
  if (nOps === 1 && ops[0] === 0 && ops[1] === input.length && ops[2] === OP_AS_IS) return input;
  let size = 0;
  for (let k = 0; k < 3 * nOps; k += 3) {
    const op = ops[k + 2]!;
    size += ops[k + 1]! - ops[k]! + (op === OP_NEWLINE ? 1 : op === OP_STAMP ? stamp!.length : 0);
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let k = 0; k < 3 * nOps; k += 3) {
    o = copyRange(input, ops[k]!, ops[k + 1]!, out, o);
    const op = ops[k + 2]!;
    if (op === OP_NEWLINE) out[o++] = CH.LF;
    else if (op === OP_STAMP) {
      out.set(stamp!, o);
      o += stamp!.length;
    }
  }
  return out;
}

/**
 * Short ranges by hand; longer ones through a view, which costs half of Buffer#copy per call (this runs once per
 * line when every line is rewritten, e.g. stamped or CRLF bodies).
 */
function copyRange(src: Buffer, s: number, e: number, dst: Buffer, o: number): number {
  const n = e - s;
  if (n > 32) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset + s, n), o);
    return o + n;
  }
  while (s < e) dst[o++] = src[s++]!;
  return o;
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(CH.LF, from); i !== -1 && i < to; i = buf.indexOf(CH.LF, i + 1)) n++;
  return n;
}

/** The line as text for messages: at most MAX_TEXT_CHARS UTF-16 units, never half a surrogate pair. */
function lineText(buf: Buffer, start: number, end: number): string {
  let s = buf.toString('utf8', start, Math.min(end, start + 4 * MAX_TEXT_CHARS));
  if (s.length > MAX_TEXT_CHARS) {
    const cut = (s.charCodeAt(MAX_TEXT_CHARS - 1) & 0xfc00) === 0xd800 ? MAX_TEXT_CHARS - 1 : MAX_TEXT_CHARS;
    s = s.slice(0, cut);
  }
  return s;
}
