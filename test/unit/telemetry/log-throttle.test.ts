// The one throttled-log helper: once per interval per key, and the next line let through counts what was held back.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, LogThrottle } from '../../../src/telemetry/logger.js';

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

test('a key logs once per interval; the next line carries the suppressed count; keys are independent', async () => {
  const { lines, logger } = capture();
  const t = new LogThrottle(1000);
  t.log(logger, 'warn', 'a', { n: 1 }, 'first', 0);
  t.log(logger, 'warn', 'a', { n: 2 }, 'held back', 10);
  t.log(logger, 'warn', 'a', { n: 3 }, 'held back', 20);
  t.log(logger, 'error', 'b', { n: 4 }, 'other key', 30);
  t.log(logger, 'warn', 'a', { n: 5 }, 'after the interval', 1000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    lines.map((l) => [l['msg'], l['level'], l['n'], l['suppressed']]),
    [
      ['first', 40, 1, undefined],
      ['other key', 50, 4, undefined],
      ['after the interval', 40, 5, 2],
    ],
  );
});
