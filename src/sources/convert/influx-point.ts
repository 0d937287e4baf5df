/**
 * A point as InfluxDB 1.6's `models.NewPoint` builds it inside its opentsdb and graphite services, written as the one
 * line of line protocol that `/write` parses back into the same series key, field and time.
 *
 * The key is built as `models.MakeKey` does: the measurement is unescaped (`\,` `\ `) and then escaped (`,` and
 * space), tag keys and values are escaped (`,` space `=`), tags are sorted by key and those with an empty value are
 * left out. `/write` keeps such a key byte for byte, so both paths store the same series. NewPoint's own checks are
 * applied: NaN/±Inf values, a time outside int64 nanoseconds, a series key over 65535 bytes.
 *
 * A few points NewPoint accepts have no line-protocol form (a measurement starting with `#` or empty, a newline
 * inside a name, an empty tag key): they are refused here, with the reason. A key whose escaping comes out odd (a
 * name ending in a backslash) is still written byte for byte as InfluxDB builds it: `/write` then reads it as
 * InfluxDB reads its own key back, or refuses it (counted by the relay's scanner).
 */
const MIN_NANO = -(2n ** 63n) + 2n;
const MAX_NANO = 2n ** 63n - 2n;
const MAX_KEY_LENGTH = 65535;
const NS_PER_S = 1_000_000_000n;

export type Tags = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export type PointLine = { readonly line: string } | { readonly error: string };

/** time.Unix(sec, nsec) in nanoseconds, exactly (models.CheckTime compares times, so nothing wraps). */
export function unixNano(sec: bigint, nsec: bigint): bigint {
  return sec * NS_PER_S + nsec;
}

function escapeMeasurement(m: string): string {
  const unescaped = m.includes('\\') ? m.replaceAll('\\,', ',').replaceAll('\\ ', ' ') : m;
  return unescaped.replace(/[, ]/g, (c) => '\\' + c);
}

function escapeTag(s: string): string {
  return s.replace(/[, =]/g, (c) => '\\' + c);
}

/** Go's float64 formatting is not needed: any exact decimal form parses back to the same float64. */
function formatFloat(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * One point, `field = value` at `ns` (undefined: no timestamp, the relay stamps it at receipt as influxd would use
 * its clock).
 */
export function pointLine(measurement: string, tags: Tags, field: string, value: number, ns: bigint | undefined): PointLine {
  if (Number.isNaN(value)) return { error: `NaN is an unsupported value for field ${field}` };
  if (!Number.isFinite(value)) return { error: `+/-Inf is an unsupported value for field ${field}` };
  if (field === '') return { error: 'all fields must have non-empty names' };
  if (ns !== undefined && (ns < MIN_NANO || ns > MAX_NANO)) return { error: 'time outside range' };
  const entries = (tags instanceof Map ? [...tags.entries()] : Object.entries(tags)) as [string, string][];
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let key = escapeMeasurement(measurement);
  if (key === '') return { error: 'no line-protocol form: empty measurement' };
  if (/^[#\t]/.test(key)) return { error: 'no line-protocol form: measurement starts with # or a tab' };
  for (const [k, v] of entries) {
    if (v === '') continue;
    if (k === '') return { error: 'no line-protocol form: empty tag key' };
    const ek = escapeTag(k);
    const ev = escapeTag(v);
    key += `,${ek}=${ev}`;
  }
  if (/[\n\r]/.test(key)) return { error: 'no line-protocol form: newline in a name' };
  const fieldKey = escapeTag(field);
  if (byteLength(key) + 4 + byteLength(field) > MAX_KEY_LENGTH) return { error: 'max key length exceeded' };
  const time = ns === undefined ? '' : ` ${ns}`;
  return { line: `${key} ${fieldKey}=${formatFloat(value)}${time}\n` };
}
