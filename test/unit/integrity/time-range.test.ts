import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeBatch, type WriteTarget } from '../../../src/batch.js';
import { batchTimeRange, bodyTimeRange, formatNs } from '../../../src/integrity/time-range.js';
import type { Precision } from '../../../src/lineprotocol/precision.js';
import { scanLines } from '../../../src/lineprotocol/scanner.js';

const target = (precision: Precision): WriteTarget => ({ db: 'd', rp: '', precision, credentials: {} });

/** A batch body as the scanner makes it: only valid lines, each stamped. */
function batchOf(text: string, precision: Precision, stamp?: string) {
  const r = scanLines(Buffer.from(text), { precision, ...(stamp !== undefined ? { stamp } : {}) });
  assert.equal(r.errorCount, 0, JSON.stringify(r.errors));
  return makeBatch(target(precision), r.body, r.points);
}

describe('batchTimeRange', () => {
  const perPrecision: Array<[Precision, string, string, bigint, bigint]> = [
    ['n', '1700000000000000002', '1700000000000000001', 1700000000000000001n, 1700000000000000002n],
    ['u', '1700000000000002', '1700000000000001', 1700000000000001000n, 1700000000000002000n],
    ['ms', '1700000000002', '1700000000001', 1700000000001000000n, 1700000000002000000n],
    ['s', '1700000002', '1700000001', 1700000001000000000n, 1700000002000000000n],
    ['m', '28333335', '28333334', 28333334n * 60_000_000_000n, 28333335n * 60_000_000_000n],
    ['h', '472223', '472222', 472222n * 3_600_000_000_000n, 472223n * 3_600_000_000_000n],
  ];
  for (const [p, later, earlier, min, max] of perPrecision) {
    test(`precision ${p}: min and max in ns, whatever the line order`, () => {
      const b = batchOf(`cpu v=1 ${later}\ncpu v=2 ${earlier}\ncpu v=3 ${later}\n`, p);
      assert.deepEqual(batchTimeRange(b), { minNs: min, maxNs: max });
    });
  }

  test('escaped spaces and commas in measurement, tags and keys; spaces and digits inside string fields', () => {
    const text =
      'my\\ cpu,host=a\\ b\\,c v="x 99 y",w="1 2 3" 1700000000000000050\n' +
      'm\\ 1,t\\ 9=v\\ 8 f\\ 7=1i 1700000000000000010\n' +
      'm s="ends in a space and digits 5" 1700000000000000030\n';
    assert.deepEqual(batchTimeRange(batchOf(text, 'n')), { minNs: 1700000000000000010n, maxNs: 1700000000000000050n });
  });

  test('a newline inside a quoted string field is not a line end (InfluxDB line boundaries)', () => {
    const text = 'm s="first 7\nsecond 3" 1700000000000000100\nm v=1 1700000000000000200\n';
    const b = batchOf(text, 'n');
    assert.equal(b.points, 2);
    assert.deepEqual(batchTimeRange(b), { minNs: 1700000000000000100n, maxNs: 1700000000000000200n });
  });

  test('lines stamped by the scanner count with their stamp', () => {
    const b = batchOf('m v=1\nm v=2 1600000000000000000\n', 'n', '1700000000000000000');
    assert.deepEqual(batchTimeRange(b), { minNs: 1600000000000000000n, maxNs: 1700000000000000000n });
  });

  test('negative timestamps and leading zeros compare as numbers', () => {
    const b = batchOf('m v=1 -5\nm v=2 -12\nm v=3 0\nm v=4 007\nm v=5 10\n', 's');
    assert.deepEqual(batchTimeRange(b), { minNs: -12_000_000_000n, maxNs: 10_000_000_000n });
  });

  test('timestamps of different lengths: the longer is larger', () => {
    assert.deepEqual(bodyTimeRange(Buffer.from('m v=1 999\nm v=1 1000\nm v=1 99\n'), 'n'), { minNs: 99n, maxNs: 1000n });
  });

  test('an empty body, or lines without a timestamp, have no range (never a throw)', () => {
    assert.equal(bodyTimeRange(Buffer.alloc(0), 'n'), undefined);
    assert.equal(bodyTimeRange(Buffer.from('m v=1\nm v=2i\n\n'), 'n'), undefined);
  });

  test('a body without a final newline, and CRLF, still count', () => {
    assert.deepEqual(bodyTimeRange(Buffer.from('m v=1 5\r\nm v=1 7'), 'n'), { minNs: 5n, maxNs: 7n });
  });

  test('many lines: one pass, same answer as a naive reading', () => {
    const lines: string[] = [];
    let min = BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
    let max = -1n;
    for (let i = 0; i < 5000; i++) {
      const t = 1700000000000000000n + BigInt((i * 7919) % 100_003) * 1000n + BigInt(i % 997);
      if (t < min) min = t;
      if (t > max) max = t;
      lines.push(`m,host=h${i % 10} v=${i},s="q ${i}" ${t}`);
    }
    assert.deepEqual(bodyTimeRange(Buffer.from(lines.join('\n') + '\n'), 'n'), { minNs: min, maxNs: max });
  });
});

describe('formatNs', () => {
  test('RFC 3339 with nanoseconds, UTC', () => {
    assert.equal(formatNs(1700000000123456789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(formatNs(0n), '1970-01-01T00:00:00.000000000Z');
    assert.equal(formatNs(-1n), '1969-12-31T23:59:59.999999999Z');
  });
});
