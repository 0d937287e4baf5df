import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from '../../../src/config/duration.js';

test('Go durations convert to exact milliseconds', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['300ms', 300],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['500μs', 0.5],
    ['1000000ns', 1],
    ['.5s', 500],
    ['5.s', 5000],
    ['+10s', 10_000],
    ['-10s', -10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('non-durations are rejected', () => {
  for (const text of ['', '10', '1.5', 's', '.s', '10 s', '10S', '1d', '10sec', '1h30', 'ms10', '-', '1e3s', '3000000h']) {
    assert.equal(parseGoDuration(text), undefined, JSON.stringify(text));
  }
});
