/**
 * The writer with `v2` settings against a plain node:http server: the request an InfluxDB 2.x would see
 * (path, org, bucket, precision, token, body) and how its error answers come back.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { WriteTarget } from '../../../src/batch.js';
import { Writer } from '../../../src/backends/writer.js';

interface Seen {
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (url.searchParams.get('bucket') === 'nope') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"code":"not found","message":"bucket \\"nope\\" not found"}');
      } else if (url.searchParams.get('bucket') === 'busy') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end('{"code":"too many requests","message":"slow down"}');
      } else if (url.searchParams.get('bucket') === 'proxy') {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>bad gateway</html>');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const target = (o: Partial<WriteTarget> = {}): WriteTarget => ({
  db: 'telegraf',
  rp: 'short',
  precision: 'n',
  credentials: { authorization: 'Basic Y2xpZW50OnB3', u: 'client', p: 'pw' },
  ...o,
});
const v2 = (location: string, bucket?: string) =>
  new Writer({
    location,
    timeoutMs: 2000,
    connections: 1,
    skipTlsVerification: false,
    v2: { org: 'acme corp', token: 'secret-token', ...(bucket !== undefined ? { bucket } : {}) },
  });

test('an origin posts to /api/v2/write with org, bucket db/rp, precision, and the token instead of the client\'s credentials', async () => {
  const w = v2(base);
  const a = await w.send(target(), [Buffer.from('m v=1 1\n'), Buffer.from('m v=2 2\n')]);
  assert.equal(a.status, 204);
  const s = seen.at(-1)!;
  assert.equal(s.url.pathname, '/api/v2/write');
  assert.deepEqual(Object.fromEntries(s.url.searchParams), { org: 'acme corp', bucket: 'telegraf/short', precision: 'ns' });
  assert.equal(s.headers.authorization, 'Token secret-token');
  assert.equal(s.body, 'm v=1 1\nm v=2 2\n');
  await w.destroy();
});

test('bucket: db alone without rp, the configured bucket when set; every precision spelled the 2.x way', async () => {
  const w = v2(`${base}/api/v2/write`);
  const spelled: Array<[WriteTarget['precision'], string]> = [['n', 'ns'], ['u', 'us'], ['ms', 'ms'], ['s', 's']];
  for (const [precision, expected] of spelled) {
    await w.send(target({ rp: '', precision }), Buffer.from('m v=1 1\n'));
    const q = seen.at(-1)!.url.searchParams;
    assert.deepEqual([q.get('bucket'), q.get('precision')], ['telegraf', expected]);
  }
  await w.destroy();
  const fixed = v2(`${base}/prefix/api/v2/write?extra=1`, 'metrics');
  await fixed.send(target(), Buffer.from('m v=1 1\n'));
  const s = seen.at(-1)!;
  assert.equal(s.url.pathname, '/prefix/api/v2/write');
  assert.deepEqual(Object.fromEntries(s.url.searchParams), { extra: '1', org: 'acme corp', bucket: 'metrics', precision: 'ns' });
  await fixed.destroy();
});

test('minutes and hours, which 2.x lacks, go as seconds with every timestamp multiplied (merged batches too)', async () => {
  const w = v2(base);
  await w.send(target({ precision: 'm' }), [Buffer.from('m v=1 28333333\n'), Buffer.from('m v=2 28333334\n')]);
  let s = seen.at(-1)!;
  assert.equal(s.url.searchParams.get('precision'), 's');
  assert.equal(s.body, 'm v=1 1699999980\nm v=2 1700000040\n');
  assert.equal(s.headers['content-length'], String(s.body.length), 'the length of the rewritten body');
  await w.send(target({ precision: 'h' }), Buffer.from('m v=1 472222\n'));
  s = seen.at(-1)!;
  assert.deepEqual([s.url.searchParams.get('precision'), s.body], ['s', 'm v=1 1699999200\n']);
  await w.destroy();
});

test('2.x error answers come back as 1.x\'s {"error"} with their status and Retry-After; other bodies as they are', async () => {
  const w = v2(base, 'nope');
  const nf = await w.send(target(), Buffer.from('m v=1 1\n'));
  assert.deepEqual([nf.status, nf.body], [404, '{"error":"bucket \\"nope\\" not found"}']);
  await w.destroy();
  const busy = v2(base, 'busy');
  const a = await busy.send(target(), Buffer.from('m v=1 1\n'));
  assert.deepEqual([a.status, a.body, a.retryAfter], [429, '{"error":"slow down"}', '7']);
  await busy.destroy();
  const proxy = v2(base, 'proxy');
  const p = await proxy.send(target(), Buffer.from('m v=1 1\n'));
  assert.deepEqual([p.status, p.body], [502, '<html>bad gateway</html>']);
  await proxy.destroy();
});
