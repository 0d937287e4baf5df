/**
 * Retry delays: exponential with full jitter and a cap (so many relays retrying one backend do not synchronize),
 * and never shorter than the backend's own Retry-After.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Longest Retry-After we honour; a larger one is cut to this. */
  readonly maxRetryAfterMs?: number;
}

export function retryDelayMs(
  attempt: number,
  options: BackoffOptions,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterSeconds === undefined) return jittered;
  const floor = Math.min(retryAfterSeconds * 1000, options.maxRetryAfterMs ?? 300_000);
  return Math.max(jittered, floor);
}
