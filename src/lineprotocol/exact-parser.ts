/**
 * The exact path: a port of InfluxDB 1.6's line parser (models/points.go: scanLine, parsePoint and helpers;
 * models/time.go: SafeCalcTime), checked against a real influxd 1.6.7.
 *
 * The scanner's fast path only accepts lines whose meaning is obvious and hands everything else here: invalid
 * lines (to get InfluxDB's exact reason), and valid-but-unusual ones (leading blanks, doubled separators,
 * trailing blanks, `\\` pairs, comments). This file may allocate; it never runs for ordinary lines.
 *
 * InfluxDB quirks kept on purpose, so a write through the relay is judged as a direct write would be:
 * - a line ends at an unquoted '\n', where "quoted" is tracked from the first space on, only after a field's '=';
 *   a comment containing `a="` therefore swallows the following lines;
 * - in the measurement and tags, a byte is escaped when the previous byte is a backslash (so `\\,` escapes the comma);
 *   in fields, a backslash escapes the next byte (pairs);
 * - after a closing quote, bytes up to the next ',' or ' ' are accepted (`s="x"y`);
 * - whitespace before the fields or the timestamp may be spaces, tabs or NULs; after a timestamp only spaces.
 * Our one deviation: a '\r' right before the line's end is dropped (the caller does it), so CRLF bodies work.
 */
import { CH, WHITESPACE } from './charclass.js';
import { NS_PER_UNIT, type Precision } from './precision.js';

/** What the exact parse found about a valid line; reused, read right after exactParse returns undefined. */
export const exactResult = {
  /** The line carries its own timestamp. */
  hasTime: false,
  /** Absolute offset where the fields end (where a stamp goes when there is no timestamp). */
  fieldsEnd: 0,
};

/** Where the block that starts at `i` ends: the offset of its terminating '\n', or `len`. (InfluxDB's scanLine.) */
export function exactBlockEnd(buf: Uint8Array, i: number, len: number): number {
  let quoted = false;
  let fields = false;
  let equals = 0;
  let commas = 0;
  while (i < len) {
    const c = buf[i]!;
    if (c === CH.BACKSLASH && i + 2 < len) {
      i += 2;
      continue;
    }
    if (c === CH.SPACE) fields = true;
    if (fields) {
      if (!quoted && c === CH.EQUALS) {
        i++;
        equals++;
        continue;
      } else if (!quoted && c === CH.COMMA) {
        i++;
        commas++;
        continue;
      } else if (c === CH.QUOTE && equals > commas) {
        i++;
        quoted = !quoted;
        continue;
      }
    }
    if (c === CH.LF && !quoted) break;
    i++;
  }
  return i;
}

/**
 * Parses one block (leading whitespace already skipped, no line terminator) as InfluxDB's parsePoint does.
 * Returns InfluxDB's reason when the line is invalid; undefined when valid (then see exactResult).
 */
export function exactParse(buf: Uint8Array, start: number, end: number, precision: Precision, unsigned: boolean): string | undefined {
  try {
    parsePoint(buf.subarray(start, end), start, precision, unsigned);
    return undefined;
  } catch (e) {
    if (e instanceof ParseFailure) return e.reason;
    throw e;
  }
}

/** Thrown inside this file only; carries no stack (it is control flow on the error path). */
class ParseFailure {
  constructor(readonly reason: string) {}
}

function fail(reason: string): never {
  throw new ParseFailure(reason);
}

const MAX_KEY_LENGTH = 65535;
const MIN_NANO_TIME = -9223372036854775806n; // math.MinInt64 + 2
const MAX_NANO_TIME = 9223372036854775806n; // math.MaxInt64 - 1
const MIN_INT64 = -9223372036854775808n;
const MAX_INT64 = 9223372036854775807n;
const MAX_UINT64 = 18446744073709551615n;

const TAG_KEY_STATE = 0;
const TAG_VALUE_STATE = 1;
const FIELDS_STATE = 2;

