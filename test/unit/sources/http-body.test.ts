/**
 * readBody on its own, through a node:http server: the decoded-size limit, encodings, gzip bombs, and how much of the
 * relay-wide budget a body holds (decoded bytes, not wire bytes).
 */
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { post, request } from '../../helpers/http.js';
import { BodyBudget, type BodyReservation } from '../../../src/sources/body-budget.js';
import { announcedBytes, BodyError, readBody } from '../../../src/sources/http-body.js';

const MAX = 64 * 1024;
let server: http.Server;
let url: string;
/** The budget the next request reads against, and what its reservation held at the end. */
let budget = new BodyBudget(1 << 30);
let held = 0;

before(async () => {
  server = http.createServer((req: IncomingMessage, res) => {
    const reservation: BodyReservation | undefined = budget.reserve(announcedBytes(req, MAX));
    const answer = (value: unknown) => {
      held = reservation?.bytes ?? 0;
      reservation?.release();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (!reservation) return answer({ refusedUpfront: true });
    readBody(req, req.url === '/whole' ? 16 * MAX : MAX, reservation).then(
      (body) =>
        answer({
          bytes: body.length,
          text: body.subarray(0, 12).toString(),
          ...(req.url === '/whole'
            ? {
                // The body owns its memory whole, so a scan thread can take it without a copy.
                whole: body.byteOffset === 0 && body.buffer.byteLength === body.length,
                same: body.equals(lines(body.length / 8)),
              }
            : {}),
        }),
      (err: unknown) => answer(err instanceof BodyError ? { status: err.status, reason: err.reason } : { other: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const lines = (n: number) => Buffer.from('cpu v=1\n'.repeat(n));

test('identity: the bytes as sent; the reservation holds exactly them', async () => {
  budget = new BodyBudget(1 << 30);
  const res = await post(url, lines(1000));
  assert.deepEqual(res.json, { bytes: 8000, text: 'cpu v=1\ncpu ' });
  assert.equal(held, 8000);
  assert.equal(budget.usedBytes, 0);
});

test('identity with a large Content-Length, in many chunks: the same bytes in one buffer of that size', async () => {
  budget = new BodyBudget(1 << 30);
  const body = lines(20_000);
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${url}whole`, { method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
    });
    req.on('error', reject);
    // Three writes a tick apart: the server sees several chunks.
    req.write(body.subarray(0, 1000));
    setTimeout(() => req.write(body.subarray(1000, 30001)), 20);
    setTimeout(() => req.end(body.subarray(30001)), 40);
  });
  assert.deepEqual(JSON.parse(answer), { bytes: 160_000, text: 'cpu v=1\ncpu ', whole: true, same: true });
});

test('gzip: decoded as it streams; the reservation counts decoded bytes, not wire bytes', async () => {
  budget = new BodyBudget(1 << 30);
  const res = await post(url, lines(5000), { gzip: true });
  assert.deepEqual(res.json, { bytes: 40_000, text: 'cpu v=1\ncpu ' });
  assert.equal(held, 40_000);
});

test('over the limit announced, sent chunked, or inflated from gzip → 413 body-too-large', async () => {
  budget = new BodyBudget(1 << 30);
  const tooLarge = { status: 413, reason: 'body-too-large' };
  assert.deepEqual((await post(url, lines(MAX / 8 + 1))).json, tooLarge);
  const bomb = gzipSync(Buffer.alloc(100 * MAX, 'a'));
  assert.ok(bomb.length < MAX / 10);
  assert.deepEqual((await post(url, bomb, { headers: { 'content-encoding': 'gzip' } })).json, tooLarge);
  assert.ok(held <= MAX, `the bomb held ${held} bytes of budget, at most the limit`);
});

test('unsupported encoding → 415; corrupt gzip → 400', async () => {
  budget = new BodyBudget(1 << 30);
  assert.deepEqual((await post(url, 'x', { headers: { 'content-encoding': 'deflate' } })).json, { status: 415, reason: 'bad-encoding' });
  assert.deepEqual((await post(url, 'x', { headers: { 'content-encoding': 'GZIP ' } })).json, { status: 400, reason: 'bad-gzip' });
});

test('a budget that runs out while the body inflates → 503 bodies-in-flight, and nothing stays reserved', async () => {
  budget = new BodyBudget(20_000);
  const gz = gzipSync(lines(5000)); // 40 KB decoded, well under 20 KB on the wire
  assert.deepEqual((await post(url, gz, { headers: { 'content-encoding': 'gzip' } })).json, { status: 503, reason: 'bodies-in-flight' });
  assert.ok(held <= 20_000);
  assert.equal(budget.usedBytes, 0);
  assert.deepEqual((await request('POST', url, { body: lines(3000) })).json, { refusedUpfront: true }, '24 KB announced does not fit');
});
