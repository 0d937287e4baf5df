import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldValue, seriesLines, seriesPrefix } from '../../../src/integrity/repair-lines.js';
import { parseTimeNs } from '../../../src/integrity/verify-cli.js';

test('series keys escape what line protocol needs, and drop empty tags', () => {
  assert.equal(seriesPrefix({ name: 'cpu load,x=1', tags: { 'host name': 'a,b=c', region: '', az: 'z' } }), 'cpu\\ load\\,x=1,az=z,host\\ name=a\\,b\\=c');
});

test('field values follow the field type from SHOW FIELD KEYS', () => {
  assert.equal(fieldValue(3, ['integer']), '3i');
  assert.equal(fieldValue(9223372036854775807n, ['integer']), '9223372036854775807i');
  assert.equal(fieldValue(3, ['float']), '3');
  assert.equal(fieldValue(3, ['integer', 'float']), '3', 'a conflict between shards is written as float');
  assert.equal(fieldValue(0.1, ['float']), '0.1');
  assert.equal(fieldValue('a "q" \\ b\nc', ['string']), '"a \\"q\\" \\\\ b\nc"');
  assert.equal(fieldValue(false, ['boolean']), 'false');
  assert.equal(fieldValue(null, ['float']), undefined);
});

test('rows become lines; a row of nulls only is skipped', () => {
  const out: string[] = [];
  const n = seriesLines(
    { name: 'm', tags: { t: 'x' }, columns: ['time', 'a', 'b'], values: [[1700000000000000001n, 1, null], [5, null, null]] },
    new Map([['a', ['integer']]]),
    out,
  );
  assert.equal(n, 1);
  assert.deepEqual(out, ['m,t=x a=1i 1700000000000000001']);
});

test('times: RFC 3339 keeps nanoseconds; integers are ns; now-1h is relative', () => {
  assert.equal(parseTimeNs('2023-11-14T22:13:20.123456789Z', 'start'), 1700000000123456789n);
  assert.equal(parseTimeNs('2023-11-14T23:13:20+01:00', 'start'), 1700000000000000000n);
  assert.equal(parseTimeNs('-5', 'start'), -5n);
  assert.equal(parseTimeNs('now-1h', 'start', 10_000_000), 10_000_000n * 1_000_000n - 3_600_000_000_000n);
  assert.throws(() => parseTimeNs('yesterday', 'start'));
});