/** `b` is the block (offsets below are relative to it); `base` is its offset in the input. */
function parsePoint(b: Uint8Array, base: number, precision: Precision, unsigned: boolean): void {
  const [keyEnd, keyStart] = scanKey(b);
  const keyLen = keyEnd - keyStart;
  if (keyLen === 0) fail('missing measurement');
  if (keyLen > MAX_KEY_LENGTH) fail(`max key length exceeded: ${keyLen} > ${MAX_KEY_LENGTH}`);

  const [fieldsEnd, fieldsStart] = scanFields(b, keyEnd, unsigned);
  if (fieldsEnd === fieldsStart) fail('missing fields');
  walkFields(b.subarray(fieldsStart, fieldsEnd), keyLen);

  const [tsEnd, tsStart] = scanTime(b, fieldsEnd);
  exactResult.fieldsEnd = base + fieldsEnd;
  exactResult.hasTime = tsEnd > tsStart;
  if (!exactResult.hasTime) return;

  const text = latin1(b, tsStart, tsEnd);
  if (text === '-') fail(`strconv.ParseInt: parsing "-": invalid syntax`);
  const ts = BigInt(text);
  if (ts < MIN_INT64 || ts > MAX_INT64) fail(`strconv.ParseInt: parsing "${text}": value out of range`);
  const ns = ts * NS_PER_UNIT[precision];
  if (ns < MIN_NANO_TIME || ns > MAX_NANO_TIME) fail(`time outside range ${MIN_NANO_TIME} - ${MAX_NANO_TIME}`);
  for (let i = tsEnd; i < b.length; i++) if (b[i] !== CH.SPACE) fail('point is invalid');
}

/** Returns [end of key, start of key]; fails on a bad measurement or tag set, or duplicate tag keys. */
function scanKey(b: Uint8Array): [number, number] {
  const start = skipWhitespace(b, 0);
  const indices: number[] = [];
  const [state, afterMeasurement] = scanMeasurement(b, start);
  const i = state === TAG_KEY_STATE ? scanTags(b, afterMeasurement, indices) : afterMeasurement;

  // Tag keys compare as raw (escaped) bytes; equal keys anywhere are duplicates, as InfluxDB finds after sorting.
  const keys: Uint8Array[] = [];
  for (let j = 0; j < indices.length - 1; j++) keys.push(b.subarray(indices[j]!, scanTo(b, indices[j]!, CH.EQUALS)));
  if (keys.length > 1) {
    keys.sort(compareBytes);
    for (let j = 0; j + 1 < keys.length; j++) if (compareBytes(keys[j]!, keys[j + 1]!) === 0) fail('duplicate tags');
  }
  return [i, start];
}

function scanMeasurement(b: Uint8Array, i: number): [number, number] {
  if (i >= b.length || b[i] === CH.COMMA) fail('missing measurement');
  for (;;) {
    i++;
    if (i >= b.length) fail('missing fields');
    if (b[i - 1] === CH.BACKSLASH) continue;
    if (b[i] === CH.COMMA) return [TAG_KEY_STATE, i + 1];
    if (b[i] === CH.SPACE) return [FIELDS_STATE, i];
  }
}

/** Scans the tag set; pushes each tag's start and finally the fields' start + 1 (InfluxDB's indices). */
function scanTags(b: Uint8Array, i: number, indices: number[]): number {
  let state = TAG_KEY_STATE;
  for (;;) {
    if (state === TAG_KEY_STATE) {
      indices.push(i);
      i = scanTagsKey(b, i);
      state = TAG_VALUE_STATE;
    } else if (state === TAG_VALUE_STATE) {
      [state, i] = scanTagsValue(b, i);
    } else {
      indices.push(i + 1);
      return i;
    }
  }
}

function scanTagsKey(b: Uint8Array, i: number): number {
  const c = b[i];
  if (i >= b.length || c === CH.SPACE || c === CH.COMMA || c === CH.EQUALS) fail('missing tag key');
  for (;;) {
    i++;
    if (i >= b.length || ((b[i] === CH.SPACE || b[i] === CH.COMMA) && b[i - 1] !== CH.BACKSLASH)) fail('missing tag value');
    if (b[i] === CH.EQUALS && b[i - 1] !== CH.BACKSLASH) return i + 1;
  }
}

function scanTagsValue(b: Uint8Array, i: number): [number, number] {
  if (i >= b.length || b[i] === CH.COMMA || b[i] === CH.SPACE) fail('missing tag value');
  for (;;) {
    i++;
    if (i >= b.length) fail('missing fields');
    const escaped = b[i - 1] === CH.BACKSLASH;
    if (b[i] === CH.EQUALS && !escaped) fail('invalid tag format');
    if (b[i] === CH.COMMA && !escaped) return [TAG_KEY_STATE, i + 1];
    if (b[i] === CH.SPACE && !escaped) return [FIELDS_STATE, i];
  }
}

