/**
 * Series rows of a `SELECT * ... GROUP BY *` (epoch=ns) back into InfluxDB 1.x line protocol, exactly:
 * - measurement: ',' and ' ' escaped; tag keys, tag values and field keys: ',', '=' and ' ' escaped. Empty tag
 *   values (GROUP BY * lists every tag key of the measurement) are left out, as a point without that tag.
 * - field values by the field's type from SHOW FIELD KEYS: integers get `i` (int64 arrive as bigint, exactly),
 *   floats are printed in the shortest form that parses back to the same double, strings are quoted with '"' and
 *   '\' escaped (newlines stay literal: 1.x reads them inside quotes), booleans are `true`/`false`.
 * - the timestamp in nanoseconds, as given.
 */
import type { Series } from './influxql-client.js';

const escMeasurement = (s: string): string => s.replace(/[, ]/g, (c) => '\\' + c);
const escKey = (s: string): string => s.replace(/[,= ]/g, (c) => '\\' + c);
const escString = (s: string): string => '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';

/** The series key part of a line: `measurement,tag=v,...` (tags sorted, as InfluxDB keys them). */
export function seriesPrefix(s: Pick<Series, 'name' | 'tags'>): string {
  let out = escMeasurement(s.name);
  const tags = Object.entries(s.tags ?? {})
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of tags) out += ',' + escKey(k) + '=' + escKey(v);
  return out;
}

/** One field value; undefined for a value that cannot be written (null). */
export function fieldValue(v: unknown, types: readonly string[] | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return escString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || typeof v === 'bigint') {
    // A field typed integer in every shard is an integer; any float shard makes the JSON number ambiguous: float.
    const integer = types !== undefined && types.includes('integer') && !types.includes('float');
    if (integer) return `${v}i`;
    if (types !== undefined && types.includes('unsigned') && !types.includes('float')) return `${v}u`;
    return String(v);
  }
  return undefined;
}

/**
 * Appends a series fragment's points as lines to `out`; returns how many points it wrote. `types` maps a field
 * name to its types (SHOW FIELD KEYS).
 */
export function seriesLines(s: Series, types: ReadonlyMap<string, readonly string[]>, out: string[]): number {
  const prefix = seriesPrefix(s);
  const keys = s.columns.map((c) => escKey(c));
  const colTypes = s.columns.map((c) => types.get(c));
  let n = 0;
  for (const row of s.values) {
    let fields = '';
    for (let i = 1; i < row.length; i++) {
      const v = fieldValue(row[i], colTypes[i]);
      if (v === undefined) continue;
      fields += (fields === '' ? '' : ',') + keys[i] + '=' + v;
    }
    if (fields === '') continue;
    out.push(`${prefix} ${fields} ${String(row[0])}`);
    n++;
  }
  return n;
}
