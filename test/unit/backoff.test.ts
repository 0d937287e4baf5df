import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelayMs } from '../../src/backoff.js';

const opts = { initialMs: 100, maxMs: 10_000 };

test('exponential ceiling with full jitter', () => {
  assert.equal(retryDelayMs(0, opts, undefined, () => 0.999999), 99);
  assert.equal(retryDelayMs(3, opts, undefined, () => 0.5), 400);
  assert.equal(retryDelayMs(0, opts, undefined, () => 0), 0);
});

test('capped at max-delay-interval', () => {
  assert.equal(retryDelayMs(20, opts, undefined, () => 0.999999), 9999);
  assert.equal(retryDelayMs(10_000, opts, undefined, () => 0.5), 5000);
});

test('never shorter than Retry-After, which is itself capped', () => {
  assert.equal(retryDelayMs(0, opts, 3, () => 0.5), 3000);
  assert.equal(retryDelayMs(0, { ...opts, maxRetryAfterMs: 60_000 }, 3600, () => 0.5), 60_000);
});
