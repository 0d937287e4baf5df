/**
 * Reads a request body whole, bounded: the limit applies to the decoded size (a small gzip body can inflate a lot).
 * A corrupt or truncated gzip body is the client's error (400), never a 5xx or a dropped connection.
 */
import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
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
  const raw = await collect(req, maxBytes);
  if (encoding !== 'gzip') return raw;
  return new Promise<Buffer>((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxBytes }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return reject(tooLarge(maxBytes));
      reject(new BodyError(400, `unable to decode gzip body: ${err.message}`, 'bad-gzip'));
    });
  });
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, `request body too large: the limit is ${maxBytes} bytes after decoding`, 'body-too-large');
}

/** Collects the raw body; more than maxBytes raw is refused too (gzip never shrinks line protocol below 1:1 in practice). */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        // Keep reading (and discarding) so the 413 can be sent on a healthy connection.
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    req.on('aborted', () => {
      if (done) return;
      done = true;
      reject(new Error('client aborted the request'));
    });
  });
}
