/**
 * The few Go standard-library text rules InfluxDB 1.6's opentsdb and graphite services rely on, reproduced exactly:
 * `strings.Fields` (unicode.IsSpace), `strconv.ParseFloat` and `strconv.ParseInt(s, 10, 64)` (influxd 1.6.7 in Debian
 * is built with Go 1.19, so hex floats such as `0x1p-2` parse too), and Go's float64 → int64 conversion on amd64.
 */

/** unicode.IsSpace: JavaScript's \s without U+FEFF, plus U+0085. */
const GO_SPACES = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

const LEADING_SPACES = new RegExp(`^${GO_SPACES.source}`);
const TRAILING_SPACES = new RegExp(`${GO_SPACES.source}$`);

/** strings.Fields: the non-empty runs between white space. */
export function goFields(s: string): string[] {
  return s.split(GO_SPACES).filter((f) => f !== '');
}

/** strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  return s.replace(LEADING_SPACES, '').replace(TRAILING_SPACES, '');
}

const DECIMAL = new RegExp(`^[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?$`);
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL = /^(?:[+-]?(?:inf|infinity)|nan)$/i;

/**
 * strconv.ParseFloat(s, 64): the value, or undefined where Go returns an error (syntax, or out of range: ±Inf with
 * ErrRange). Underscores may separate digits, as in Go's literal syntax.
 */
export function parseGoFloat(s: string): number | undefined {
  if (s.includes('_')) {
    // Go literal syntax: an underscore only between two digits (or right after a 0x prefix).
    const hexPrefix = /^[+-]?0[xX]/.test(s);
    const digit = hexPrefix ? /[0-9a-fA-F]/ : /[0-9]/;
    for (let i = s.indexOf('_'); i >= 0; i = s.indexOf('_', i + 1)) {
      const before = s[i - 1] ?? '';
      const afterPrefix = hexPrefix && /^[+-]?0[xX]$/.test(s.slice(0, i));
      if (!(digit.test(before) || afterPrefix) || !digit.test(s[i + 1] ?? '')) return undefined;
    }
    s = s.replaceAll('_', '');
  }
  if (DECIMAL.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  }
  if (SPECIAL.test(s)) return s.toLowerCase().includes('nan') ? NaN : s.startsWith('-') ? -Infinity : Infinity;
  const hex = HEX.exec(s);
  if (hex && (hex[2]! + (hex[3] ?? '')).length > 0) {
    const int = hex[2]!;
    const frac = hex[3] ?? '';
    const mantissa = BigInt('0x' + (int + frac || '0'));
    const v = Number(mantissa) * 2 ** (Number(hex[4]) - 4 * frac.length);
    if (!Number.isFinite(v)) return undefined;
    return hex[1] === '-' ? -v : v;
  }
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64): the value and whether Go reported an error (Go still returns 0, or the clamped bound). */
export function parseGoInt(s: string): { value: bigint; ok: boolean } {
  if (!/^[+-]?\d+$/.test(s)) return { value: 0n, ok: false };
  const v = BigInt(s);
  if (v < INT64_MIN) return { value: INT64_MIN, ok: false };
  if (v > INT64_MAX) return { value: INT64_MAX, ok: false };
  return { value: v, ok: true };
}

/** int64(f) on amd64 (CVTTSD2SQ): truncation toward zero; NaN and out-of-range give math.MinInt64. */
export function goInt64(f: number): bigint {
  if (!Number.isFinite(f) || f >= 2 ** 63 || f < -(2 ** 63)) return INT64_MIN;
  return BigInt(Math.trunc(f));
}
