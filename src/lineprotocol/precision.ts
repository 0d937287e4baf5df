/**
 * Timestamp precisions accepted by the InfluxDB 1.x `/write` endpoint (`precision=`), normalized.
 * `n`/`ns` nanoseconds, `u`/`us`/`µ` microseconds, `ms`, `s`, `m` minutes, `h` hours.
 */
export const PRECISIONS = ['n', 'u', 'ms', 's', 'm', 'h'] as const;
export type Precision = (typeof PRECISIONS)[number];

const ALIASES: Readonly<Record<string, Precision>> = {
  '': 'n',
  n: 'n',
  ns: 'n',
  u: 'u',
  us: 'u',
  'µ': 'u',
  'μ': 'u', // Greek small mu, which some clients send instead of the micro sign
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
};

/** Nanoseconds per unit of each precision. */
export const NS_PER_UNIT: Readonly<Record<Precision, bigint>> = {
  n: 1n,
  u: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Normalizes a `precision` parameter; undefined when it is not one InfluxDB accepts. */
export function parsePrecision(value: string | null | undefined): Precision | undefined {
  const key = value ?? '';
  // Own keys only: 'constructor' or '__proto__' must not resolve to Object.prototype members.
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

// Nanosecond stamps: the wall clock's millisecond (so a long-running relay never drifts from it when the clock is
// adjusted) plus a sub-millisecond part from the monotonic clock, kept strictly increasing, so that two requests in
// the same millisecond get different stamps (InfluxDB stamps with time.Now() in ns; ms*1e6 would make such writes
// of one series overwrite each other).
let lastNs = 0n;

/** Nanoseconds since the epoch, strictly increasing from call to call. */
export function nowNs(): bigint {
  let ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/**
 * The current time as a decimal string in the given precision (truncated, as InfluxDB does).
 * `nowMs` fixes the clock (tests); without it, n and u use the nanosecond clock.
 */
export function nowIn(precision: Precision, nowMs?: number): string {
  if (nowMs === undefined) {
    if (precision === 'n') return nowNs().toString();
    if (precision === 'u') return (nowNs() / 1000n).toString();
    nowMs = Date.now();
  }
  switch (precision) {
    case 'n':
      return `${nowMs}000000`;
    case 'u':
      return `${nowMs}000`;
    case 'ms':
      return `${nowMs}`;
    case 's':
      return `${Math.floor(nowMs / 1000)}`;
    case 'm':
      return `${Math.floor(nowMs / 60_000)}`;
    case 'h':
      return `${Math.floor(nowMs / 3_600_000)}`;
  }
}
