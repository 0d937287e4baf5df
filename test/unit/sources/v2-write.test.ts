import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketToDbRp, v2Code, v2Credentials } from '../../../src/sources/v2-write.js';

describe('bucket → db and rp, as InfluxDB 1.8 maps them', () => {
  test('db/rp, db alone, and splitting at the first slash', () => {
    assert.deepEqual(bucketToDbRp('telegraf/autogen'), { db: 'telegraf', rp: 'autogen' });
    assert.deepEqual(bucketToDbRp('telegraf'), { db: 'telegraf', rp: '' });
    assert.deepEqual(bucketToDbRp('telegraf/'), { db: 'telegraf', rp: '' });
    assert.deepEqual(bucketToDbRp('a/b/c'), { db: 'a', rp: 'b/c' });
  });
  test('an empty database is refused', () => {
    assert.match((bucketToDbRp('/rp') as { error: string }).error, /empty database/);
    assert.match((bucketToDbRp('') as { error: string }).error, /missing a slash/);
  });
});

describe('credentials of a 2.x write', () => {
  const q = (s = '') => new URLSearchParams(s);
  test('Token user:password becomes u/p, and the header is passed through unchanged', () => {
    assert.deepEqual(v2Credentials('Token alice:s3cr:et', q()), { authorization: 'Token alice:s3cr:et', u: 'alice', p: 's3cr:et' });
  });
  test('a token without a colon (a real 2.x token) is passed through only', () => {
    assert.deepEqual(v2Credentials('Token abcdef==', q()), { authorization: 'Token abcdef==' });
  });
  test('u and p in the query win over the token, as in 1.8', () => {
    assert.deepEqual(v2Credentials('Token a:b', q('u=x&p=y')), { authorization: 'Token a:b', u: 'x', p: 'y' });
  });
  test('other schemes are passed through untouched', () => {
    assert.deepEqual(v2Credentials('Basic YTpi', q()), { authorization: 'Basic YTpi' });
    assert.deepEqual(v2Credentials('Token  a:b', q()), { authorization: 'Token  a:b' }); // Go's Split(" ") gives 3 parts
    assert.deepEqual(v2Credentials(undefined, q()), {});
  });
});

test('2.x error codes by status', () => {
  assert.deepEqual([400, 401, 403, 404, 413, 415, 429, 503, 500, 502, 418].map(v2Code), [
    'invalid', 'unauthorized', 'forbidden', 'not found', 'request too large', 'unsupported media type',
    'too many requests', 'unavailable', 'internal error', 'internal error', 'invalid',
  ]);
});
