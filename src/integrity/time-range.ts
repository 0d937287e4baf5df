/**
 * The time range of a batch: the smallest and largest point timestamp in its body, in nanoseconds.
 *
 * A batch body holds only lines the scanner accepted, each stamped, so every line ends in its timestamp: the
 * digits after the line's last space. The loop finds line ends with indexOf (memchr) and reads each timestamp
 * backwards from there; min and max are kept as byte offsets and compared digit by digit, so nothing is allocated
 * per line and only the two winners become BigInts. A quoted string field may contain '\n' (InfluxDB's line
 * boundary), so a line with a '"' in it is delimited by InfluxDB's own rule (exactBlockEnd) instead.
 * A line whose tail is not an integer after a space (impossible in a valid batch) is skipped, never a throw.
 */
import type { Batch } from '../batch.js';
import { CH } from '../lineprotocol/charclass.js';
import { exactBlockEnd } from '../lineprotocol/exact-parser.js';
import { NS_PER_UNIT, type Precision } from '../lineprotocol/precision.js';

export interface TimeRange {
  /** Oldest point timestamp, ns since the epoch. */
  readonly minNs: bigint;
  /** Newest point timestamp, ns since the epoch. */
  readonly maxNs: bigint;
}

const { LF, CR, SPACE, TAB, QUOTE, MINUS, ZERO, NINE } = CH;

/** The time range of a batch's points; undefined when its body holds no stamped line (or is a statement). */
export function batchTimeRange(batch: Pick<Batch, 'body' | 'target' | 'statement'>): TimeRange | undefined {
  return batch.statement ? undefined : bodyTimeRange(batch.body, batch.target.precision);
}

/**
 * Digit-wise comparison of two decimal integers given as (negative, digits start, digits end) with no leading
 * zeros (so a longer magnitude is larger): <0, 0, >0 as a is less than, equal to, greater than b.
 */
function compare(buf: Buffer, aNeg: boolean, aS: number, aE: number, bNeg: boolean, bS: number, bE: number): number {
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  let mag = aE - aS - (bE - bS);
  for (let i = 0; mag === 0 && i < aE - aS; i++) mag = buf[aS + i]! - buf[bS + i]!;
  return aNeg ? -mag : mag;
}

function toNs(buf: Buffer, neg: boolean, s: number, e: number, precision: Precision): bigint {
  const v = BigInt(buf.toString('latin1', s, e)) * NS_PER_UNIT[precision];
  return neg ? -v : v;
}

export function bodyTimeRange(buf: Buffer, precision: Precision): TimeRange | undefined {
  const len = buf.length;
  let found = false;
  let minNeg = false;
  let minS = 0;
  let minE = 0;
  let maxNeg = false;
  let maxS = 0;
  let maxE = 0;
  let nextQuote = buf.indexOf(QUOTE);
  if (nextQuote < 0) nextQuote = len;
  let pos = 0;
  while (pos < len) {
    let end = buf.indexOf(LF, pos);
    if (end < 0) end = len;
    if (nextQuote < end) {
      // A quote on this line: a '\n' may be inside a string field, so InfluxDB's own rule finds the line's end.
      end = exactBlockEnd(buf, pos, len);
      nextQuote = end + 1 < len ? buf.indexOf(QUOTE, end + 1) : -1;
      if (nextQuote < 0) nextQuote = len;
    }
    const next = end + 1;
    // Trailing blanks and a CR are not part of the timestamp (a valid batch has none; be lenient anyway).
    let e = end;
    while (e > pos && (buf[e - 1] === CR || buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
    let s = e;
    while (s > pos && buf[s - 1]! >= ZERO && buf[s - 1]! <= NINE) s--;
    if (s === e) {
      pos = next;
      continue;
    }
    let neg = false;
    let before = s - 1;
    if (before > pos && buf[before] === MINUS) {
      neg = true;
      before--;
    }
    if (before <= pos || (buf[before] !== SPACE && buf[before] !== TAB)) {
      pos = next;
      continue;
    }
    while (s < e - 1 && buf[s] === ZERO) s++;
    if (e - s === 1 && buf[s] === ZERO) neg = false; // -0 is 0
    if (!found) {
      found = true;
      minNeg = maxNeg = neg;
      minS = maxS = s;
      minE = maxE = e;
    } else if (compare(buf, neg, s, e, minNeg, minS, minE) < 0) {
      minNeg = neg;
      minS = s;
      minE = e;
    } else if (compare(buf, neg, s, e, maxNeg, maxS, maxE) > 0) {
      maxNeg = neg;
      maxS = s;
      maxE = e;
    }
    pos = next;
  }
  if (!found) return undefined;
  return { minNs: toNs(buf, minNeg, minS, minE, precision), maxNs: toNs(buf, maxNeg, maxS, maxE, precision) };
}

/** RFC 3339 with nanoseconds, UTC: 2023-11-14T22:13:20.123456789Z (the form InfluxQL accepts in time literals). */
export function formatNs(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const date = new Date(Number(sec) * 1000).toISOString(); // ...T22:13:20.000Z
  return `${date.slice(0, date.length - 5)}.${frac.toString().padStart(9, '0')}Z`;
}
