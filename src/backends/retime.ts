/**
 * Rewrites every timestamp of a batch from minutes or hours to seconds, for InfluxDB 2.x/3.x backends: their write
 * API has no `m` or `h` precision. Multiplying by 60 or 3600 is exact, so a 2.x replica stores the same instants as
 * the 1.x ones, where rejecting such batches would leave it behind, and sending them as they are would store them
 * in the wrong century.
 *
 * Rare path (a v2 backend and a client writing in m or h): it copies the body. Line boundaries are InfluxDB's
 * (a quoted string field may hold '\n'), found with the scanner's own exactBlockEnd.
 */
import { CH, WHITESPACE } from '../lineprotocol/charclass.js';
import { exactBlockEnd } from '../lineprotocol/exact-parser.js';

/** How many seconds one unit of a precision is, for the precisions 2.x lacks. */
export const SECONDS_PER: Readonly<Record<string, number>> = { m: 60, h: 3600 };

/**
 * `body`: valid line protocol as the scanner emits it (every line stamped, ending in '\n'). A line without a
 * timestamp cannot occur; if one did, it would go unchanged (the backend stamps it) rather than be misread.
 */
export function timestampsToSeconds(body: Buffer, factor: number): Buffer {
  const len = body.length;
  // Each timestamp grows by at most 4 digits (x3600 < 10^4).
  const out = Buffer.allocUnsafe(len + 4 * countLines(body));
  let o = 0;
  let pos = 0;
  while (pos < len) {
    const end = exactBlockEnd(body, pos, len);
    let e = end;
    while (e > pos && body[e - 1] === CH.SPACE) e--; // InfluxDB allows spaces after the timestamp
    let ts = e;
    while (ts > pos && isDigit(body[ts - 1]!)) ts--;
    if (ts > pos && body[ts - 1] === CH.MINUS) ts--;
    // A timestamp follows whitespace; digits after '=' (or "=-") are a field value.
    const stamped = ts < e && ts > pos && WHITESPACE[body[ts - 1]!] === 1;
    if (stamped) {
      o += body.copy(out, o, pos, ts);
      o += out.write(scaled(body.toString('latin1', ts, e), factor), o, 'latin1');
      o += body.copy(out, o, e, Math.min(end + 1, len));
    } else {
      o += body.copy(out, o, pos, Math.min(end + 1, len));
    }
    pos = end + 1;
  }
  return out.subarray(0, o);
}

function scaled(text: string, factor: number): string {
  const n = Number(text) * factor;
  // Past 2^53 a double is not exact; InfluxDB's range check keeps real timestamps far below that.
  return Number.isSafeInteger(n) ? String(n) : (BigInt(text) * BigInt(factor)).toString();
}

function isDigit(c: number): boolean {
  return c >= CH.ZERO && c <= CH.NINE;
}

function countLines(body: Buffer): number {
  let n = 1;
  for (let i = body.indexOf(CH.LF); i >= 0; i = body.indexOf(CH.LF, i + 1)) n++;
  return n;
}
