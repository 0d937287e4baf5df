import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../../../src/admin/rates.js';

const totals = (o: Record<string, number>) => new Map(Object.entries(o));

test('no rates from one sample; then the change over at least the minimum interval', () => {
  const m = new RateMeter(1000);
  assert.equal(m.observe(0, totals({ a: 10 })).rates.size, 0);
  // Too soon: still nothing, and the first sample is kept as the base.
  assert.equal(m.observe(500, totals({ a: 15 })).rates.size, 0);
  const r = m.observe(2000, totals({ a: 30, b: 4 }));
  assert.equal(r.rates.get('a'), 10);
  assert.equal(r.rates.get('b'), 2, 'a label that appeared was 0 before');
  assert.equal(r.intervalMs, 2000);
  // Within the interval the last rates are repeated, not recomputed over a sliver of time.
  assert.equal(m.observe(2100, totals({ a: 1000 })).rates.get('a'), 10);
});

test('a counter that went down (a reset) gives 0, not a negative rate', () => {
  const m = new RateMeter(1000);
  m.observe(0, totals({ a: 100 }));
  assert.equal(m.observe(1000, totals({ a: 5 })).rates.get('a'), 0);
});
