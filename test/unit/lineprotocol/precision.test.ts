import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nowIn, nowNs, parsePrecision, PRECISIONS } from '../../../src/lineprotocol/precision.js';
import type { Precision } from '../../../src/lineprotocol/precision.js';

describe('parsePrecision', () => {
  const table: Array<[string | null | undefined, Precision | undefined]> = [
    [undefined, 'n'],
    [null, 'n'],
    ['', 'n'],
    ['n', 'n'],
    ['ns', 'n'],
    ['u', 'u'],
    ['us', 'u'],
    ['µ', 'u'], // micro sign U+00B5
    ['μ', 'u'], // Greek small mu U+03BC
    ['ms', 'ms'],
    ['s', 's'],
    ['m', 'm'],
    ['h', 'h'],
    ['NS', undefined],
    ['Ms', undefined],
    ['msec', undefined],
    ['x', undefined],
    ['1', undefined],
    [' n', undefined],
    ['constructor', undefined],
    ['__proto__', undefined],
    ['toString', undefined],
  ];
  for (const [input, want] of table) {
    test(`${JSON.stringify(input)} → ${want ?? 'undefined'}`, () => {
      assert.equal(parsePrecision(input), want);
    });
  }

  test('every normalized precision parses to itself', () => {
    for (const p of PRECISIONS) assert.equal(parsePrecision(p), p);
  });
});

describe('nowIn with a fixed clock', () => {
  const nowMs = 1_700_000_000_123;
  const table: Array<[Precision, string]> = [
    ['n', '1700000000123000000'],
    ['u', '1700000000123000'],
    ['ms', '1700000000123'],
    ['s', '1700000000'],
    ['m', '28333333'],
    ['h', '472222'],
  ];
  for (const [p, want] of table) {
    test(`${p} → ${want} (truncated, as InfluxDB does)`, () => {
      assert.equal(nowIn(p, nowMs), want);
    });
  }
});

describe('nowIn with the real clock', () => {
  test('every precision is close to Date.now()', () => {
    const ms = BigInt(Date.now());
    const perMs: Record<Precision, [bigint, bigint]> = {
      // [multiplier, divisor] from milliseconds
      n: [1_000_000n, 1n],
      u: [1_000n, 1n],
      ms: [1n, 1n],
      s: [1n, 1_000n],
      m: [1n, 60_000n],
      h: [1n, 3_600_000n],
    };
    for (const p of PRECISIONS) {
      const [mul, div] = perMs[p];
      const expected = (ms * mul) / div;
      const got = BigInt(nowIn(p));
      const slack = (5_000n * mul) / div + 1n; // 5 s
      assert.ok(got >= expected - slack && got <= expected + slack, `${p}: ${got} vs ${expected}`);
    }
  });

  test('nanosecond stamps advance between calls in the same millisecond', () => {
    const a = nowNs();
    const b = nowNs();
    assert.ok(b > a, `${b} > ${a}`);
    assert.match(nowIn('n'), /^\d{19}$/);
  });
});
