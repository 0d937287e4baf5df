/**
 * The writer against backends that misbehave in ways a real InfluxDB does not show (issue 8, items 4 and 6):
 * an error answer whose body never ends, and an error page that echoes the request line and headers.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { classify } from '../../../src/backends/outcome.js';
import { MAX_ERROR_BODY, Writer } from '../../../src/backends/writer.js';
import { startFakeBackend, type FakeBackend } from '../../helpers/fake-backend.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function fake(): Promise<FakeBackend> {
  const b = await startFakeBackend();
  cleanup.push(() => b.close());
  return b;
}

function writer(location: string, timeoutMs: number): Writer {
  const w = new Writer({ location, timeoutMs, connections: 1, skipTlsVerification: false });
  cleanup.push(() => w.destroy());
  return w;
}

/** Rejects if `p` has not settled by `ms`: a hung request fails the test instead of hanging it. */
function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

const target = { db: 'd', rp: '', precision: 'n' as const, credentials: {} };
const line = Buffer.from('m v=1 1\n');

test('a 500 whose body trickles forever: the timeout bounds the whole request, the connection is closed', async () => {
  const b = await fake();
  // A byte every 50 ms restarts undici's bodyTimeout every time; below the cap for minutes.
  b.enqueue({ status: 500, stream: { chunk: 'x', everyMs: 50 } });
  const w = writer(b.writeUrl, 500);
  const err = await settlesWithin(
    w.send(target, line).then(
      () => assert.fail('send resolved'),
      (e: unknown) => e as Error & { code?: string },
    ),
    10_000,
    'Writer.send',
  );
  assert.equal(err.code, 'RELAY_WRITE_TIMEOUT', String(err));
  assert.deepEqual(classify(undefined, err), { verdict: 'retry', reason: 'timeout' });
  await b.waitForNoConnections();
});

test('an error body past the cap is cut there and the response abandoned, not drained', async () => {
  const b = await fake();
  // 4 KiB every ms: past the cap in a fraction of a second, endless after that.
  b.enqueue({ status: 503, stream: { chunk: `{"error":"${'y'.repeat(4096)}`, everyMs: 1 } });
  const w = writer(b.writeUrl, 60_000);
  const answer = await settlesWithin(w.send(target, line), 10_000, 'Writer.send');
  assert.equal(answer.status, 503);
  assert.equal(Buffer.byteLength(answer.body), MAX_ERROR_BODY);
  assert.deepEqual(classify(answer), { verdict: 'retry', reason: 'http-503' });
  await b.waitForNoConnections();
  // The writer still works: a fresh connection for the next request.
  const ok = await w.send(target, line);
  assert.equal(ok.status, 204);
});

test("a caller's signal still aborts a request", async () => {
  const b = await fake();
  b.enqueue({ hang: true });
  const w = writer(b.writeUrl, 60_000);
  const ac = new AbortController();
  const sent = w.send(target, line, ac.signal);
  await b.waitForRequests(1);
  ac.abort(new Error('stop'));
  await assert.rejects(settlesWithin(sent, 10_000, 'Writer.send'), /stop/);
});

test('an error page echoing the request line and headers carries no credentials out of the writer', async () => {
  const b = await fake();
  b.setScript((req) => ({
    status: 500,
    body: `<html><pre>POST ${req.url} HTTP/1.1\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\n` +
      `${JSON.stringify({ headers: req.headers, url: `http://127.0.0.1:${b.port}${req.url}` })}</pre></html>`,
  }));
  const secrets = { u: 'alice', p: 'pa55-w0rd' };
  const w = writer(b.writeUrl, 5_000);
  const answer = await w.send({ ...target, credentials: secrets }, line);
  assert.equal(answer.status, 500);
  const sent = b.requests.at(-1)!;
  assert.ok(!sent.url.includes(secrets.p), `the password is not in the request URL: ${sent.url}`);
  const basic = Buffer.from(`${secrets.u}:${secrets.p}`).toString('base64');
  assert.equal(sent.headers.authorization, `Basic ${basic}`);
  assert.ok(answer.body.includes('POST /write?db=d HTTP/1.1'), answer.body);
  assert.ok(!answer.body.includes(secrets.p) && !answer.body.includes(basic), `no credentials in: ${answer.body}`);

  // A location whose query carries credentials (a proxy's own token, say) and a client's own header: same.
  const b2 = await fake();
  b2.setScript((req) => ({ status: 502, body: `upstream failed for ${req.url} (authorization: ${String(req.headers.authorization)})` }));
  const w2 = writer(`${b2.writeUrl}?token=proxy-secret`, 5_000);
  const a2 = await w2.send({ ...target, credentials: { authorization: 'Token client-secret' } }, line);
  assert.equal(a2.status, 502);
  assert.ok(!a2.body.includes('proxy-secret') && !a2.body.includes('client-secret'), a2.body);
});