/** Returns [end of fields, start of fields]. */
function scanFields(b: Uint8Array, i: number, unsigned: boolean): [number, number] {
  const start = skipWhitespace(b, i);
  i = start;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  for (;;) {
    if (i >= b.length) break;
    const c = b[i]!;
    if (c === CH.BACKSLASH && i + 1 < b.length) {
      i += 2;
      continue;
    }
    if (c === CH.QUOTE && equals > commas) {
      quoted = !quoted;
      i++;
      continue;
    }
    if (c === CH.EQUALS && !quoted) {
      equals++;
      if (b[i - 1] === CH.SPACE && b[i - 2] !== CH.BACKSLASH) fail('missing field key');
      if (b[i - 1] === CH.COMMA && b[i - 2] !== CH.BACKSLASH) fail('missing field key');
      if (i + 1 >= b.length) fail('missing field value');
      const v = b[i + 1]!;
      if (v === CH.COMMA || v === CH.SPACE) fail('missing field value');
      if (isNumeric(v) || v === CH.MINUS || v === CH.N_UPPER || v === CH.N_LOWER) {
        i = scanNumber(b, i + 1, unsigned);
        continue;
      }
      if (v !== CH.QUOTE) {
        i = scanBoolean(b, i + 1);
        continue;
      }
    }
    if (c === CH.COMMA && !quoted) commas++;
    if (c === CH.SPACE && !quoted) break;
    i++;
  }
  if (quoted) fail('unbalanced quotes');
  if (equals === 0 || commas !== equals - 1) fail('invalid field format');
  return [i, start];
}

function isNumeric(c: number): boolean {
  return (c >= CH.ZERO && c <= CH.NINE) || c === CH.DOT;
}

function scanNumber(b: Uint8Array, i: number, unsigned: boolean): number {
  const start = i;
  let isInt = false;
  let isUnsigned = false;
  if (i < b.length && b[i] === CH.MINUS) {
    i++;
    if (i === b.length) fail('invalid number');
  }
  let decimal = false;
  let scientific = false;
  for (;;) {
    if (i >= b.length) break;
    const c = b[i]!;
    if (c === CH.COMMA || c === CH.SPACE) break;
    if (c === CH.I_LOWER && i > start && !(isInt || isUnsigned)) {
      isInt = true;
      i++;
      continue;
    } else if (c === CH.U_LOWER && i > start && !(isInt || isUnsigned)) {
      isUnsigned = true;
      i++;
      continue;
    }
    if (c === CH.DOT) {
      if (decimal) fail('invalid number');
      decimal = true;
    }
    if (i > start && (c === CH.E_LOWER || c === CH.E_UPPER)) {
      scientific = true;
      i++;
      continue;
    }
    if ((c === CH.PLUS || c === CH.MINUS) && (b[i - 1] === CH.E_LOWER || b[i - 1] === CH.E_UPPER)) {
      i++;
      continue;
    }
    if (i + 2 < b.length && (c === CH.N_UPPER || c === CH.N_LOWER)) fail('invalid number');
    if (!isNumeric(c)) fail('invalid number');
    i++;
  }
  if ((isInt || isUnsigned) && (decimal || scientific)) fail('invalid number');

  let numericDigits = i - start;
  if (isInt) numericDigits--;
  if (decimal) numericDigits--;
  if (b[start] === CH.MINUS) numericDigits--;
  if (numericDigits === 0) fail('invalid number');

  if (isInt) {
    if (b[i - 1] !== CH.I_LOWER) fail('invalid number');
    if (i - 1 - start >= 19) {
      const text = latin1(b, start, i - 1);
      const v = BigInt(text);
      if (v < MIN_INT64 || v > MAX_INT64)
        fail(`unable to parse integer ${text}: strconv.ParseInt: parsing "${text}": value out of range`);
    }
  } else if (isUnsigned) {
    // InfluxDB 1.x ships with unsigned support off: `1u` is "invalid number" there.
    if (!unsigned) fail('invalid number');
    if (b[i - 1] !== CH.U_LOWER) fail('invalid number');
    if (b[start] === CH.MINUS) fail('invalid number');
    if (i - 1 - start >= 20) {
      const text = latin1(b, start, i - 1);
      if (BigInt(text) > MAX_UINT64)
        fail(`unable to parse unsigned ${text}: strconv.ParseUint: parsing "${text}": value out of range`);
    }
  } else if (scientific || i - start >= 25) {
    if (!goParseFloatOk(latin1(b, start, i))) fail('invalid float');
  }
  return i;
}

