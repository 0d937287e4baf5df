/**
 * OpenTSDB → line protocol, exactly as InfluxDB 1.6's opentsdb service converts it (services/opentsdb service.go and
 * handler.go): measurement = the metric, tags as given, one float field `value`.
 *
 * Telnet `put <metric> <timestamp> <value> [<k>=<v> ...]` (fields split on any white space):
 * - the timestamp is seconds when it is 10 characters long and milliseconds when 13; any other length drops the
 *   line. A 10- or 13-character timestamp that is not an integer still passes, as time 0 (Go's ParseInt error is only
 *   logged). Milliseconds keep InfluxDB's arithmetic: `time.Unix(ts/1000, (ts%1000)*1000)`, i.e. the millisecond
 *   remainder lands in microseconds.
 * - a tag without `=`, or with an empty key or value, is skipped; the point is kept.
 * - a value that is not a Go float drops the line; NaN and ±Inf are dropped by NewPoint.
 * - `version` and other commands are not `put` lines: skipped.
 * HTTP `/api/put` JSON points: `timestamp` < 10^10 is seconds, else milliseconds (same arithmetic).
 */
import { goFields, parseGoFloat, parseGoInt } from './go-text.js';
import { pointLine, unixNano, type PointLine } from './influx-point.js';

/** One telnet line (without its newline): a line-protocol line, or why it is dropped. */
export function telnetLine(line: string): PointLine {
  const f = goFields(line);
  if (f.length < 4 || f[0] !== 'put') return { error: 'malformed line (expected: put <metric> <timestamp> <value> [<tagk>=<tagv> ...])' };
  const [, metric, tsStr, valueStr] = f as [string, string, string, string];
  const ts = parseGoInt(tsStr).value;
  let ns: bigint;
  if (tsStr.length === 10) ns = unixNano(ts, 0n);
  else if (tsStr.length === 13) ns = unixNano(ts / 1000n, (ts % 1000n) * 1000n);
  else return { error: `time must be 10 or 13 chars: ${tsStr}` };
  const tags = new Map<string, string>();
  for (const t of f.slice(4)) {
    const eq = t.indexOf('=');
    if (eq <= 0 || eq === t.length - 1) continue;
    tags.set(t.slice(0, eq), t.slice(eq + 1));
  }
  const value = parseGoFloat(valueStr);
  if (value === undefined) return { error: `bad float: ${valueStr}` };
  return pointLine(metric, tags, 'value', value, ns);
}

/** A decoded /api/put data point (handler.go's `point`). */
export interface JsonPoint {
  readonly metric: string;
  readonly timestamp: bigint;
  readonly value: number;
  readonly tags: ReadonlyMap<string, string>;
}

export function jsonPointLine(p: JsonPoint): PointLine {
  const ts = p.timestamp;
  const ns = ts < 10_000_000_000n ? unixNano(ts, 0n) : unixNano(ts / 1000n, (ts % 1000n) * 1000n);
  return pointLine(p.metric, p.tags, 'value', p.value, ns);
}
