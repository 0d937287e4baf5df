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
import { submit, testBackend } from '../../helpers/backend-fixture.js';
import { eventually } from '../../helpers/eventually.js';

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

describe('Backend', () => {
  test('delivered when the backend answers 204', async () => {
    const w = new ScriptedWriter(ok);
    const b = make(w);
    assert.deepEqual(await submit(b, batch('m v=1 1')), { kind: 'delivered' });
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('a non-retryable 4xx reaches the waiting client and is not retried', async () => {
    const w = new ScriptedWriter(fail(404, '{"error":"database not found: \\"db\\""}'));
    const b = make(w);
    const o = await submit(b, batch('m v=1 1'));
    assert.equal(o.kind, 'rejected');
    assert.equal(o.kind === 'rejected' && o.status, 404);
    assert.equal(b.health().queueBatches, 0, 'settled: nothing left to retry');
    // The next request the backend sees is the next batch, not the rejected one again.
    w.set(ok);
    assert.deepEqual(await submit(b, batch('m v=2 2')), { kind: 'delivered' });
    assert.deepEqual(w.bodies, ['m v=1 1\n', 'm v=2 2\n'], 'not retried');
    await b.destroy();
  });

  test('a backend that is down: the client hears queued, and the backlog goes out merged, oldest first', async () => {
    const w = new ScriptedWriter(refused);
    const b = make(w);
    assert.deepEqual(await submit(b, batch('m v=1 1')), { kind: 'queued', reason: 'retrying' });
    assert.equal(b.state, 'down');
    assert.deepEqual(await submit(b, batch('m v=2 2')), { kind: 'queued', reason: 'retrying' }, 'in backoff: answered at once');
    w.set(ok);
    await eventually(() => b.health().queueBatches === 0);
    assert.equal(w.bodies.at(-1), 'm v=1 1\nm v=2 2\n', 'the backlog goes out merged, oldest first');
    assert.equal(b.state, 'up');
    await b.destroy();
  });

  test('untilDelivered waits through retries', async () => {
    let calls = 0;
    const w = new ScriptedWriter(async () => (++calls < 3 ? { status: 500, body: '', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined }));
    const b = make(w);
    assert.deepEqual(await submit(b, batch('m v=1 1'), true), { kind: 'delivered' });
    assert.equal(calls, 3);
    await b.destroy();
  });

  test('a backend that never answers: the client hears "queued" at the answer deadline', async () => {
    const w = new ScriptedWriter(() => new Promise(() => undefined));
    const b = make(w);
    const started = Date.now();
    assert.deepEqual(await submit(b, batch('m v=1 1'), false, 50), { kind: 'queued', reason: 'in-flight' });
    assert.ok(Date.now() - started < 1000);
    await b.destroy();
  });

  test('reject: a batch that does not fit is refused, nothing held, and the backend reports full', async () => {
    const w = new ScriptedWriter(refused);
    const one = batch('m v=1 1');
    const b = make(w, {}, one.body.length);
    assert.equal((await submit(b, one)).kind, 'queued');
    assert.equal(b.fits(one.body.length), false);
    b.markFull(one.body.length);
    assert.equal(b.health().queueBatches, 1);
    assert.equal(b.acceptingWrites, false);
    await b.destroy();
  });

  test('after refusing a batch for want of room, the backend reports full until that much is free', async () => {
    const w = new ScriptedWriter(refused);
    const small = batch('m v=1 1');
    const big = makeBatch(target, Buffer.from('m,tag=' + 'x'.repeat(200) + ' v=1 1\n'), 1);
    const b = make(w, {}, small.body.length * 2 + 100);
    await submit(b, small);
    await submit(b, small);
    assert.equal(b.acceptingWrites, true, '100 bytes free: room for small batches');
    assert.equal(b.fits(big.body.length), false);
    b.markFull(big.body.length);
    assert.equal(b.acceptingWrites, false, 'the refused batch still would not fit');
    await b.destroy();
  });

  test('drop-oldest: the oldest queued batches make room, are recorded as missed, and the backend stays accepting', async () => {
    const w = new ScriptedWriter(refused);
    const missed: Array<[string, string]> = [];
    const one = batch('m v=1 1');
    const b = testBackend(new MemoryQueue(one.body.length * 2), w, { whenFull: 'drop-oldest', maxInFlight: 1 }, undefined, {
      record: (backend, batch, reason) => missed.push([batch.body.toString(), reason]),
    });
    await submit(b, batch('m v=1 1'));
    await eventually(() => b.state === 'down');
    // In backoff now: v=1 is pending again (not in flight), so it is the one dropped.
    await submit(b, batch('m v=2 2'));
    assert.equal(b.fits(100), true, 'drop-oldest never refuses');
    assert.equal((await submit(b, batch('m v=3 3'))).kind, 'queued');
    assert.deepEqual(missed, [['m v=1 1\n', 'queue-full']]);
    assert.equal(b.health().queueBatches, 2);
    assert.equal(b.acceptingWrites, true, '/health stays 200 under drop-oldest');
    await b.destroy();
  });

  test('drop-oldest drops only while the backend is down: one that is up but slow pushes back instead', async () => {
    const w = new ScriptedWriter(() => new Promise(() => undefined)); // answers nothing: in flight, not failing
    const missed: string[] = [];
    const one = batch('m v=1 1');
    const b = testBackend(new MemoryQueue(one.body.length * 2), w, { whenFull: 'drop-oldest' }, undefined, {
      record: (_n, x) => missed.push(x.body.toString()),
    });
    await submit(b, batch('m v=1 1'), false, 10);
    await submit(b, batch('m v=2 2'), false, 10);
    assert.equal(b.state, 'up');
    assert.equal(b.fits(one.body.length), false, 'full, and not down: the fan-out refuses (503), nothing is dropped');
    assert.equal(b.acceptingWrites, false, '/health says so');
    assert.deepEqual(missed, []);
    await b.destroy();
  });

  test('a refusal after the client heard 204 is recorded as missed; one the client hears itself is not', async () => {
    let answer: (a: SentAnswer) => void = () => undefined;
    const w = new ScriptedWriter(() => new Promise<SentAnswer>((resolve) => (answer = resolve)));
    const missed: string[] = [];
    const b = testBackend(new MemoryQueue(1 << 20), w, {}, undefined, { record: (_n, x, reason) => missed.push(`${reason}:${x.body.toString()}`) });
    const notFound: SentAnswer = { status: 404, body: '{"error":"database not found: \\"db\\""}', retryAfter: undefined };
    // Answered within the deadline: the client gets the 404, nothing was promised.
    const heard = submit(b, batch('m v=1 1'), false, 5000);
    await eventually(() => w.bodies.length === 1);
    answer(notFound);
    assert.equal((await heard).kind, 'rejected');
    assert.deepEqual(missed, []);
    // Past the deadline the client heard "queued" (204); the refusal that follows is a loss for this backend.
    assert.deepEqual(await submit(b, batch('m v=2 2'), false, 10), { kind: 'queued', reason: 'in-flight' });
    await eventually(() => w.bodies.length === 2);
    answer(notFound);
    await eventually(() => missed.length === 1);
    assert.deepEqual(missed, ['database-not-found:m v=2 2\n']);
    await b.destroy();
  });

  test('without buffering a failed write is reported failed and dropped', async () => {
    const w = new ScriptedWriter(refused);
    const b = make(w, { retry: false });
    const o = await submit(b, batch('m v=1 1'));
    assert.equal(o.kind, 'failed');
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('a poison batch is dead-lettered past dead-letter-after, and the next one flows', async () => {
    const w = new ScriptedWriter(async (body) => (body.includes('poison') ? { status: 500, body: '{"error":"boom"}', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined }));
    const b = make(w, { deadLetterAfterMs: 30 });
    const old = Date.now() - 60_000;
    const p1 = submit(b, batch('poison v=1 1', old));
    const p2 = submit(b, batch('good v=1 1'));
    assert.equal((await p1).kind, 'failed');
    await eventually(() => b.health().queueBatches === 0);
    assert.ok(w.bodies.includes('good v=1 1\n'), 'the good batch was delivered after the poison one was set aside');
    assert.equal((await p2).kind, 'delivered');
    await b.destroy();
  });

  test('once its only failing batch is dead-lettered, the backend is no longer reported down', async () => {
    const w = new ScriptedWriter(fail(500, '{"error":"poison"}'));
    const b = make(w, { deadLetterAfterMs: 30 });
    assert.equal((await submit(b, batch('poison v=1 1', Date.now() - 60_000))).kind, 'failed');
    await eventually(() => b.state === 'up', 1000);
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('a batch the backend keeps failing is set aside at once: the queue behind it flows, and it is dead-lettered', async () => {
    const w = new ScriptedWriter(async (body) => (body.includes('poison') ? { status: 500, body: '{"error":"boom"}', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined }));
    const deadLetters: string[] = [];
    const missed: string[] = [];
    const b = testBackend(new MemoryQueue(1 << 20), w, {}, undefined, { record: (_n, batch, reason) => missed.push(`${reason}:${batch.body.toString()}`) });
    (b as unknown as { deps: { deadLetters: unknown } }).deps.deadLetters = { write: async (_n: string, batch: { body: Buffer }) => void deadLetters.push(batch.body.toString()) };
    const p1 = submit(b, batch('poison v=1 1'), true, 5000);
    const goods = [2, 3, 4, 5].map((i) => submit(b, batch(`good v=${i} ${i}`), true, 5000));
    for (const g of goods) assert.deepEqual(await g, { kind: 'delivered' }, 'later batches are delivered while the poison one waits apart');
    assert.equal((await p1).kind, 'failed', 'dead-lettered after a few tries, not after dead-letter-after (1 h here)');
    assert.deepEqual(deadLetters, ['poison v=1 1\n']);
    assert.deepEqual(missed, ['dead-letter:poison v=1 1\n']);
    await eventually(() => b.state === 'up');
    await b.destroy();
  });

  test('every request failing is a sick backend, not poison: nothing is dead-lettered', async () => {
    const w = new ScriptedWriter(fail(500, '{"error":"timeout"}'));
    const b = make(w);
    for (let i = 0; i < 5; i++) void submit(b, batch(`m v=${i} ${i}`));
    await eventually(() => w.bodies.length > 20);
    assert.equal(b.state, 'down');
    assert.equal(b.health().queueBatches, 5, 'all kept for retry');
    await b.destroy();
  });

  test('413: the request is split at line boundaries and the halves resent; a line too large alone is dead-lettered', async () => {
    // The "backend" takes bodies of at most 3 lines, and never the line with "huge" in it.
    const w = new ScriptedWriter(async (body) => {
      const lines = body.split('\n').filter(Boolean);
      return lines.length > 3 || body.includes('huge') ? { status: 413, body: '{"error":"Request Entity Too Large"}', retryAfter: undefined } : { status: 204, body: '', retryAfter: undefined };
    });
    const missed: string[] = [];
    const b = testBackend(new MemoryQueue(1 << 20), w, {}, undefined, { record: (_n, batch, reason) => missed.push(`${reason}:${batch.body.toString()}`) });
    const lines = Array.from({ length: 10 }, (_, i) => `m v=${i} ${i}`);
    const whole = makeBatch(target, Buffer.from(lines.join('\n') + '\n'), 10);
    assert.deepEqual(await submit(b, whole), { kind: 'delivered' });
    const landed = w.bodies.filter((x) => x.split('\n').filter(Boolean).length <= 3).flatMap((x) => x.split('\n').filter(Boolean));
    assert.deepEqual(landed.sort(), [...lines].sort(), 'every line landed once, in parts small enough');
    const mixed = makeBatch(target, Buffer.from('a v=1 1\nhuge v=2 2\nc v=3 3\n'), 3);
    const o = await submit(b, mixed);
    assert.equal(o.kind === 'rejected' && o.status, 413, 'the client hears 413 for the line no backend request can carry');
    assert.deepEqual(missed, ['too-large:huge v=2 2\n']);
    assert.ok(w.bodies.includes('a v=1 1\n') && w.bodies.includes('c v=3 3\n'), 'its neighbours were delivered');
    assert.equal(b.health().queueBatches, 0);
    await b.destroy();
  });

  test('network errors never dead-letter: a long outage keeps data', async () => {
    const w = new ScriptedWriter(refused);
    const b = make(w, { deadLetterAfterMs: 1 });
    await submit(b, batch('m v=1 1', Date.now() - 60_000));
    await eventually(() => w.bodies.length >= 5); // retried several times, each long past deadLetterAfterMs
    assert.equal(b.health().queueBatches, 1);
    await b.destroy();
  });

  test('close drains the queue before the deadline', async () => {
    const w = new ScriptedWriter(fail(503));
    const b = make(w);
    await submit(b, batch('m v=1 1'));
    w.set(ok);
    const left = await b.close(Date.now() + 2000);
    assert.deepEqual(left, { batches: 0, bytes: 0 });
    assert.equal((await submit(b, batch('m v=2 2'))).kind, 'failed', 'closed: takes nothing new');
  });
});
