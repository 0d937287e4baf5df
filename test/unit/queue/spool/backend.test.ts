/**
 * A spool view as the queue of a real Backend (sender loop, retry, merge), fed the way the fan-out will feed it:
 * append, then submit the same batch. Shows the wiring the relay needs, and that a replayed backlog goes out first.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../../../../src/backends/backend.js';
import type { SentAnswer } from '../../../../src/backends/writer.js';
import type { Batch, WriteTarget } from '../../../../src/batch.js';
import type { Spool } from '../../../../src/queue/spool/spool.js';
import { submit, testBackend } from '../../../helpers/backend-fixture.js';
import { batch, openSpool, tempDir } from './spool-helpers.js';
import { eventually } from '../../../helpers/eventually.js';

class ScriptedWriter {
  readonly bodies: string[] = [];
  status = 204;
  async send(_t: WriteTarget, body: Buffer | Buffer[]): Promise<SentAnswer> {
    this.bodies.push(Array.isArray(body) ? Buffer.concat(body).toString() : body.toString());
    return { status: this.status, body: '', retryAfter: undefined };
  }
  async close() {}
  async destroy() {}
}

function backend(spool: Spool, writer: ScriptedWriter): Backend {
  return testBackend(spool.queue('b'), writer);
}

/** The fan-out's sequence with a spool. */
async function write(spool: Spool, b: Backend, x: Batch) {
  await spool.append(x);
  return submit(b, x, true, 10_000);
}

describe('spool view under a real Backend', () => {
  test('delivered through a retry; once acked, nothing is replayed after a restart', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, { backends: ['b'] });
    const w = new ScriptedWriter();
    w.status = 503;
    let b = backend(spool, w);
    try {
      const pending = write(spool, b, batch('m v=1 1\n'));
      await eventually(() => w.bodies.length >= 1);
      w.status = 204;
      assert.deepEqual(await pending, { kind: 'delivered' });
    } finally {
      await b.destroy();
    }
    await spool.close();

    spool = await openSpool(dir, { backends: ['b'] });
    assert.equal(spool.queue('b').length, 0);
    b = backend(spool, w);
    await b.destroy();
  });

  test('after a restart, the replayed backlog is sent before new writes, merged', async () => {
    const dir = await tempDir();
    let spool = await openSpool(dir, { backends: ['b'] });
    for (const l of ['m v=1 1\n', 'm v=2 2\n']) await spool.append(batch(l)); // the backend never saw them: it was down
    await spool.close();

    spool = await openSpool(dir, { backends: ['b'] });
    const w = new ScriptedWriter();
    const b = backend(spool, w);
    assert.deepEqual(await write(spool, b, batch('m v=3 3\n')), { kind: 'delivered' });
    await eventually(() => spool.queue('b').length === 0);
    assert.deepEqual(w.bodies, ['m v=1 1\nm v=2 2\nm v=3 3\n']);
    await b.destroy();
  });
});
