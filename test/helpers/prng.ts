/**
 * A small seeded PRNG for randomised tests: the same seed replays the same sequence, so a failure names a seed that
 * reproduces it. mulberry32: 32-bit state, good enough for test choices, not for anything else.
 */
export interface Rng {
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One of the items, chosen by weight (weights > 0). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
}

export function rng(seed: number): Rng {
  let s = seed | 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
      const sum = items.reduce((n, [, w]) => n + w, 0);
      let r = next() * sum;
      for (const [item, w] of items) {
        r -= w;
        if (r < 0) return item;
      }
      return (items[items.length - 1] as readonly [T, number])[0];
    },
  };
}

/** The seed from `envVar` (decimal), or a fresh random one. */
export function seedFrom(envVar: string): number {
  const v = process.env[envVar];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${envVar}=${v}: not an integer`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** The same generator as a bare `(n) => integer in [0, n)`, for tests that need nothing more. */
export function prng(seed: number): (n: number) => number {
  return rng(seed).int;
}
