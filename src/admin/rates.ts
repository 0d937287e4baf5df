/**
 * Per-second rates from monotonic totals (Prometheus counters), for the status page: each call hands in the current
 * totals; a rate is the change since a sample at least `minIntervalMs` old, so a page polled by several viewers at
 * once still divides by a real interval. Until two samples exist there are no rates, never a guess. A total that went
 * down (a counter reset) restarts its rate from the new value.
 */
export class RateMeter {
  private previous: { at: number; totals: ReadonlyMap<string, number> } | undefined;
  private rates: ReadonlyMap<string, number> = new Map();
  private intervalMs: number | undefined;

  constructor(private readonly minIntervalMs = 1000) {}

  /** Rates per key (per second), empty until a second sample. */
  observe(now: number, totals: ReadonlyMap<string, number>): { rates: ReadonlyMap<string, number>; intervalMs: number | undefined } {
    const prev = this.previous;
    if (prev === undefined) {
      this.previous = { at: now, totals };
    } else if (now - prev.at >= this.minIntervalMs) {
      const seconds = (now - prev.at) / 1000;
      const rates = new Map<string, number>();
      for (const [key, total] of totals) {
        // A label not there before had not been counted yet: its total was 0.
        const before = prev.totals.get(key) ?? 0;
        rates.set(key, total >= before ? (total - before) / seconds : 0);
      }
      this.rates = rates;
      this.intervalMs = now - prev.at;
      this.previous = { at: now, totals };
    }
    return { rates: this.rates, intervalMs: this.intervalMs };
  }
}
