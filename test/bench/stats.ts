/** Summaries of repeated runs, and number formatting for the report. */

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

export function max(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? NaN : Math.max(...v);
}

/** Fixed decimals; '—' for NaN. */
export function fmt(x: number, decimals = 0): string {
  if (Number.isNaN(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Millions with 2 decimals: 1234567 → "1.23 M". */
export function mega(x: number): string {
  return Number.isNaN(x) ? '—' : `${(x / 1e6).toFixed(2)} M`;
}
