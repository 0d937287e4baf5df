/**
 * Halving a request body that a backend rejected as too large (413): at batch boundaries first, then at the line
 * boundary nearest the middle. Every batch body is whole lines ending in '\n' (src/batch.ts), so both halves are
 * valid line protocol.
 */
const NEWLINE = 0x0a;

/** Two non-empty halves of the bodies, or undefined when they hold a single line (nothing left to split). */
export function splitInHalves(bodies: readonly Buffer[]): [Buffer[], Buffer[]] | undefined {
  if (bodies.length > 1) {
    const mid = bodies.length >> 1;
    return [bodies.slice(0, mid), bodies.slice(mid)];
  }
  const body = bodies[0];
  if (!body || body.length === 0) return undefined;
  const mid = body.length >> 1;
  // The first newline at or after the middle ends the first half; before it, the last one.
  let cut = body.indexOf(NEWLINE, mid);
  if (cut === body.length - 1) cut = body.lastIndexOf(NEWLINE, mid - 1);
  if (cut < 0 || cut >= body.length - 1) return undefined;
  return [[body.subarray(0, cut + 1)], [body.subarray(cut + 1)]];
}

/** Lines in a body (each ends in '\n'). */
export function countLines(bodies: readonly Buffer[]): number {
  let n = 0;
  for (const b of bodies) {
    for (let i = b.indexOf(NEWLINE); i >= 0; i = b.indexOf(NEWLINE, i + 1)) n++;
  }
  return n;
}
