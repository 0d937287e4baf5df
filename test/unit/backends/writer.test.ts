/**
 * The writer against a plain node:http server: the request InfluxDB would see (path, query, headers, body).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Writer } from '../../../src/backends/writer.js';

interface Seen {
  url: string;
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
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url?.includes('db=missing')) {
        res.writeHead(404, { 'content-type': 'application/json', 'retry-after': '3' });
        res.end('{"error":"database not found: \\"missing\\""}');
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

const target = { db: 'telegraf', rp: 'short', precision: 's' as const, credentials: { u: 'alice', p: 'x&y' } };

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

test('query carries db, rp, precision; the client\'s u/p go as Basic auth; merged bodies go out whole with Content-Length', async () => {
  const w = new Writer({ location: `${base}/write`, timeoutMs: 2000, connections: 2, skipTlsVerification: false, httpUser: 'relay', httpPass: 'pw' });
  const a = await w.send(target, [Buffer.from('m v=1 1\n'), Buffer.from('m v=2 2\n')]);
  assert.equal(a.status, 204);
  const s = seen.at(-1)!;
  const q = new URL(s.url, base).searchParams;
  assert.deepEqual([...q.keys()], ['db', 'rp', 'precision'], 'no credentials in the URL');
  assert.deepEqual([q.get('db'), q.get('rp'), q.get('precision')], ['telegraf', 'short', 's']);
  assert.equal(s.body, 'm v=1 1\nm v=2 2\n');
  assert.equal(s.headers['content-length'], String(s.body.length));
  assert.equal(s.headers['transfer-encoding'], undefined);
  assert.equal(s.headers['authorization'], basic('alice', 'x&y'), "the client's u/p, not the configured Basic auth");
  await w.destroy();
});

test('which credentials go, as InfluxDB 1.x would read the client\'s request', async () => {
  const w = new Writer({ location: `${base}/write`, timeoutMs: 2000, connections: 1, skipTlsVerification: false, httpUser: 'relay', httpPass: 'pw' });
  const rows: Array<[string, { authorization?: string; u?: string; p?: string }, string | undefined]> = [
    ['u/p beat the header (1.x reads them first)', { authorization: 'Token other', u: 'alice', p: 'pw1' }, basic('alice', 'pw1')],
    ['v2 token as user:password', { authorization: 'Token alice:pw1', u: 'alice', p: 'pw1' }, basic('alice', 'pw1')],
    ['u without p: the header', { authorization: basic('bob', 'pw2'), u: 'alice' }, basic('bob', 'pw2')],
    ['u without p and no header: still the client\'s', { u: 'alice' }, basic('alice', '')],
    ['header only', { authorization: 'Bearer jwt' }, 'Bearer jwt'],
    ['nothing: the configured credentials', {}, basic('relay', 'pw')],
  ];
  for (const [name, credentials, expected] of rows) {
    await w.send({ db: 'd', rp: '', precision: 'n', credentials }, Buffer.from('m v=1 1\n'));
    const s = seen.at(-1)!;
    assert.equal(s.headers['authorization'], expected, name);
    assert.equal(s.url, '/write?db=d', name);
  }
  await w.destroy();
});

test('a bare origin posts to /write; n precision is omitted; http-user/http-pass used when the client sent none', async () => {
  const w = new Writer({ location: base, timeoutMs: 2000, connections: 1, skipTlsVerification: false, httpUser: 'relay', httpPass: 'pw' });
  await w.send({ db: 'd', rp: '', precision: 'n', credentials: {} }, Buffer.from('m v=1 1\n'));
  const s = seen.at(-1)!;
  assert.equal(s.url, '/write?db=d');
  assert.equal(s.headers['authorization'], `Basic ${Buffer.from('relay:pw').toString('base64')}`);
  await w.send({ db: 'd', rp: '', precision: 'n', credentials: { authorization: 'Token abc' } }, Buffer.from('m v=1 1\n'));
  assert.equal(seen.at(-1)!.headers['authorization'], 'Token abc', 'the client\'s own credentials win');
  await w.destroy();
});

test('error answers come back with body and Retry-After', async () => {
  const w = new Writer({ location: `${base}/write`, timeoutMs: 2000, connections: 1, skipTlsVerification: false });
  const a = await w.send({ db: 'missing', rp: '', precision: 'n', credentials: {} }, Buffer.from('m v=1 1\n'));
  assert.equal(a.status, 404);
  assert.match(a.body, /database not found/);
  assert.equal(a.retryAfter, '3');
  await w.destroy();
});

test('a refused connection rejects (the backend classifies it as retryable)', async () => {
  const w = new Writer({ location: 'http://127.0.0.1:1/write', timeoutMs: 1000, connections: 1, skipTlsVerification: false });
  await assert.rejects(w.send(target, Buffer.from('m v=1 1\n')), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  await w.destroy();
});

test('a statement goes to /query next to /write as a form (q, db, rp) with the same Basic auth; a 2.x backend is not asked', async () => {
  for (const [location, path] of [[`${base}/write`, '/query'], [`${base}/influx/write`, '/influx/query'], [base, '/query']] as const) {
    const w = new Writer({ location, timeoutMs: 2000, connections: 1, skipTlsVerification: false });
    const before = seen.length;
    const a = await w.statement(target, Buffer.from('CREATE DATABASE "telegraf"'));
    assert.equal(a.status, 204);
    const s = seen.at(-1)!;
    assert.equal(seen.length, before + 1);
    assert.equal(s.url, path, location);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(s.body)), { q: 'CREATE DATABASE "telegraf"', db: 'telegraf', rp: 'short' });
    assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(s.headers['authorization'], basic('alice', 'x&y'));
    await w.destroy();
  }
  const v2 = new Writer({ location: base, timeoutMs: 2000, connections: 1, skipTlsVerification: false, v2: { org: 'o', token: 't' } });
  const before = seen.length;
  const a = await v2.statement(target, Buffer.from('CREATE DATABASE x'));
  assert.equal(a.status, 501);
  assert.match(a.body, /1\.x backends only/);
  assert.equal(seen.length, before, 'nothing sent');
  await v2.destroy();
});
