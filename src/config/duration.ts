/**
 * Go duration strings (`time.ParseDuration` syntax: "300ms", "1.5s", "1m30s", "2h", "0"), as influxdb-relay's
 * relay.toml uses them. Computed in integer nanoseconds so "1.1s" is exactly 1100 ms, not 1100.0000000000002.
 */

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu, also accepted by Go
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = 2n ** 63n - 1n; // Go's time.Duration is an int64 of nanoseconds
const TERM = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds (possibly fractional) for a Go duration string; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let ns = 0n;
  while (rest !== '') {
    const m = TERM.exec(rest);
    if (m === null) return undefined;
    const int = m[1] ?? '';
    const frac = m[2] ?? '';
    if (int === '' && frac === '') return undefined; // "s" or ".s"
    const unit = UNIT_NS[m[3] ?? ''] ?? 1n;
    ns += BigInt(int === '' ? '0' : int) * unit;
    if (frac !== '') ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    if (ns > MAX_NS) return undefined;
    rest = rest.slice(m[0].length);
  }
  const ms = Number(ns) / 1e6;
  return negative && ms !== 0 ? -ms : ms;
}
