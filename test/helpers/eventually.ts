/**
 * The tests' one bounded poll, for outcomes no event announces (rows landing in influxd, a counter, a state).
 * Tests only: the product never polls.
 */

/**
 * Calls `check` until it passes: returns without throwing and without returning `false`. Then resolves with what
 * it returned; after `timeoutMs`, rejects with its last error (or says it kept returning false).
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 20): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
      failure = new Error(`condition still false after ${timeoutMs} ms`);
    } catch (err) {
      failure = err;
    }
    if (Date.now() > deadline) throw failure;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
