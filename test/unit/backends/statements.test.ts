/**
 * Statement batches in a backend's sender loop (scripted writer): sent alone to /query, in their place among the
 * writes, never set aside, and their answers read as influxd words them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SentAnswer } from '../../../src/backends/writer.js';
import { makeBatch, makeStatement, type WriteTarget } from '../../../src/batch.js';
import { MemoryQueue } from '../../../src/queue/memory-queue.js';
import { submit, testBackend } from '../../helpers/backend-fixture.js';
import { eventually } from '../../helpers/eventually.js';

const target: WriteTarget = { db: 'db', rp: '', precision: 'n', credentials: {} };
const write = (line: string) => makeBatch(target, Buffer.from(`${line}\n`), 1);
const statement = (q: string) => makeStatement(target, Buffer.from(q));
const answer = (status: number, body = ''): SentAnswer => ({ status, body, retryAfter: undefined });
const CREATED = '{"results":[{"statement_id":0}]}';

/** Logs every request as `write:<body>` or `statement:<q>`; answers what the script says for it. */
class Writer {
  readonly log: string[] = [];
  constructor(public script: (request: string) => Promise<SentAnswer>) {}
  async send(_t: WriteTarget, body: Buffer | Buffer[]): Promise<SentAnswer> {
    const text = (Array.isArray(body) ? Buffer.concat(body) : body).toString();
    this.log.push(`write:${text}`);
    return this.script(`write:${text}`);
  }
  async statement(_t: WriteTarget, q: Buffer): Promise<SentAnswer> {
    this.log.push(`statement:${q.toString()}`);
    return this.script(`statement:${q.toString()}`);
  }
  async close() {}
  async destroy() {}
}

const refused = async (): Promise<SentAnswer> => {
  throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
};
const ok = async (r: string) => (r.startsWith('statement:') ? answer(200, CREATED) : answer(204));

describe('statement batches', () => {
  test('a backlog goes out in order: writes before the statement merged, the statement alone, then the rest', async () => {
    const w = new Writer(refused);
    const b = testBackend(new MemoryQueue(1 << 20), w);
    for (const batch of [write('m v=1 1'), write('m v=2 2'), statement('CREATE DATABASE x'), write('m v=3 3'), write('m v=4 4')]) {
      assert.equal((await submit(b, batch)).kind, 'queued');
    }
    w.script = ok;
    await eventually(() => b.health().queueBatches === 0);
    // Before: the attempts that met the backend down.
    assert.deepEqual(w.log.slice(-3), [
      'write:m v=1 1\nm v=2 2\n',
      'statement:CREATE DATABASE x',
      'write:m v=3 3\nm v=4 4\n',
    ]);
    await b.destroy();
  });

  test('a statement that fails with 500 is retried in its place, not set aside: the writes behind it wait', async () => {
    let failures = 2;
    const w = new Writer(async (r) => (r.startsWith('statement:') && failures-- > 0 ? answer(500, '{"error":"timeout"}') : ok(r)));
    const b = testBackend(new MemoryQueue(1 << 20), w, { initialDelayMs: 5, maxDelayMs: 10 });
    const created = submit(b, statement('CREATE DATABASE x'), true);
    const written = submit(b, write('m v=1 1'), true);
    assert.deepEqual(await created, { kind: 'delivered', body: CREATED });
    assert.deepEqual(await written, { kind: 'delivered' });
    assert.deepEqual(w.log, ['statement:CREATE DATABASE x', 'statement:CREATE DATABASE x', 'statement:CREATE DATABASE x', 'write:m v=1 1\n']);
    await b.destroy();
  });

  test('an error inside a 200\'s results is a rejection with influxd\'s body, not retried', async () => {
    const body = '{"results":[{"statement_id":0,"error":"database not found: nope"}]}';
    const w = new Writer(async () => answer(200, body));
    const b = testBackend(new MemoryQueue(1 << 20), w);
    assert.deepEqual(await submit(b, statement('CREATE RETENTION POLICY r ON nope DURATION 1h REPLICATION 1')), {
      kind: 'rejected', status: 200, body, reason: 'statement-error',
    });
    assert.equal(w.log.length, 1);
    await b.destroy();
  });
});
