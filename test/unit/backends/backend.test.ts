/**
 * The backend's sender loop against a scripted writer: what a waiting client is told, merging, retry order,
 * dead letters, and that one backend's trouble stays its own.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackendOptions } from '../../../src/backends/backend.js';
import type { SentAnswer } from '../../../src/backends/writer.js';
import { makeBatch, type WriteTarget } from '../../../src/batch.js';
import { MemoryQueue } from '../../../src/queue/memory-queue.js';
import { testBackend } from '../../helpers/backend-fixture.js';

const target: WriteTarget = { db: 'db', rp: '', precision: 'n', credentials: {} };
const batch = (line: string, receivedAt = Date.now()) => makeBatch(target, Buffer.from(`${line}\n`), 1, receivedAt);

type Script = (body: string) => Promise<SentAnswer>;

class ScriptedWriter {
  readonly bodies: string[] = [];
  constructor(private script: Script) {}
  set(script: Script) {
    this.script = script;
  }
  async send(_t: WriteTarget, body: Buffer | Buffer[]): Promise<SentAnswer> {
    const text = Array.isArray(body) ? Buffer.concat(body).toString() : body.toString();
    this.bodies.push(text);
    return this.script(text);
  }
  async close() {}
  async destroy() {}
}

const ok: Script = async () => ({ status: 204, body: '', retryAfter: undefined });
const fail = (status: number, body = ''): Script => async () => ({ status, body, retryAfter: undefined });
const refused: Script = async () => {
  throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
};

function make(writer: ScriptedWriter, options: Partial<BackendOptions> = {}, capacity = 1 << 20) {
  return testBackend(new MemoryQueue(capacity), writer, options);
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Backend', () => {
  test('delivered when the backend answers 204', async () => {
    const w = new ScriptedWriter(ok);
    const b = make(w);
    assert.deepEqual(await b.submit(batch('m v=1 1')), { kind: 'delivered' });
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('a non-retryable 4xx reaches the waiting client and is not retried', async () => {
    const w = new ScriptedWriter(fail(404, '{"error":"database not found: \\"db\\""}'));
    const b = make(w);
    const o = await b.submit(batch('m v=1 1'));
    assert.equal(o.kind, 'rejected');
    assert.equal(o.kind === 'rejected' && o.status, 404);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.bodies.length, 1, 'not retried');
    await b.destroy();
  });

  test('a retryable failure answers queued, then retries until delivered, in order', async () => {
    const w = new ScriptedWriter(fail(503));
    const b = make(w);
    assert.deepEqual(await b.submit(batch('m v=1 1')), { kind: 'queued', reason: 'retrying' });
    assert.equal(b.state, 'down');
    assert.deepEqual(await b.submit(batch('m v=2 2')), { kind: 'queued', reason: 'retrying' }, 'in backoff: answered at once');
    w.set(ok);
    await until(() => b.health().queueBatches === 0);
    assert.equal(w.bodies.at(-1), 'm v=1 1\nm v=2 2\n', 'the backlog goes out merged, oldest first');
    assert.equal(b.state, 'up');
    await b.destroy();
  });

  test('untilDelivered waits through retries', async () => {
    let calls = 0;
    const w = new ScriptedWriter(async () => (++calls < 3 ? { status: 500, body: '', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined }));
    const b = make(w);
    assert.deepEqual(await b.submit(batch('m v=1 1'), true), { kind: 'delivered' });
    assert.equal(calls, 3);
    await b.destroy();
  });

  test('a backend that never answers: the client hears "queued" at the timeout', async () => {
    const w = new ScriptedWriter(() => new Promise(() => undefined));
    const b = make(w, { timeoutMs: 50 });
    const started = Date.now();
    assert.deepEqual(await b.submit(batch('m v=1 1')), { kind: 'queued', reason: 'timeout' });
    assert.ok(Date.now() - started < 1000);
    await b.destroy();
  });

  test('queue full → failed, nothing held', async () => {
    const w = new ScriptedWriter(refused);
    const one = batch('m v=1 1');
    const b = make(w, {}, one.body.length);
    assert.equal((await b.submit(one)).kind, 'queued');
    const o = await b.submit(batch('m v=2 2'));
    assert.equal(o.kind, 'failed');
    assert.equal(o.kind === 'failed' && o.reason, 'queue-full');
    assert.equal(b.health().queueBatches, 1);
    assert.equal(b.acceptingWrites, false);
    await b.destroy();
  });

  test('after refusing a batch for want of room, the backend reports full until that much is free', async () => {
    const w = new ScriptedWriter(refused);
    const small = batch('m v=1 1');
    const big = makeBatch(target, Buffer.from('m,tag=' + 'x'.repeat(200) + ' v=1 1\n'), 1);
    const b = make(w, {}, small.body.length * 2 + 100);
    await b.submit(small);
    await b.submit(small);
    assert.equal(b.acceptingWrites, true, '100 bytes free: room for small batches');
    assert.equal((await b.submit(big)).kind, 'failed');
    assert.equal(b.acceptingWrites, false, 'the refused batch still would not fit');
    await b.destroy();
  });

  test('without buffering a failed write is reported failed and dropped', async () => {
    const w = new ScriptedWriter(refused);
    const b = make(w, { retry: false });
    const o = await b.submit(batch('m v=1 1'));
    assert.equal(o.kind, 'failed');
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('a poison batch is dead-lettered past dead-letter-after, and the next one flows', async () => {
    const w = new ScriptedWriter(async (body) => (body.includes('poison') ? { status: 500, body: '{"error":"boom"}', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined }));
    const b = make(w, { deadLetterAfterMs: 30 });
    const old = Date.now() - 60_000;
    const p1 = b.submit(batch('poison v=1 1', old));
    const p2 = b.submit(batch('good v=1 1'));
    assert.equal((await p1).kind, 'failed');
    await until(() => b.health().queueBatches === 0);
    assert.ok(w.bodies.includes('good v=1 1\n'), 'the good batch was delivered after the poison one was set aside');
    assert.equal((await p2).kind, 'delivered');
    await b.destroy();
  });

  test('once its only failing batch is dead-lettered, the backend is no longer reported down', async () => {
    const w = new ScriptedWriter(fail(500, '{"error":"poison"}'));
    const b = make(w, { deadLetterAfterMs: 30 });
    assert.equal((await b.submit(batch('poison v=1 1', Date.now() - 60_000))).kind, 'failed');
    await until(() => b.state === 'up', 1000);
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('network errors never dead-letter: a long outage keeps data', async () => {
    const w = new ScriptedWriter(refused);
    const b = make(w, { deadLetterAfterMs: 1 });
    await b.submit(batch('m v=1 1', Date.now() - 60_000));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.health().queueBatches, 1);
    await b.destroy();
  });

  test('close drains the queue before the deadline', async () => {
    const w = new ScriptedWriter(fail(503));
    const b = make(w);
    await b.submit(batch('m v=1 1'));
    w.set(ok);
    const left = await b.close(Date.now() + 2000);
    assert.deepEqual(left, { batches: 0, bytes: 0 });
    assert.equal((await b.submit(batch('m v=2 2'))).kind, 'failed', 'closed: takes nothing new');
  });
});