/** Go's strconv.ParseFloat on the characters scanNumber lets through ([-+.0-9eE]): syntax, then overflow. */
function goParseFloatOk(s: string): boolean {
  let i = 0;
  if (s[i] === '+' || s[i] === '-') i++;
  let digits = 0;
  let dot = false;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') digits++;
    else if (c === '.' && !dot) dot = true;
    else break;
  }
  if (digits === 0) return false;
  if (i < s.length && (s[i] === 'e' || s[i] === 'E')) {
    i++;
    if (s[i] === '+' || s[i] === '-') i++;
    const expStart = i;
    while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
    if (i === expStart) return false;
  }
  if (i !== s.length) return false;
  // Both round to nearest-even, so JS overflows to Infinity exactly when Go reports ErrRange; underflow is no error.
  return Number.isFinite(Number(s));
}

function scanBoolean(b: Uint8Array, i: number): number {
  const start = i;
  const c = b[i];
  if (i < b.length && c !== CH.T_LOWER && c !== CH.F_LOWER && c !== CH.T_UPPER && c !== CH.F_UPPER) fail('invalid boolean');
  i++;
  while (i < b.length && b[i] !== CH.COMMA && b[i] !== CH.SPACE) i++;
  if (i - start === 1) return i;
  const word = latin1(b, start, i);
  const ok =
    (c === CH.T_LOWER && word === 'true') ||
    (c === CH.F_LOWER && word === 'false') ||
    (c === CH.T_UPPER && (word === 'TRUE' || word === 'True')) ||
    (c === CH.F_UPPER && (word === 'FALSE' || word === 'False'));
  if (!ok) fail('invalid boolean');
  return i;
}

/** Returns [end, start] of the timestamp text (empty when there is none). */
function scanTime(b: Uint8Array, i: number): [number, number] {
  const start = skipWhitespace(b, i);
  i = start;
  for (;;) {
    if (i >= b.length) break;
    const c = b[i]!;
    if (c === CH.LF || c === CH.SPACE) break;
    if (i === start && c === CH.MINUS) {
      i++;
      continue;
    }
    if (c < CH.ZERO || c > CH.NINE) fail('bad timestamp');
    i++;
  }
  return [i, start];
}

/** InfluxDB's walkFields with the series-key size check parsePoint runs through it. */
function walkFields(fields: Uint8Array, keyLen: number): void {
  let buf = fields;
  while (buf.length > 0) {
    const i = scanTo(buf, 0, CH.EQUALS);
    const key = buf.subarray(0, i);
    if (i > buf.length - 2) fail(`invalid value: field-key=${Buffer.from(key).toString()}`);
    buf = buf.subarray(i + 1);
    buf = buf.subarray(scanFieldValue(buf, 0));
    const size = keyLen + 4 + key.length;
    if (size > MAX_KEY_LENGTH) fail(`max key length exceeded: ${size} > ${MAX_KEY_LENGTH}`);
    if (buf.length > 0) buf = buf.subarray(1);
  }
}

function scanFieldValue(b: Uint8Array, i: number): number {
  let quoted = false;
  while (i < b.length) {
    const c = b[i]!;
    if (c === CH.BACKSLASH && i + 1 < b.length && (b[i + 1] === CH.QUOTE || b[i + 1] === CH.BACKSLASH)) {
      i += 2;
      continue;
    }
    if (c === CH.QUOTE) {
      i++;
      quoted = !quoted;
      continue;
    }
    if (c === CH.COMMA && !quoted) break;
    i++;
  }
  return i;
}

/** The offset of the first `stop` not preceded by a backslash (or b.length). */
function scanTo(b: Uint8Array, i: number, stop: number): number {
  while (i < b.length) {
    if (b[i] === stop && (i === 0 || b[i - 1] !== CH.BACKSLASH)) break;
    i++;
  }
  return i;
}

function skipWhitespace(b: Uint8Array, i: number): number {
  while (i < b.length && WHITESPACE[b[i]!] === 1) i++;
  return i;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** ASCII-only text (digits, signs, letters) as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
