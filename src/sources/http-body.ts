/**
 * Reads a request body whole, bounded: the limit applies to the decoded size (a small gzip body can inflate a lot),
 * and gzip is decoded as it streams in, so an oversized or over-budget body is refused before it is all in memory.
 * With a reservation of the relay-wide body budget, every decoded byte is reserved before it is kept (503 when the
 * budget is exhausted). A corrupt or truncated gzip body is the client's error (400), never a 5xx or a dropped
 * connection. After a refusal the rest of the body is read and discarded, so the answer goes out on a healthy
 * connection.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { BodyPool } from '../body-pool.js';
import type { BodyReservation } from './body-budget.js';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 503,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/**
 * Bodies announced at least this large are read into one buffer of their size (see collect()). Smaller ones usually
 * arrive in one socket chunk, which is then the body itself, without a copy.
 */
const PREALLOCATE_MIN_BYTES = 64 * 1024;

/** The relay-wide budget's refusal reason (a label of `influx_relay_requests_refused_total`). */
export const OVER_BUDGET = 'bodies-in-flight';

export function overBudget(): BodyError {
  return new BodyError(503, 'too many request bodies in flight in the relay (max-bodies-in-flight-mb): retry later', OVER_BUDGET);
}

/** What to reserve before reading: the announced Content-Length, capped at the per-request limit (0 when unknown). */
export function announcedBytes(req: IncomingMessage, maxBytes: number): number {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > 0 ? Math.min(declared, maxBytes) : 0;
}

/** With a pool, a large body with a Content-Length is read into pooled memory: the caller then owns it (body-pool.ts). */
export async function readBody(req: IncomingMessage, maxBytes: number, reservation?: BodyReservation, pool?: BodyPool): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== '') {
    req.resume();
    throw new BodyError(415, `unsupported Content-Encoding: ${encoding} (gzip and identity are accepted)`, 'bad-encoding');
  }
  const declared = Number(req.headers['content-length']);
  if (encoding !== 'gzip' && Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge(maxBytes);
  }
  const gzip = encoding === 'gzip';
  const preallocateFrom = pool?.minBytes ?? PREALLOCATE_MIN_BYTES;
  return collect(req, maxBytes, gzip, reservation, !gzip && Number.isFinite(declared) && declared >= preallocateFrom ? declared : 0, pool);
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, `request body too large: the limit is ${maxBytes} bytes after decoding`, 'body-too-large');
}

/**
 * Collects the decoded body. More than maxBytes raw is refused too (gzip never shrinks line protocol below 1:1 in
 * practice), and so is more than maxBytes decoded.
 *
 * With a Content-Length (and no gzip), the body is copied into one buffer of that size as it arrives: each socket
 * chunk is freed at once instead of living until a final concat, which halves a large body's peak memory and keeps
 * the allocator from fragmenting under many concurrent bodies (resident memory under load).
 */
function collect(req: IncomingMessage, maxBytes: number, gzip: boolean, reservation: BodyReservation | undefined, length: number, pool: BodyPool | undefined): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] = [];
    // One allocation of the announced size (see above), from the pool when it serves that size.
    let whole = length > 0 ? (pool?.take(length) ?? Buffer.allocUnsafeSlow(length)) : undefined;
    let raw = 0;
    let decoded = 0;
    let done = false;
    const gunzip = gzip ? createGunzip() : undefined;

    const fail = (err: Error) => {
      if (done) return;
      done = true;
      chunks.length = 0;
      if (whole) pool?.giveBack(whole); // nobody else saw it
      whole = undefined;
      gunzip?.destroy();
      reject(err);
    };
    const keep = (chunk: Buffer) => {
      if (done) return;
      decoded += chunk.length;
      if (decoded > maxBytes) return fail(tooLarge(maxBytes));
      if (reservation && !reservation.ensure(decoded)) return fail(overBudget());
      if (whole && decoded <= whole.length) chunk.copy(whole, decoded - chunk.length);
      else {
        // More than announced (node's parser does not let this happen): keep what came, as chunks.
        // (The chunks then keep pooled memory that nobody owns: it is never returned, and the GC frees it.)
        if (whole) chunks = [whole.subarray(0, decoded - chunk.length)];
        whole = undefined;
        chunks.push(chunk);
      }
    };
    const finish = () => {
      if (done) return;
      done = true;
      if (whole) resolve(decoded === whole.length ? whole : whole.subarray(0, decoded));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, decoded));
    };

    if (gunzip) {
      gunzip.on('data', keep);
      gunzip.on('end', finish);
      gunzip.on('error', (err) => fail(new BodyError(400, `unable to decode gzip body: ${err.message}`, 'bad-gzip')));
    }
    // After a failure the data handler stays: it reads and discards the rest.
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      raw += chunk.length;
      if (raw > maxBytes) return fail(tooLarge(maxBytes));
      if (gunzip) gunzip.write(chunk);
      else keep(chunk);
    });
    req.on('end', () => {
      if (done) return;
      if (gunzip) gunzip.end();
      else finish();
    });
    req.on('error', fail);
    req.on('aborted', () => fail(new Error('client aborted the request')));
  });
}
